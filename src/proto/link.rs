//! The Connection Table and per-hop Simple Reliability (RFC 6940 §6.6.2–§6.6.3).
//!
//! Every message crosses a link inside a FramedMessage data frame; the receiver acks each
//! data frame at once. The sender retransmits an unacknowledged frame after the RTO (500 ms,
//! doubling) with a new sequence number, up to 5 sends in all; then the link has failed.
//! Unlike the RFC's stop-and-wait reference sender, up to `link_window` frames may be in
//! flight per link (the rest queue), which keeps busy forwarding links from stalling.
//!
//! A link is keyed by the peer's transport address. It is `Up` once a handshake round trip
//! completed over it (the stand-in for the (D)TLS handshake of a No-ICE link, §6.5.1.11).

use std::cell::Cell;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4, SocketAddrV6};

use crate::proto::config::{Addr, OverlayConfig};
use crate::proto::event::Transmit;
use crate::proto::id::NodeId;
use crate::proto::rtt::RttEstimator;
use crate::proto::wire::framing::Frame;
use crate::time::{Duration, Time};

/// A link that is not up this long after its creation is dropped.
pub const LINK_SETUP_LIMIT: Duration = Duration::from_secs(20);

/// Where a link is in its set-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// We opened it and sent the handshake; waiting for the answer.
    Handshaking,
    /// We answered an Attach for it; waiting for the other side's handshake.
    Expecting,
    /// Usable in both directions.
    Up,
}

/// A stream link that has had a frame unacknowledged for its RTO is retained this long
/// from the frame's sending before it has failed (§6.6.5: "RECOMMENDED that such a
/// connection be retained for 30 seconds").
pub const STREAM_RETENTION: Duration = Duration::from_secs(30);

/// What carries a link's frames (§6.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LinkTransport {
    /// An unreliable datagram transport, as DTLS/UDP (§6.6.3 Simple Reliability): an
    /// unacknowledged frame is sent again after the RTO, up to `link_sends` times.
    #[default]
    Datagram,
    /// A reliable stream, as TLS/TCP with the framing header (§6.6.5): frames are never
    /// sent again. The RTO is measured from the acks (RFC 6298, [`RttEstimator`]); a frame
    /// unacknowledged for it takes the link out of routing, and one unacknowledged
    /// [`STREAM_RETENTION`] after it was sent means the link has failed.
    Stream,
}

/// Frames in flight and messages waiting for the window, and the set-up clock.
#[derive(Debug)]
struct SendBuf {
    inflight: Vec<InFlight>,
    queue: VecDeque<Vec<u8>>,
    /// Earliest retransmission deadline of `inflight` (`Time::NEVER` when empty).
    earliest: Time,
    /// When the entry was created: kept only until the link is up, the one time it is
    /// read (a link not up [`LINK_SETUP_LIMIT`] after it is dropped).
    created: Time,
    /// A stream link's round-trip estimate: kept for the link's life (the box is then
    /// never given back).
    rtt: Option<RttEstimator>,
}

impl SendBuf {
    fn new(created: Time) -> SendBuf {
        SendBuf {
            inflight: Vec::new(),
            queue: VecDeque::new(),
            earliest: Time::NEVER,
            created,
            rtt: None,
        }
    }
}

#[derive(Debug)]
struct InFlight {
    seq: u32,
    sends: u8,
    deadline: Time,
    rto: Duration,
    message: Vec<u8>,
}

/// One entry of the Connection Table: 32 bytes when idle. Its transport address and its
/// peer's Node-ID are kept by the table ([`LinkTable::addr`], [`LinkTable::peer`]); its
/// send buffers, with the retransmission deadlines, only while frames are unacknowledged
/// or queued; and its creation time only until it is up.
#[derive(Debug)]
pub struct Link {
    /// When a data frame last arrived over it (its creation time until one does).
    pub last_heard: Time,
    /// Send buffers and the set-up clock: allocated while frames are unacknowledged or
    /// queued, and while the link is not up.
    buf: Option<Box<SendBuf>>,
    next_seq: u32,
    /// Highest sequence number received, valid once [`Flags::HAS_RECV`].
    recv_high: u32,
    recv_mask: u32,
    /// Set-up state.
    state: LinkState,
    /// The Update owed to the peer once the link is up.
    pub update_when_up: OwedUpdate,
    flags: Flags,
}

/// The link's yes/no facts, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags(u8);

impl Flags {
    /// The peer's Node-ID is known.
    const HAS_PEER: u8 = 1;
    /// A data frame has been received (`recv_high` is valid).
    const HAS_RECV: u8 = 2;
    /// The peer is a joined peer that may be routed through.
    const READY: u8 = 4;
    /// The peer is in the Neighbor or Finger Table (kept by the node).
    const ROUTING: u8 = 8;
    /// The peer sent us a request of its own over this link after it came up: it uses the
    /// link, so closing it would cut the peer off.
    const PEER_USES: u8 = 16;
    /// No ack for a full RTO and 3 more retransmissions: kept out of routing until acks
    /// resume (§6.6.3).
    const SUSPECT: u8 = 32;
    /// The peer's Node-ID came from the driver's handshake (a TLS certificate,
    /// [`crate::proto::node::Node::handle_link_up`]), not from the first signed message.
    const AUTHENTICATED: u8 = 64;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    fn set(&mut self, bit: u8, on: bool) {
        if on {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }
}

/// The Update a peer owes the other end of a link it accepted an Attach on, sent once the
/// link is up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OwedUpdate {
    /// None.
    #[default]
    Nothing,
    /// peer_ready (RFC 6940 §10.7.3: "a node which has Attached is a peer and can be
    /// routed through"): a joined peer tells the node that Attached to it that it may
    /// route through it (§6.5.1).
    PeerReady,
    /// full: the Attach asked for it (send_update, §6.5.1.2).
    Full,
}

impl Link {
    /// A new link entry (its address and peer are given to [`LinkTable::insert`]).
    pub fn new(state: LinkState, now: Time) -> Link {
        Link {
            last_heard: now,
            buf: (state != LinkState::Up).then(|| Box::new(SendBuf::new(now))),
            next_seq: 0,
            recv_high: 0,
            recv_mask: 0,
            state,
            update_when_up: OwedUpdate::Nothing,
            flags: Flags::default(),
        }
    }

    /// True once the peer's Node-ID is known ([`LinkTable::peer`]).
    pub fn has_peer(&self) -> bool {
        self.flags.has(Flags::HAS_PEER)
    }

    /// Set-up state.
    pub fn state(&self) -> LinkState {
        self.state
    }

    /// The handshake completed: the link is usable both ways, and its set-up clock is
    /// given back.
    pub fn mark_up(&mut self) {
        self.state = LinkState::Up;
        self.release_idle_buffers();
    }

    /// True when the link is up and the peer is known.
    pub fn is_up(&self) -> bool {
        self.state == LinkState::Up && self.has_peer()
    }

    /// The peer is a joined peer that may be routed through.
    pub fn ready(&self) -> bool {
        self.flags.has(Flags::READY)
    }
    /// Marks the peer as one that may be routed through.
    pub fn set_ready(&mut self) {
        self.flags.set(Flags::READY, true);
    }
    /// The peer is in the Neighbor or Finger Table.
    pub fn routing(&self) -> bool {
        self.flags.has(Flags::ROUTING)
    }
    /// Records whether the peer is in the Neighbor or Finger Table.
    pub fn set_routing(&mut self, routing: bool) {
        self.flags.set(Flags::ROUTING, routing);
    }
    /// The peer sent a request of its own over the link after it came up.
    pub fn peer_uses(&self) -> bool {
        self.flags.has(Flags::PEER_USES)
    }
    /// Records that the peer uses the link for requests of its own.
    pub fn set_peer_uses(&mut self) {
        self.flags.set(Flags::PEER_USES, true);
    }
    /// The peer's Node-ID was authenticated by the link's handshake (the driver's TLS).
    pub fn authenticated(&self) -> bool {
        self.flags.has(Flags::AUTHENTICATED)
    }
    /// Records that the link's handshake authenticated its peer's Node-ID.
    pub fn set_authenticated(&mut self) {
        self.flags.set(Flags::AUTHENTICATED, true);
    }
    /// No ack for a full RTO and 3 more retransmissions (§6.6.3); cleared by the next ack.
    pub fn suspect(&self) -> bool {
        self.flags.has(Flags::SUSPECT)
    }

    /// When a link not yet up is dropped ([`LINK_SETUP_LIMIT`] after its creation);
    /// `Time::NEVER` once it is up.
    pub fn setup_deadline(&self) -> Time {
        match (&self.buf, self.state) {
            (Some(b), s) if s != LinkState::Up => b.created + LINK_SETUP_LIMIT,
            _ => Time::NEVER,
        }
    }

    /// Frames sent but not yet acknowledged, plus queued messages.
    pub fn backlog(&self) -> usize {
        self.buf
            .as_ref()
            .map_or(0, |b| b.inflight.len() + b.queue.len())
    }

    /// Sends `message` over the link to `to`, its address (queued if the window is full).
    /// Returns false, and sends nothing, if the message is too long for a data frame's
    /// 24-bit length.
    pub fn send(
        &mut self,
        now: Time,
        to: Addr,
        message: Vec<u8>,
        cfg: &OverlayConfig,
        out: &mut VecDeque<Transmit>,
    ) -> bool {
        if message.len() > MAX_FRAMED_MESSAGE {
            return false;
        }
        let buf = self.buf.get_or_insert_with(|| Box::new(SendBuf::new(now)));
        if cfg.link_transport == LinkTransport::Stream && buf.rtt.is_none() {
            buf.rtt = Some(RttEstimator::default());
        }
        if buf.inflight.len() < cfg.link_window.max(1) {
            let rto = self.rto(cfg);
            self.transmit(now, to, message, 1, rto, out);
        } else {
            buf.queue.push_back(message);
        }
        true
    }

    fn transmit(
        &mut self,
        now: Time,
        to: Addr,
        message: Vec<u8>,
        sends: u8,
        rto: Duration,
        out: &mut VecDeque<Transmit>,
    ) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        out.push_back(Transmit {
            to,
            bytes: data_frame(seq, &message),
        });
        let buf = self.buf.get_or_insert_with(|| Box::new(SendBuf::new(now)));
        buf.inflight.push(InFlight {
            seq,
            sends,
            deadline: now + rto,
            rto,
            message,
        });
        buf.earliest = buf.earliest.min(now + rto);
    }

    /// Handles an ack frame from `to`; returns true if it acknowledged anything.
    pub fn on_ack(
        &mut self,
        now: Time,
        to: Addr,
        ack_sequence: u32,
        received: u32,
        cfg: &OverlayConfig,
        out: &mut VecDeque<Transmit>,
    ) -> bool {
        let Some(buf) = self.buf.as_mut() else {
            return false;
        };
        let before = buf.inflight.len();
        let rtt = &mut buf.rtt;
        buf.inflight.retain(|f| {
            let back = ack_sequence.wrapping_sub(f.seq);
            let acked = back == 0 || received & bit_back(back) != 0;
            if let (true, Some(est)) = (acked, rtt.as_mut()) {
                // Each frame is sent once on a stream: every ack is a clean sample
                // (no retransmission ambiguity, RFC 6298 §3). Samples from frames past
                // their RTO (sends 2) are skipped: their deadline no longer says when
                // they were sent.
                if f.sends == 1 {
                    est.sample(now.saturating_since(Time(f.deadline.0.saturating_sub(f.rto.0))));
                }
            }
            !acked
        });
        let acked = buf.inflight.len() != before;
        if acked {
            self.flags.set(Flags::SUSPECT, false);
        }
        while self
            .buf
            .as_ref()
            .is_some_and(|b| b.inflight.len() < cfg.link_window.max(1))
        {
            let Some(m) = self.buf.as_mut().and_then(|b| b.queue.pop_front()) else {
                break;
            };
            let rto = self.rto(cfg);
            self.transmit(now, to, m, 1, rto, out);
        }
        self.release_idle_buffers();
        acked
    }

    /// Recomputes the earliest deadline; idle up links hold no send buffers, so per-peer
    /// memory stays small after bursts.
    fn release_idle_buffers(&mut self) {
        if let Some(b) = self.buf.as_mut() {
            b.earliest = b
                .inflight
                .iter()
                .map(|f| f.deadline)
                .min()
                .unwrap_or(Time::NEVER);
        }
        let keep = self.buf.as_ref().is_some_and(|b| b.rtt.is_some());
        if self.backlog() == 0 && self.state == LinkState::Up && !keep {
            self.buf = None;
        }
    }

    /// The RTO of a new frame: the measured one on a stream link, else `link_rto`.
    fn rto(&self, cfg: &OverlayConfig) -> Duration {
        match self.buf.as_ref().and_then(|b| b.rtt) {
            Some(r) => r.rto(),
            None => cfg.link_rto,
        }
    }

    /// The smoothed round-trip time of a stream link, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.buf.as_ref().and_then(|b| b.rtt).and_then(|r| r.srtt())
    }

    /// Records a received data frame and returns the ack frame to send back.
    ///
    /// The link remembers the highest sequence number received (in serial order, so
    /// sequence numbers wrap) and which of the 32 before it arrived (§6.6.2: "MUST
    /// remember the last 32 received sequence numbers"). When the high mark moves `ahead`
    /// frames, the window slides by `ahead`: a gap of 32 or more clears it, so no bit ever
    /// claims a frame that did not arrive. Any `seq` is accepted without panicking.
    pub fn on_data(&mut self, to: Addr, seq: u32) -> Transmit {
        if !self.flags.has(Flags::HAS_RECV) {
            self.recv_high = seq;
            self.flags.set(Flags::HAS_RECV, true);
        } else {
            let h = self.recv_high;
            let ahead = seq.wrapping_sub(h);
            if ahead != 0 && ahead < 0x8000_0000 {
                // The old high mark lands at bit `ahead - 1`: outside the window
                // (with everything older) once `ahead` exceeds 32.
                self.recv_mask = shl_or_zero(self.recv_mask, ahead) | bit_back(ahead);
                self.recv_high = seq;
            } else if ahead != 0 {
                self.recv_mask |= bit_back(h.wrapping_sub(seq));
            }
        }
        let received = self.received_before(seq);
        let ack = Frame::Ack {
            ack_sequence: seq,
            received,
        };
        let mut bytes = Vec::with_capacity(ack.encoded_len());
        // An ack always encodes: it has no length field.
        let _ = ack.encode(&mut bytes);
        Transmit { to, bytes }
    }

    /// The ack's `received` mask for `seq` once recorded: bit `k - 1` set when frame
    /// `seq - k` was seen (k = 1..=32). `seq` is at or below the high mark `h`, `d =
    /// h - seq` back (serial order, so `d` < 2^31), and `seq - k` is `d + k` back, which
    /// the window holds at bit `d + k - 1`: the mask shifted down by `d` (none past 31).
    fn received_before(&self, seq: u32) -> u32 {
        let d = self.recv_high.wrapping_sub(seq);
        self.recv_mask.checked_shr(d).unwrap_or(0)
    }

    #[cfg(test)]
    fn seen(&self, m: u32) -> bool {
        let h = self.recv_high;
        self.flags.has(Flags::HAS_RECV)
            && (h == m || self.recv_mask & bit_back(h.wrapping_sub(m)) != 0)
    }

    /// Retransmits due frames to `to`. Returns false if a frame used its last send: the
    /// link failed.
    pub fn on_timeout(
        &mut self,
        now: Time,
        to: Addr,
        cfg: &OverlayConfig,
        out: &mut VecDeque<Transmit>,
        retransmits: &mut u32,
    ) -> bool {
        let mut due = Vec::new();
        if let Some(buf) = self.buf.as_mut() {
            let mut i = 0;
            while i < buf.inflight.len() {
                if buf.inflight[i].deadline > now {
                    i += 1;
                } else {
                    due.push(buf.inflight.swap_remove(i));
                }
            }
        }
        due.sort_by_key(|f| f.seq);
        if cfg.link_transport == LinkTransport::Stream {
            // §6.6.5: the RTO sends nothing again. Past it the link leaves the Routing
            // Table (suspect); past the retention time it has failed.
            for mut f in due {
                if f.sends >= 2 {
                    return false;
                }
                let sent = Time(f.deadline.0.saturating_sub(f.rto.0));
                f.sends = 2;
                f.rto = STREAM_RETENTION;
                f.deadline = sent + STREAM_RETENTION;
                self.flags.set(Flags::SUSPECT, true);
                if let Some(b) = self.buf.as_mut() {
                    b.inflight.push(f);
                }
            }
            self.release_idle_buffers();
            return true;
        }
        for f in due {
            if f.sends >= cfg.link_sends {
                return false;
            }
            *retransmits += 1;
            if f.sends >= 4 {
                self.flags.set(Flags::SUSPECT, true);
            }
            let rto = f.rto.saturating_mul(2);
            self.transmit(now, to, f.message, f.sends + 1, rto, out);
        }
        self.release_idle_buffers();
        true
    }

    /// Heap bytes of the send buffers (none on an idle link).
    pub fn buffer_bytes(&self) -> usize {
        self.buf.as_ref().map_or(0, |b| {
            std::mem::size_of::<SendBuf>()
                + b.inflight.capacity() * std::mem::size_of::<InFlight>()
                + b.inflight
                    .iter()
                    .map(|f| f.message.capacity())
                    .sum::<usize>()
                + b.queue.capacity() * std::mem::size_of::<Vec<u8>>()
                + b.queue.iter().map(Vec::capacity).sum::<usize>()
        })
    }

    /// When the link next needs the node: its earliest retransmission, or the end of its
    /// set-up time while it is not up (`Time::NEVER`: never).
    pub fn wake_time(&self) -> Time {
        self.earliest().min(self.setup_deadline())
    }

    fn earliest(&self) -> Time {
        self.buf.as_ref().map_or(Time::NEVER, |b| b.earliest)
    }

    /// Earliest retransmission deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        let earliest = self.earliest();
        (earliest != Time::NEVER).then_some(earliest)
    }
}

/// The bits below `n` (`n` ≤ 64).
fn low_bits(n: usize) -> u64 {
    1u64.checked_shl(n as u32).map_or(u64::MAX, |b| b - 1)
}

/// `bits` without bit `i` (< 64), the bits above it moved down by one.
fn remove_bit(bits: u64, i: usize) -> u64 {
    let below = bits & low_bits(i);
    let above = (bits >> 1) & !low_bits(i);
    below | above
}

/// `mask << by`, or 0 once every bit has been shifted out (`by` ≥ 32).
fn shl_or_zero(mask: u32, by: u32) -> u32 {
    mask.checked_shl(by).unwrap_or(0)
}

/// The `received` bit of the frame `back` sequence numbers before the reference one:
/// bit 0 = one before, bit 31 = 32 before (reload-spec.md Ambiguities #6); 0 outside 1..=32.
fn bit_back(back: u32) -> u32 {
    if (1..=32).contains(&back) {
        1 << (back - 1)
    } else {
        0
    }
}

/// Longest message a FramedMessage data frame carries: its length field has 24 bits
/// (§6.6.2).
pub const MAX_FRAMED_MESSAGE: usize = (1 << 24) - 1;

/// Builds a FramedMessage data frame with the one frame encoder
/// ([`Frame::encode`](crate::proto::wire::framing::Frame::encode)); `message` is at most
/// [`MAX_FRAMED_MESSAGE`] bytes ([`Link::send`] refuses longer ones), else the frame is
/// empty.
pub fn data_frame(seq: u32, message: &[u8]) -> Vec<u8> {
    let frame = Frame::Data {
        sequence: seq,
        message,
    };
    let mut b = Vec::with_capacity(frame.encoded_len());
    if frame.encode(&mut b).is_err() {
        b.clear();
    }
    b
}

/// The Connection Table: links by address, at most `max_connections`.
///
/// Beside the entries it keeps, in the same order, one 8-byte key per link
/// ([`LinkTable::key`]): an IPv4 address and port exactly, an IPv6 one as an index into
/// the table's few IPv6 addresses. So a link's address costs 8 bytes, finding a link by
/// address scans a few cache lines rather than every entry (a datagram's first step),
/// and keys compare exactly. The peers' Node-IDs are kept the same way, 16 bytes a link
/// (two 8-byte halves, so no `u128` alignment), so finding a link by peer and choosing a
/// next hop read a dense array rather than every entry. It keeps a bit mask of the links that may wake
/// ([`Link::wake_time`] not `Time::NEVER`: links with frames unacknowledged or not yet up),
/// so the node's next timer reads only those few entries. Every mutable access to an
/// entry goes through the table and marks it; marked entries' bits are recomputed when
/// next read.
#[derive(Debug, Default)]
pub struct LinkTable {
    links: Vec<Link>,
    keys: Vec<u64>,
    /// Each link's peer Node-ID (zero until known: [`Link::has_peer`]).
    peers: Vec<[u64; 2]>,
    /// Entries whose wake time is not `Time::NEVER` (bit `i` for entry `i` < 64; entries
    /// from 64 on are always read): the few busy or unfinished links.
    waking: Cell<u64>,
    /// The IPv6 addresses of links, by the index in their keys (`None`: free).
    /// (Boxed, and allocated with the first: few tables have any, and the table stays 96
    /// bytes.)
    #[allow(clippy::box_collection)] // 8 bytes here rather than a `Vec`'s 24
    v6: Option<Box<Vec<Option<SocketAddrV6>>>>,
    /// Entries whose `waking` bit may be stale: bit `i` for entry `i` < 64 (all of them
    /// after [`LinkTable::iter_mut`]).
    stale: Cell<u64>,
}

/// The top bit of a key marks an IPv6 address (the rest is its index in `v6`); an IPv4
/// key is `address << 16 | port`, below 2^48.
const V6_KEY: u64 = 1 << 63;

fn v4_key(v4: &SocketAddrV4) -> u64 {
    (u64::from(u32::from(*v4.ip())) << 16) | u64::from(v4.port())
}

fn halves(id: NodeId) -> [u64; 2] {
    [(id.0 >> 64) as u64, id.0 as u64]
}

fn from_halves(h: [u64; 2]) -> NodeId {
    NodeId((u128::from(h[0]) << 64) | u128::from(h[1]))
}

/// The Node-ID in slot `h` of `link`, if its peer is known.
fn known(h: &[u64; 2], link: &Link) -> Option<NodeId> {
    link.has_peer().then(|| from_halves(*h))
}

impl LinkTable {
    /// The IPv6 addresses of links, by the index in their keys.
    fn v6s(&self) -> &[Option<SocketAddrV6>] {
        self.v6.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The key of `addr`, if any link could have it.
    fn key(&self, addr: Addr) -> Option<u64> {
        match addr {
            Addr::V4(v4) => Some(v4_key(&v4)),
            Addr::V6(v6) => self
                .v6s()
                .iter()
                .position(|a| *a == Some(v6))
                .map(|i| V6_KEY | i as u64),
        }
    }

    /// The key for a new link to `addr`, naming a new IPv6 entry if it needs one.
    fn new_key(&mut self, addr: Addr) -> u64 {
        match addr {
            Addr::V4(v4) => v4_key(&v4),
            Addr::V6(v6) => {
                if let Some(k) = self.key(addr) {
                    return k;
                }
                let table = self.v6.get_or_insert_with(Box::default);
                let i = match table.iter().position(Option::is_none) {
                    Some(i) => {
                        table[i] = Some(v6);
                        i
                    }
                    None => {
                        table.push(Some(v6));
                        table.len() - 1
                    }
                };
                V6_KEY | i as u64
            }
        }
    }

    fn addr_of(&self, key: u64) -> Addr {
        if key & V6_KEY == 0 {
            let ip = Ipv4Addr::from((key >> 16) as u32);
            Addr::V4(SocketAddrV4::new(ip, key as u16))
        } else {
            let i = (key & !V6_KEY) as usize;
            let v6 = self.v6s().get(i).copied().flatten();
            v6.map_or(
                Addr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
                Addr::V6,
            )
        }
    }

    /// The transport address of link `i`.
    pub fn addr(&self, i: usize) -> Addr {
        self.addr_of(self.keys[i])
    }

    /// Every link with its address and peer.
    pub fn entries(&self) -> impl Iterator<Item = (Addr, Option<NodeId>, &Link)> {
        self.keys
            .iter()
            .zip(self.with_peers())
            .map(|(k, (p, l))| (self.addr_of(*k), p, l))
    }

    /// The peer of link `i`, once known.
    pub fn peer(&self, i: usize) -> Option<NodeId> {
        known(&self.peers[i], &self.links[i])
    }

    /// Names the peer of link `i` (from its handshake or Attach).
    pub fn set_peer(&mut self, i: usize, peer: Option<NodeId>) {
        self.peers[i] = peer.map_or([0; 2], halves);
        self.get_mut(i).flags.set(Flags::HAS_PEER, peer.is_some());
    }

    /// Every link with its peer.
    pub fn with_peers(&self) -> impl Iterator<Item = (Option<NodeId>, &Link)> {
        self.peers
            .iter()
            .zip(&self.links)
            .map(|(p, l)| (known(p, l), l))
    }

    /// Every link's index and peer Node-ID slot, in table order, reading only the dense
    /// array: the slot is zero where the peer is not yet known ([`Link::has_peer`] says
    /// which), so a caller tests the entries it would use.
    pub fn peer_slots(&self) -> impl Iterator<Item = (usize, NodeId)> + '_ {
        self.peers.iter().map(|p| from_halves(*p)).enumerate()
    }
    /// Number of links.
    pub fn len(&self) -> usize {
        self.links.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
    /// Index of the link to `addr`.
    pub fn by_addr(&self, addr: Addr) -> Option<usize> {
        let key = self.key(addr)?;
        self.keys.iter().position(|k| *k == key)
    }
    /// Index of the up link to peer `id` (the first, if several).
    pub fn by_peer(&self, id: NodeId) -> Option<usize> {
        let h = halves(id);
        (0..self.peers.len()).find(|&i| {
            self.peers[i] == h && self.links[i].has_peer() && self.links[i].state == LinkState::Up
        })
    }
    /// Index of any link (in any state) to peer `id`.
    pub fn any_by_peer(&self, id: NodeId) -> Option<usize> {
        let h = halves(id);
        (0..self.peers.len()).find(|&i| self.peers[i] == h && self.links[i].has_peer())
    }
    /// The link at `i`.
    pub fn get(&self, i: usize) -> &Link {
        &self.links[i]
    }
    /// The link at `i`, mutably.
    pub fn get_mut(&mut self, i: usize) -> &mut Link {
        self.mark(i);
        &mut self.links[i]
    }
    /// Marks entry `i`'s `waking` bit for recomputing (entries from 64 on are always read).
    fn mark(&self, i: usize) {
        if i < 64 {
            self.stale.set(self.stale.get() | (1 << i));
        }
    }
    /// Brings the `waking` bits of marked entries up to date.
    fn refresh_wakes(&self) {
        let mut waking = self.waking.get();
        let marked = self.stale.get();
        let mut bits = marked & low_bits(self.links.len().min(64));
        waking &= !marked;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.links[i].wake_time() != Time::NEVER {
                waking |= 1 << i;
            }
        }
        self.waking.set(waking);
        self.stale.set(0);
    }
    /// Indices of the links that may wake, in table order: the `waking` ones below 64,
    /// then every one from 64 on.
    fn wakers(&self) -> impl Iterator<Item = usize> + '_ {
        self.refresh_wakes();
        let mut bits = self.waking.get();
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                i
            })
        })
        .chain(64..self.links.len().max(64))
    }
    /// The earliest wake time over all links ([`Link::wake_time`]).
    pub fn next_wake(&self) -> Option<Time> {
        let t = self
            .wakers()
            .map(|i| self.links[i].wake_time())
            .min()
            .unwrap_or(Time::NEVER);
        (t != Time::NEVER).then_some(t)
    }
    /// Indices of the links whose wake time has come, in table order.
    pub fn due(&self, now: Time) -> Vec<usize> {
        self.wakers()
            .filter(|&i| self.links[i].wake_time() <= now)
            .collect()
    }
    /// Makes room for `n` more links at once.
    pub fn reserve_exact(&mut self, n: usize) {
        self.links.reserve_exact(n);
        self.keys.reserve_exact(n);
        self.peers.reserve_exact(n);
    }
    /// Adds a link to `addr` whose peer is `peer`, if known; returns its index.
    pub fn insert(&mut self, addr: Addr, peer: Option<NodeId>, mut link: Link) -> usize {
        if self.links.len() == self.links.capacity() {
            // Grow by a few entries, not by doubling: tables are long-lived and per-peer
            // memory matters at 10^5 peers.
            self.links.reserve_exact(4);
            self.keys.reserve_exact(4);
            self.peers.reserve_exact(4);
        }
        let key = self.new_key(addr);
        self.keys.push(key);
        self.peers.push(peer.map_or([0; 2], halves));
        link.flags.set(Flags::HAS_PEER, peer.is_some());
        let i = self.links.len();
        if i < 64 && link.wake_time() != Time::NEVER {
            self.waking.set(self.waking.get() | (1 << i));
        }
        self.links.push(link);
        self.links.len() - 1
    }
    /// Removes the link at `i` (indices after it shift down).
    pub fn remove(&mut self, i: usize) -> Link {
        let key = self.keys.remove(i);
        self.peers.remove(i);
        if key & V6_KEY != 0 && !self.keys.contains(&key) {
            if let Some(a) = self
                .v6
                .as_mut()
                .and_then(|t| t.get_mut((key & !V6_KEY) as usize))
            {
                *a = None;
            }
        }
        // Later entries shift down, and their bits with them; entry 64 becomes 63.
        if i < 64 {
            self.waking.set(remove_bit(self.waking.get(), i));
            self.stale.set(remove_bit(self.stale.get(), i) | (1 << 63));
        }
        self.links.remove(i)
    }
    /// All links.
    pub fn iter(&self) -> impl Iterator<Item = &Link> {
        self.links.iter()
    }
    /// All links with their peers, the links mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Option<NodeId>, &mut Link)> {
        self.stale.set(u64::MAX);
        self.peers
            .iter()
            .zip(self.links.iter_mut())
            .map(|(p, l)| (known(p, l), l))
    }
    /// Node-IDs of up, ready peers.
    pub fn ready_peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.with_peers()
            .filter(|(_, l)| l.is_up() && l.ready() && !l.suspect())
            .filter_map(|(p, _)| p)
    }
    /// Heap bytes: the entries and their send buffers.
    pub fn heap_bytes(&self) -> usize {
        self.links.capacity() * std::mem::size_of::<Link>()
            + self.keys.capacity() * std::mem::size_of::<u64>()
            + self.peers.capacity() * std::mem::size_of::<[u64; 2]>()
            + self.v6.as_ref().map_or(0, |t| {
                std::mem::size_of::<Vec<Option<SocketAddrV6>>>()
                    + t.capacity() * std::mem::size_of::<Option<SocketAddrV6>>()
            })
            + self.links.iter().map(Link::buffer_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OverlayConfig {
        OverlayConfig::new("test")
    }

    /// The address of the links the tests use.
    fn to() -> Addr {
        "10.0.0.1:6084".parse().unwrap()
    }

    /// An up link whose peer is not yet named.
    fn up_link() -> Link {
        Link::new(LinkState::Up, Time::ZERO)
    }

    #[test]
    fn links_are_found_by_address_after_inserts_and_removals() {
        let addrs: Vec<Addr> = [
            "10.0.0.1:6084",
            "10.0.0.1:6085",
            "[2001:db8::1]:6084",
            "[2001:db8::1]:6085",
            "[::ffff:10.0.0.1]:6084",
            "10.0.0.2:6084",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let mut t = LinkTable::default();
        for a in &addrs {
            t.insert(*a, None, Link::new(LinkState::Up, Time::ZERO));
        }
        for (i, a) in addrs.iter().enumerate() {
            assert_eq!(t.by_addr(*a), Some(i));
        }
        t.remove(1);
        assert_eq!(t.by_addr(addrs[1]), None);
        assert_eq!(t.by_addr(addrs[3]), Some(2));
        assert_eq!(t.by_addr(addrs[5]), Some(4));
        assert_eq!(t.by_addr("10.0.0.9:6084".parse().unwrap()), None);
    }

    #[test]
    fn wake_times_follow_inserts_removals_and_changes_past_64_links() {
        let cfg = cfg();
        let mut t = LinkTable::default();
        let mut out = VecDeque::new();
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1du64);
        for step in 0..4_000u64 {
            let now = Time(step * 1_000_000);
            let r = next();
            match r % 5 {
                0 | 1 if t.len() < 90 => {
                    let state = if r & 64 == 0 {
                        LinkState::Up
                    } else {
                        LinkState::Handshaking
                    };
                    let a = Addr::V4(SocketAddrV4::new(Ipv4Addr::from(r as u32), 1));
                    t.insert(a, None, Link::new(state, now));
                }
                2 if !t.is_empty() => {
                    t.remove((r >> 8) as usize % t.len());
                }
                3 if !t.is_empty() => {
                    let i = (r >> 8) as usize % t.len();
                    let a = t.addr(i);
                    t.get_mut(i).send(now, a, vec![1, 2, 3], &cfg, &mut out);
                }
                _ if !t.is_empty() => {
                    let i = (r >> 8) as usize % t.len();
                    let a = t.addr(i);
                    let l = t.get_mut(i);
                    l.mark_up();
                    l.on_ack(now, a, l.next_seq.wrapping_sub(1), u32::MAX, &cfg, &mut out);
                }
                _ => {}
            }
            let wakes: Vec<Time> = t.iter().map(Link::wake_time).collect();
            let want = wakes.iter().copied().filter(|w| *w != Time::NEVER).min();
            assert_eq!(t.next_wake(), want, "step {step}");
            let probe = Time(now.0 + (r >> 40) * 1_000);
            let due: Vec<usize> = (0..wakes.len()).filter(|&i| wakes[i] <= probe).collect();
            assert_eq!(t.due(probe), due, "step {step}");
        }
    }

    #[test]
    fn ack_masks_match_the_window_frame_by_frame() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15u64);
        for run in 0..200u32 {
            let mut l = up_link();
            let mut seq = run.wrapping_mul(0x0400_0000).wrapping_sub(20);
            for _ in 0..300 {
                let r = next();
                seq = match r % 8 {
                    0 => seq.wrapping_sub((r >> 8) as u32 % 40),
                    1 => seq.wrapping_add((r >> 8) as u32 % 70),
                    2 => (r >> 32) as u32,
                    _ => seq.wrapping_add(1),
                };
                let ack = l.on_data(to(), seq);
                let Frame::Ack { received, .. } = Frame::decode(&ack.bytes).unwrap() else {
                    panic!()
                };
                let want = (1..=32u32)
                    .filter(|k| l.seen(seq.wrapping_sub(*k)))
                    .fold(0u32, |m, k| m | 1 << (k - 1));
                assert_eq!(received, want, "run {run} seq {seq}");
            }
        }
    }

    #[test]
    fn an_idle_link_is_32_bytes() {
        assert!(std::mem::size_of::<Link>() <= 32);
    }

    #[test]
    fn ipv6_addresses_are_kept_once_and_freed_with_their_last_link() {
        let a: Addr = "[2001:db8::1]:6084".parse().unwrap();
        let b: Addr = "[2001:db8::2]:6084".parse().unwrap();
        let mut t = LinkTable::default();
        t.insert(a, None, Link::new(LinkState::Up, Time::ZERO));
        t.insert(b, None, Link::new(LinkState::Up, Time::ZERO));
        assert_eq!((t.addr(0), t.addr(1)), (a, b));
        t.remove(0);
        assert_eq!(t.by_addr(a), None);
        assert_eq!((t.by_addr(b), t.addr(0)), (Some(0), b));
        // The freed entry is reused.
        t.insert(a, None, Link::new(LinkState::Up, Time::ZERO));
        assert_eq!(t.v6s().len(), 2);
        assert_eq!(t.by_addr(a), Some(1));
        let all: Vec<Addr> = t.entries().map(|(x, _, _)| x).collect();
        assert_eq!(all, vec![b, a]);
    }

    #[test]
    fn a_message_too_long_for_a_frame_is_refused_not_truncated() {
        let cfg = cfg();
        let mut out = VecDeque::new();
        let mut l = up_link();
        assert!(!l.send(
            Time::ZERO,
            to(),
            vec![0; MAX_FRAMED_MESSAGE + 1],
            &cfg,
            &mut out
        ));
        assert!(out.is_empty());
        assert_eq!(l.backlog(), 0);
        assert!(l.send(Time::ZERO, to(), vec![7; 300], &cfg, &mut out));
        let sent = out.pop_front().unwrap();
        match Frame::decode(&sent.bytes).unwrap() {
            Frame::Data { sequence, message } => {
                assert_eq!(sequence, 0);
                assert_eq!(message, &[7; 300][..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retransmits_double_then_fail() {
        let cfg = cfg();
        let mut out = VecDeque::new();
        let mut l = up_link();
        l.send(Time::ZERO, to(), vec![1, 2, 3], &cfg, &mut out);
        assert_eq!(out.len(), 1);
        let mut t;
        let mut rtx = 0;
        let mut sends = vec![0u64];
        loop {
            t = l.next_deadline().unwrap();
            if !l.on_timeout(t, to(), &cfg, &mut out, &mut rtx) {
                break;
            }
            sends.push(t.as_millis());
        }
        assert_eq!(sends, vec![0, 500, 1500, 3500, 7500]);
        assert_eq!(t.as_millis(), 15500);
        assert_eq!(rtx, 4);
        // Each retransmission carries a new sequence number.
        let seqs: Vec<u32> = out
            .iter()
            .map(|t| u32::from_be_bytes([t.bytes[1], t.bytes[2], t.bytes[3], t.bytes[4]]))
            .collect();
        assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn stream_links_never_resend_and_fail_after_the_retention_time() {
        let mut cfg = cfg();
        cfg.link_transport = LinkTransport::Stream;
        let mut out = VecDeque::new();
        let mut rtx = 0;
        let mut l = up_link();
        // A frame acked after 40 ms: one RTT sample; the RTO stays at RFC 6298's 1 s floor.
        l.send(Time::ZERO, to(), vec![1], &cfg, &mut out);
        assert_eq!(l.next_deadline(), Some(Time::ZERO + Duration::from_secs(1)));
        assert!(l.on_ack(
            Time::ZERO + Duration::from_millis(40),
            to(),
            0,
            0,
            &cfg,
            &mut out
        ));
        assert_eq!(l.srtt(), Some(Duration::from_millis(40)));
        assert_eq!(l.next_deadline(), None);
        // The next frame goes unacked: at its RTO nothing is sent again, the link leaves
        // routing (suspect) and stays until 30 s after the frame was sent.
        let sent = Time::ZERO + Duration::from_secs(2);
        l.send(sent, to(), vec![2], &cfg, &mut out);
        assert_eq!(out.len(), 2);
        let rto = l.next_deadline().unwrap();
        assert_eq!(rto, sent + Duration::from_secs(1));
        assert!(l.on_timeout(rto, to(), &cfg, &mut out, &mut rtx));
        assert_eq!((out.len(), rtx), (2, 0));
        assert!(l.suspect());
        assert_eq!(l.next_deadline(), Some(sent + STREAM_RETENTION));
        // A late ack brings it back.
        assert!(l.on_ack(sent + Duration::from_secs(5), to(), 1, 0, &cfg, &mut out));
        assert!(!l.suspect());
        // One never acked: failed at 30 s, still without a resend.
        let sent = Time::ZERO + Duration::from_secs(10);
        l.send(sent, to(), vec![3], &cfg, &mut out);
        let rto = l.next_deadline().unwrap();
        assert!(l.on_timeout(rto, to(), &cfg, &mut out, &mut rtx));
        let end = l.next_deadline().unwrap();
        assert_eq!(end, sent + STREAM_RETENTION);
        assert!(!l.on_timeout(end, to(), &cfg, &mut out, &mut rtx));
        assert_eq!((out.len(), rtx), (3, 0));
    }

    #[test]
    fn acks_clear_frames_and_open_the_window() {
        let mut cfg = cfg();
        cfg.link_window = 1;
        let mut out = VecDeque::new();
        let mut l = up_link();
        l.send(Time::ZERO, to(), vec![1], &cfg, &mut out);
        l.send(Time::ZERO, to(), vec![2], &cfg, &mut out);
        assert_eq!((out.len(), l.backlog()), (1, 2));
        assert!(l.on_ack(Time(5), to(), 0, 0, &cfg, &mut out));
        assert_eq!((out.len(), l.backlog()), (2, 1));
        assert!(!l.on_ack(Time(5), to(), 0, 0, &cfg, &mut out));
    }

    #[test]
    fn ack_masks_cover_the_previous_32() {
        let mut l = up_link();
        for s in [0u32, 1, 3] {
            l.on_data(to(), s);
        }
        let ack = l.on_data(to(), 4);
        match Frame::decode(&ack.bytes).unwrap() {
            Frame::Ack {
                ack_sequence,
                received,
            } => {
                assert_eq!(ack_sequence, 4);
                // 3 -> bit0, 1 -> bit2, 0 -> bit3
                assert_eq!(received, 0b1101);
            }
            f => panic!("{f:?}"),
        }
        // A late frame below the high mark is recorded too.
        let ack = l.on_data(to(), 2);
        let Frame::Ack { received, .. } = Frame::decode(&ack.bytes).unwrap() else {
            panic!()
        };
        assert_eq!(received, 0b11); // 1 and 0
    }
}
