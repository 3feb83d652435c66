//! Starting as a member of a ring built before the run (static-overlay experiments, the
//! way PeerSim and OverSim initialise them): the driver, which knows every Node-ID, hands
//! the node the peers it is linked to, and the node takes its Neighbor and Finger Tables
//! from them as it would from links formed by the protocol. From then on it runs the
//! normal protocol: Updates, finger refresh, partition checks.

use super::Node;
use crate::proto::config::Addr;
use crate::proto::event::{CommandError, Event, NodeState};
use crate::proto::id::NodeId;
use crate::proto::link::{Link, LinkState};
use crate::time::Time;

impl Node {
    /// Becomes a joined peer at once, with an up, routable link to each of `peers`
    /// (Node-ID and address; the links' handshakes are taken as done) and `bootstrap` as
    /// its bootstrap addresses. The Neighbor and Finger Tables are built from the linked
    /// peers (§10.7.1's rule); no message is sent now. The first Update, finger refresh
    /// and partition check come at their usual, jittered times, as after a join. The
    /// driver must give each linked peer a link back, or the ring is not one a protocol
    /// would have built.
    ///
    /// Fails unless the node is Idle.
    pub fn join_prebuilt(
        &mut self,
        now: Time,
        peers: &[(NodeId, Addr)],
        bootstrap: &[Addr],
    ) -> Result<(), CommandError> {
        self.may_start()?;
        self.bootstrap = bootstrap
            .iter()
            .copied()
            .filter(|a| *a != self.addr)
            .collect();
        self.links.reserve_exact(peers.len());
        for &(id, addr) in peers {
            if id == self.id || addr == self.addr || self.links.by_addr(addr).is_some() {
                continue;
            }
            let mut link = Link::new(LinkState::Up, now);
            link.set_ready();
            self.links.insert(addr, Some(id), link);
        }
        self.state = NodeState::Joined;
        self.refresh_tables_quietly(now);
        self.events.clear();
        self.events.push_back(Event::Joined);
        self.next_update = now + self.jittered(self.config.chord_update_interval);
        self.next_finger = now + self.at_least(self.config.chord_ping_interval);
        self.start_finger_search(now);
        self.schedule_partition_check(now);
        Ok(())
    }
}
