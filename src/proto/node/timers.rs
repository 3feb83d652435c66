//! Timers: link retransmissions, request retransmissions, join and leave deadlines, stale
//! links, and the periodic Update, finger refresh and partition check.

use super::Node;
use crate::proto::config::Addr;
use crate::proto::event::NodeState;
use crate::time::Time;

impl Node {
    /// The time returned by `poll_timeout` has come (or passed).
    pub fn handle_timeout(&mut self, now: Time) {
        if self.state == NodeState::Left {
            return;
        }
        let cfg = self.config.clone();
        let mut failed: Vec<Addr> = Vec::new();
        let mut newly_suspect = false;
        for li in self.links.due(now) {
            let addr = self.links.addr(li);
            let link = self.links.get_mut(li);
            if link.next_deadline().is_some_and(|d| d <= now) {
                let was = link.suspect();
                if !link.on_timeout(
                    now,
                    addr,
                    &cfg,
                    &mut self.outbox,
                    &mut self.stats.link_retransmits,
                ) {
                    failed.push(addr);
                }
                newly_suspect |= link.suspect() && !was;
            }
        }
        for addr in failed {
            self.link_failed(now, addr);
        }
        if newly_suspect && self.state == NodeState::Joined {
            self.refresh_tables(now);
        }
        let stale: Vec<usize> = self
            .links
            .due(now)
            .into_iter()
            .filter(|&li| {
                let l = self.links.get(li);
                l.setup_deadline() <= now
            })
            .collect();
        // Last first, so the indices before each one stay valid.
        for li in stale.into_iter().rev() {
            self.links.remove(li);
        }
        self.retransmit_due(now);
        if self.data.next_expiry().is_some_and(|t| t <= now) {
            self.data.expire(now);
        }
        if self.state == NodeState::Joined && self.rereplicate_at <= now {
            self.rereplicate(now);
        }
        if self.state == NodeState::Joined && self.rare().copy_retry_at.is_some_and(|t| t <= now) {
            self.resend_refused(now);
        }
        if self.can_request() && self.next_refresh().is_some_and(|t| t <= now) {
            self.refresh_registrations(now);
        }
        if self.state == NodeState::Joining && self.join.as_ref().is_some_and(|j| j.deadline <= now)
        {
            self.restart_join(now);
        }
        if self.state == NodeState::Leaving && self.rare().leave_deadline.is_some_and(|d| d <= now)
        {
            self.finish_leave();
        }
        if self.state == NodeState::Client && self.next_update <= now {
            self.next_update = now + self.jittered(self.config.chord_update_interval);
            self.client_check(now);
        }
        if self.state == NodeState::Joined {
            if self.next_update <= now {
                self.next_update = now + self.jittered(self.config.chord_update_interval);
                self.release_idle_boxes();
                self.update_all_neighbors(now);
                self.revalidate_unready(now);
            }
            if self.next_finger <= now {
                self.next_finger = now + self.at_least(self.config.chord_ping_interval);
                self.refresh_one_finger(now);
            }
            if self.next_partition_check <= now {
                self.start_partition_check(now);
            }
        }
    }

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Time> {
        let mut t = match self.state {
            NodeState::Left => return None,
            NodeState::Joined => self
                .next_update
                .min(self.next_finger)
                .min(self.next_partition_check),
            NodeState::Joining => self.join.as_ref().map_or(Time::NEVER, |j| j.deadline),
            NodeState::Leaving => self.rare().leave_deadline.unwrap_or(Time::NEVER),
            NodeState::Idle | NodeState::ClientConnecting => Time::NEVER,
            NodeState::Client => self.next_update,
        };
        if let Some(d) = self.links.next_wake() {
            t = t.min(d);
        }
        if let Some(d) = self.txns.next_deadline() {
            t = t.min(d);
        }
        if let Some(d) = self.data.next_expiry() {
            t = t.min(d);
        }
        if self.state == NodeState::Joined {
            t = t.min(self.rereplicate_at);
            if let Some(d) = self.rare().copy_retry_at {
                t = t.min(d);
            }
        }
        if self.can_request() {
            if let Some(d) = self.next_refresh() {
                t = t.min(d);
            }
        }
        (t != Time::NEVER).then_some(t)
    }
}
