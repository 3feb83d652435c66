//! Counters and per-interval samples. Traffic is counted when a node transmits (so lost
//! datagrams count), split by message type as peeked from the frame bytes; acks separately.

use serde::Serialize;

use crate::sim::dist::Dist;
use crate::sim::frame::{FrameKind, classify, known_codes};
use crate::time::Time;

/// Traffic within some span: datagrams and bytes by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traffic {
    /// Data frames (RELOAD messages), all types.
    pub messages: u64,
    /// Bytes of every frame sent, data and ack, frame headers included.
    pub bytes: u64,
    /// Ack frames.
    pub acks: u64,
    /// Data frames per message type, indexed like [`Metrics::method_names`], with one
    /// final slot for unknown or unreadable codes.
    pub by_method: Vec<u64>,
    /// Bytes of data frames per message type, indexed like `by_method`.
    pub bytes_by_method: Vec<u64>,
}

impl Traffic {
    fn new(methods: usize) -> Traffic {
        Traffic {
            messages: 0,
            bytes: 0,
            acks: 0,
            by_method: vec![0; methods + 1],
            bytes_by_method: vec![0; methods + 1],
        }
    }

    fn clear(&mut self) {
        self.messages = 0;
        self.bytes = 0;
        self.acks = 0;
        self.by_method.iter_mut().for_each(|c| *c = 0);
        self.bytes_by_method.iter_mut().for_each(|c| *c = 0);
    }
}

/// Run-wide event counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Datagrams handed to the network.
    pub datagrams_sent: u64,
    /// Datagrams delivered to a live node.
    pub datagrams_delivered: u64,
    /// Datagrams dropped by the loss model.
    pub datagrams_lost: u64,
    /// Datagrams that reached a dead slot or an old incarnation.
    pub datagrams_to_dead: u64,
    /// Datagrams to an address that is no simulated node.
    pub datagrams_unroutable: u64,
    /// Timer wake-ups delivered to nodes.
    pub timer_wakeups: u64,
    /// Links closed on purpose by a node (the other end is told after the latency).
    pub link_closes: u64,
    /// Stale timer entries skipped (rescheduled, or of a dead incarnation).
    pub timer_stale: u64,
    /// Node lives started (first arrivals and rejoins).
    pub arrivals: u64,
    /// Rejoins after a down time.
    pub rejoins: u64,
    /// Peers that reached Joined.
    pub joins: u64,
    /// Clients that connected to their peer (first time per life).
    pub clients_connected: u64,
    /// `join`/`start_overlay` commands refused by the node.
    pub join_refused: u64,
    /// Join attempts that gave up (`Event::JoinAttemptFailed`); each is followed by
    /// another attempt with the next bootstrap address.
    pub join_attempts_failed: u64,
    /// Crashes.
    pub crashes: u64,
    /// Graceful leaves started.
    pub leaves: u64,
    /// Leaves cut short by the 5 s cap.
    pub leave_cap_hits: u64,
    /// Lookups the node refused to start (`ping` returned an error).
    pub lookups_refused: u64,
    /// Registrations the node refused to start (`register` returned an error).
    pub registers_refused: u64,
    /// Registration stores (first stores and refreshes) answered with store_ans.
    pub stores_ok: u64,
    /// Registration stores that failed (timeout, error, no route).
    pub stores_failed: u64,
    /// Calls whose registration Fetches were answered (found or not).
    pub call_fetches_ok: u64,
    /// Calls whose registration Fetch failed (timeout, error, no route).
    pub call_fetches_failed: u64,
    /// Calls the caller refused to start (`call` returned an error).
    pub calls_refused: u64,
    /// Calls due while no peer was joined (not placed).
    pub calls_skipped: u64,
    /// Datagrams (and link closes) dropped by a partition (`[[events]]`).
    #[serde(skip_serializing_if = "is_zero")]
    pub datagrams_partitioned: u64,
    /// Datagrams (and link closes) held by a hold until its release.
    #[serde(skip_serializing_if = "is_zero")]
    pub datagrams_held: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One row of the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// End of the interval.
    pub time: Time,
    /// Peer slots with a node (any state); clients are counted apart.
    pub live_peers: u64,
    /// Client slots with a node (any state).
    pub live_clients: u64,
    /// Joined, alive peers.
    pub joined_peers: u64,
    /// Peers of the initial arrival schedule that have neither joined yet nor gone: the
    /// overlay the scenario asked for is complete when this is 0.
    pub initial_unjoined: u64,
    /// Fraction of joined peers whose first successor is the true one.
    pub ring_correct_fraction: Option<f64>,
    /// Lookups issued in the interval.
    pub lookups_issued: u64,
    /// Lookups answered in the interval.
    pub lookups_ok: u64,
    /// Lookups failed in the interval (timeout, error, no route).
    pub lookups_failed: u64,
    /// Traffic sent in the interval.
    pub traffic: Traffic,
    /// Live registrations at the end of the interval: acknowledged, not expired, node alive.
    pub registrations_live: u64,
    /// Of those, held by the AoR's true responsible peer.
    pub registrations_available: u64,
    /// registrations_available / registrations_live; undefined when none are live.
    pub availability: Option<f64>,
    /// Calls placed in the interval.
    pub calls_issued: u64,
    /// Calls that reached a callee in the interval.
    pub calls_ok: u64,
    /// Calls that failed in the interval (any outcome but ok; origin_gone excluded).
    pub calls_failed: u64,
    /// Registration stores answered with store_ans in the interval.
    pub stores_ok: u64,
    /// Registration stores that failed in the interval.
    pub stores_failed: u64,
    /// Calls finished in the interval whose registration Fetches were answered.
    pub call_fetches_ok: u64,
    /// Calls finished in the interval whose registration Fetch failed.
    pub call_fetches_failed: u64,
}

/// Who is in the run at a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Population {
    /// Peer slots with a node.
    pub live_peers: u64,
    /// Client slots with a node.
    pub live_clients: u64,
    /// Joined peers.
    pub joined_peers: u64,
    /// Initial peers neither joined nor gone.
    pub initial_unjoined: u64,
}

/// Names of the per-type traffic columns, in column order (`unknown` not included): the
/// same for every run.
pub fn method_names() -> Vec<&'static str> {
    known_codes()
        .iter()
        .map(|&c| crate::proto::wire::message::code_name(c).unwrap_or("unknown"))
        .collect()
}

/// Counters, traffic totals and the time series.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Run-wide counters.
    pub counters: Counters,
    /// Traffic of the whole run.
    pub total: Traffic,
    /// Peers' join times: arrival to Joined, ns (first join of each life).
    pub join_time: Dist,
    /// Clients' connect times: arrival to connected, ns (first of each life).
    pub connect_time: Dist,
    interval: Traffic,
    interval_lookups: (u64, u64, u64),
    interval_calls: (u64, u64, u64),
    interval_stores: (u64, u64),
    interval_fetches: (u64, u64),
    registrations: (u64, u64),
    codes: Vec<u16>,
    names: Vec<&'static str>,
    /// Column of each code below 0x100; `u8::MAX` for unknown.
    column: [u8; 256],
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics with the fixed set of message-type columns.
    pub fn new() -> Metrics {
        let codes = known_codes();
        let names = method_names();
        let mut column = [u8::MAX; 256];
        for (i, &c) in codes.iter().enumerate() {
            if c < 256 {
                column[c as usize] = i as u8;
            }
        }
        Metrics {
            counters: Counters::default(),
            total: Traffic::new(codes.len()),
            join_time: Dist::new(),
            connect_time: Dist::new(),
            interval: Traffic::new(codes.len()),
            interval_lookups: (0, 0, 0),
            interval_calls: (0, 0, 0),
            interval_stores: (0, 0),
            interval_fetches: (0, 0),
            registrations: (0, 0),
            codes,
            names,
            column,
        }
    }

    /// Method names of the per-type columns, in column order (`unknown` not included).
    pub fn method_names(&self) -> &[&'static str] {
        &self.names
    }

    fn column_of(&self, code: u16) -> usize {
        let unknown = self.codes.len();
        if code == 0xffff {
            return self
                .codes
                .iter()
                .position(|&c| c == code)
                .unwrap_or(unknown);
        }
        match self.column.get(code as usize) {
            Some(&c) if c != u8::MAX => c as usize,
            _ => unknown,
        }
    }

    /// A node transmitted `frame`.
    pub fn sent(&mut self, frame: &[u8]) {
        self.counters.datagrams_sent += 1;
        let len = frame.len() as u64;
        let col = match classify(frame) {
            FrameKind::Ack => {
                for t in [&mut self.total, &mut self.interval] {
                    t.acks += 1;
                    t.bytes += len;
                }
                return;
            }
            FrameKind::Data(code) => self.column_of(code),
            FrameKind::DataUnreadable | FrameKind::Other => self.codes.len(),
        };
        for t in [&mut self.total, &mut self.interval] {
            t.messages += 1;
            t.bytes += len;
            t.by_method[col] += 1;
            t.bytes_by_method[col] += len;
        }
    }

    /// A lookup was issued.
    pub fn lookup_issued(&mut self) {
        self.interval_lookups.0 += 1;
    }

    /// A lookup finished, answered (`ok`) or not.
    pub fn lookup_finished(&mut self, ok: bool) {
        if ok {
            self.interval_lookups.1 += 1;
        } else {
            self.interval_lookups.2 += 1;
        }
    }

    /// A call was placed.
    pub fn call_issued(&mut self) {
        self.interval_calls.0 += 1;
    }

    /// A call finished, reaching its callee (`ok`) or not, after its registration
    /// Fetches were answered (`fetch_answered`) or not.
    pub fn call_finished(&mut self, ok: bool, fetch_answered: bool) {
        if ok {
            self.interval_calls.1 += 1;
        } else {
            self.interval_calls.2 += 1;
        }
        if fetch_answered {
            self.counters.call_fetches_ok += 1;
            self.interval_fetches.0 += 1;
        } else {
            self.counters.call_fetches_failed += 1;
            self.interval_fetches.1 += 1;
        }
    }

    /// A registration store finished.
    pub fn store_finished(&mut self, ok: bool) {
        if ok {
            self.counters.stores_ok += 1;
            self.interval_stores.0 += 1;
        } else {
            self.counters.stores_failed += 1;
            self.interval_stores.1 += 1;
        }
    }

    /// Live and available registrations, for the next sample.
    pub fn registrations(&mut self, live: u64, available: u64) {
        self.registrations = (live, available);
    }

    /// Closes the interval ending at `time` with the given population and ring figures and
    /// returns its sample (the caller keeps or streams it).
    pub fn sample(
        &mut self,
        time: Time,
        pop: Population,
        ring_correct_fraction: Option<f64>,
    ) -> Sample {
        let (issued, ok, failed) = std::mem::take(&mut self.interval_lookups);
        let (calls_issued, calls_ok, calls_failed) = std::mem::take(&mut self.interval_calls);
        let (stores_ok, stores_failed) = std::mem::take(&mut self.interval_stores);
        let (call_fetches_ok, call_fetches_failed) = std::mem::take(&mut self.interval_fetches);
        let (live, available) = self.registrations;
        let sample = Sample {
            time,
            live_peers: pop.live_peers,
            live_clients: pop.live_clients,
            joined_peers: pop.joined_peers,
            initial_unjoined: pop.initial_unjoined,
            ring_correct_fraction,
            lookups_issued: issued,
            lookups_ok: ok,
            lookups_failed: failed,
            traffic: self.interval.clone(),
            registrations_live: live,
            registrations_available: available,
            availability: crate::sim::dist::rate(available, live),
            calls_issued,
            calls_ok,
            calls_failed,
            stores_ok,
            stores_failed,
            call_fetches_ok,
            call_fetches_failed,
        };
        self.interval.clear();
        sample
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_acks_and_messages_by_type() {
        let mut m = Metrics::new();
        m.sent(&[0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
        m.sent(&[0x80, 0]);
        assert_eq!(m.total.acks, 1);
        assert_eq!(m.total.messages, 1);
        assert_eq!(m.total.bytes, 11);
        assert_eq!(*m.total.by_method.last().unwrap(), 1);
        let pop = Population {
            live_peers: 1,
            joined_peers: 1,
            ..Default::default()
        };
        assert_eq!(m.sample(Time(5), pop, Some(1.0)).traffic.acks, 1);
        assert_eq!(m.column_of(0xffff), m.method_names().len() - 1);
        assert_eq!(m.method_names()[m.column_of(0x17)], "ping_req");
    }
}
