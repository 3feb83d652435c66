//! Copies another peer refused (RFC 6940 §7.4.1.1, §10.4): fetching the newer data a
//! replica or new owner holds, and retrying copies refused by a peer whose view of the
//! ring was stale.

use super::Node;
use super::storage::{REPLICAS, is_synthetic, verify_value};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::verifier_of;
use crate::proto::store::StoreContext;
use crate::proto::store::datastore::ARRAY_END;
use crate::proto::transaction::{Pending, Purpose};
use crate::proto::wire::error_response::error_code;
use crate::proto::wire::storage::{
    ArrayRange, DataModel, FetchAns, FetchReq, SpecifierIndices, StoreKindData, StoreReq,
    StoredDataSpecifier,
};
use crate::proto::wire::{Body, Destination};
use crate::time::{Duration, Time};

/// First wait before resending a copy refused with Error_Forbidden: long enough for the
/// Updates that correct the refusing peer's view (or ours) to arrive. Each further resend
/// waits twice as long.
pub const COPY_RETRY: Duration = Duration::from_secs(2);

/// Resends of one refused copy before it is given up: waits of 2, 4, … 64 s, 126 s in
/// all, so a view stale until a failure is detected by the Chord pings (RFC 6940 §10.7.2
/// at a `chord-ping-interval` of 60 s, plus the link's retransmissions) still gets its
/// copy.
const COPY_RETRIES: u8 = 6;

/// A copy of the data at a Resource-ID that a peer refused, waiting to be sent again to
/// that peer. Kept per peer: another replica accepting its copy says nothing of this one.
#[derive(Clone, Copy, Debug)]
pub(super) struct RefusedCopy {
    resource: ResourceId,
    /// The peer that refused it.
    peer: NodeId,
    /// Resends so far.
    resent: u8,
    /// When it is resent next; `Time::NEVER` while a resend awaits its answer.
    due: Time,
}

impl Node {
    /// §7.4.1.1: "if a peer attempts to store data previously stored by another node (e.g.,
    /// for replicas or topology shifts) and that store fails with either an
    /// Error_Generation_Counter_Too_Low or an Error_Data_Too_Old error, the peer MUST fetch
    /// the newer data from the peer generating the error and use that to replace its own
    /// copy." Called with a failed request `p` and the error's code: for a refused replica
    /// or handoff Store, Fetches every Kind this peer holds at the Resource-ID from the
    /// refusing peer (by Node-ID). A copy refused with Error_Forbidden (the refusing peer
    /// does not count this one as the owner or a neighbour) is resent later. Returns true
    /// if the error was handled here.
    pub(super) fn replica_refused(&mut self, now: Time, p: &Pending, code: u16) -> bool {
        let (Purpose::Replicate { resource }, Some(peer)) = (&p.purpose, p.to) else {
            return false;
        };
        if code == error_code::FORBIDDEN {
            self.copy_refused(now, *resource, peer);
            return true;
        }
        if code != error_code::DATA_TOO_OLD && code != error_code::GENERATION_COUNTER_TOO_LOW {
            return false;
        }
        let resource = *resource;
        let specifiers: Vec<StoredDataSpecifier> = self
            .data
            .export(now, &resource)
            .iter()
            .filter_map(|kd| {
                let indices = match self.config.kinds.get(kd.kind)?.model {
                    DataModel::Single => SpecifierIndices::Single,
                    DataModel::Array => SpecifierIndices::Array(vec![ArrayRange {
                        first: 0,
                        last: ARRAY_END,
                    }]),
                    DataModel::Dictionary => SpecifierIndices::Dictionary(Vec::new()),
                };
                Some(StoredDataSpecifier {
                    kind: kd.kind,
                    generation: 0,
                    indices,
                })
            })
            .collect();
        if specifiers.is_empty() {
            return true;
        }
        let direct = self.links.by_peer(peer).map(|li| self.links.addr(li));
        let _ = self.start_request(
            now,
            vec![Destination::Node(peer)],
            Body::FetchReq(FetchReq {
                resource,
                specifiers,
            }),
            Purpose::Refresh { resource },
            direct,
        );
        true
    }

    /// The newer data of `resource` fetched from a peer that refused our copy (already
    /// verified, §7.4.2.2) replaces our copy (§7.4.1.1), generation counters included. If
    /// it cannot be stored, our copy is kept.
    pub(super) fn replace_copy(&mut self, now: Time, resource: ResourceId, a: &FetchAns) {
        let kind_data: Vec<StoreKindData> = a
            .kind_responses
            .iter()
            .filter(|k| k.generation != 0)
            .map(|k| StoreKindData {
                kind: k.kind,
                generation_counter: k.generation,
                values: k
                    .values
                    .iter()
                    .filter(|v| !is_synthetic(v))
                    .cloned()
                    .collect(),
            })
            .collect();
        if kind_data.is_empty() {
            return;
        }
        let newer = StoreReq {
            resource,
            replica_number: 1,
            kind_data,
        };
        let old = self.data.replica_request(now, &resource, 1);
        self.data.remove(&resource);
        let ctx = StoreContext {
            signer: None,
            verify: &|r, k, d| {
                verify_value(verifier_of(super::rare::injected(&self.rare)), r, k, d)
            },
            kinds: &self.config.kinds,
            responsible: true,
            replicas: &[],
        };
        if self.data.store(now, &newer, &ctx).is_err()
            && let Some(old) = old
        {
            let _ = self.data.store(now, &old, &ctx);
        }
    }
}

impl Node {
    /// `peer` refused a copy of `resource` with Error_Forbidden: its view of the ring, or
    /// ours, is stale (peers joined concurrently, or a failure not detected yet). Unless it
    /// was resent [`COPY_RETRIES`] times already, send it again after [`COPY_RETRY`]
    /// doubled per resend, if our table then still names that peer; until then the copy is
    /// kept even if it falls outside the range this peer replicates.
    fn copy_refused(&mut self, now: Time, resource: ResourceId, peer: NodeId) {
        if !self.data.resource_ids().any(|r| *r == resource) {
            return;
        }
        let refused = &mut self.rare_mut().refused;
        let at = match refused
            .iter_mut()
            .find(|c| c.resource == resource && c.peer == peer)
        {
            Some(c) if c.resent >= COPY_RETRIES => {
                refused.retain(|c| !(c.resource == resource && c.peer == peer));
                return;
            }
            Some(c) => {
                c.due = now + COPY_RETRY.saturating_mul(1 << c.resent);
                c.due
            }
            None => {
                let due = now + COPY_RETRY;
                refused.push(RefusedCopy {
                    resource,
                    peer,
                    resent: 0,
                    due,
                });
                due
            }
        };
        self.rare_mut().copy_retry_at = Some(self.rare().copy_retry_at.map_or(at, |t| t.min(at)));
    }

    /// `peer` accepted a copy of `resource`: that copy no longer waits for a resend.
    pub(super) fn copy_accepted(&mut self, resource: ResourceId, peer: Option<NodeId>) {
        if !self.rare().refused.is_empty() {
            self.rare_mut()
                .refused
                .retain(|c| !(c.resource == resource && Some(c.peer) == peer));
        }
    }

    /// True while a refused copy of `resource` waits to be resent or answered.
    pub(super) fn copy_pending(&self, resource: &ResourceId) -> bool {
        self.rare().refused.iter().any(|c| c.resource == *resource)
    }

    /// Resends the refused copies that are due. Owned data goes to the refusing peer if it
    /// is still in the replica set; other data to the refusing peer if our table still
    /// names it the owner. Otherwise the table changed since (and the change sent copies
    /// to the new members): one last copy goes to the set, or the owner, as it is now,
    /// and the refusal is forgotten.
    pub(super) fn resend_refused(&mut self, now: Time) {
        let mut due = Vec::new();
        let mut next: Option<Time> = None;
        for c in self.rare_mut().refused.iter_mut() {
            if c.due <= now {
                c.resent += 1;
                c.due = Time::NEVER;
                due.push((c.resource, c.peer));
            } else if c.due != Time::NEVER {
                next = Some(next.map_or(c.due, |t| t.min(c.due)));
            }
        }
        self.rare_mut().copy_retry_at = next;
        for (r, peer) in due {
            let Some(k) = r.ring_position() else { continue };
            let owned = self.is_responsible(k);
            let targets: Vec<NodeId> = if owned {
                self.replica_set().into_iter().take(REPLICAS).collect()
            } else {
                self.neighbors
                    .owner_of(self.id, k)
                    .filter(|p| *p != self.id)
                    .into_iter()
                    .collect()
            };
            let number = |i: usize| if owned { (i + 1) as u8 } else { 1 };
            match targets.iter().position(|p| *p == peer) {
                Some(i) => self.send_copy(now, &r, number(i), peer),
                None => {
                    self.rare_mut()
                        .refused
                        .retain(|c| !(c.resource == r && c.peer == peer));
                    for (i, p) in targets.iter().enumerate() {
                        self.send_copy(now, &r, number(i), *p);
                    }
                }
            }
        }
    }
}
