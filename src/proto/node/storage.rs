//! The storage side of the peer (RFC 6940 §7, §10.4): answering Store, Fetch, Stat and Find
//! from the [`DataStore`](crate::proto::store::DataStore), replicating original stores to
//! the next two successors, and the `store` / `fetch` commands.

use super::Node;
use crate::proto::chord::NeighborTable;
use crate::proto::event::{CommandError, Event, NodeState, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::{Signer, SignerInfo, Verifier, verifier_of};
use crate::proto::link::LinkState;
use crate::proto::store::StoreContext;
use crate::proto::store::access::authorized;
use crate::proto::transaction::Purpose;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::security::Signature;
use crate::proto::wire::storage::{
    FetchAns, FetchReq, FindReq, KindId, StoreKindData, StoreReq, StoredData, StoredDataSpecifier,
    StoredDataValue, data_signature_input,
};
use crate::proto::wire::{Body, Destination, Message};
use crate::time::{Duration, Time};

/// Copies kept besides the responsible peer's (§10.4: replicas 1 and 2).
pub(super) const REPLICAS: usize = 2;

/// Wait after losing a successor before making new replicas (§10.7.1).
pub const REPLICA_HOLD_DOWN: Duration = Duration::from_secs(30);

/// Verifies a StoredData signature (§7.1).
pub(super) fn verify_value(
    verifier: &dyn Verifier,
    resource: &ResourceId,
    kind: KindId,
    d: &StoredData,
) -> Option<SignerInfo> {
    let input = data_signature_input(
        resource,
        kind,
        d.storage_time,
        &d.value,
        &d.signature.identity,
    )
    .ok()?;
    verifier.verify(&d.signature, &input)
}

/// A responder's synthetic "nonexistent value" (§7.4.2.2): exists = False with an
/// anonymous, empty signature.
pub(super) fn is_synthetic(d: &StoredData) -> bool {
    !d.value.data().exists && d.signature == Signature::anonymous()
}

impl Node {
    /// The replica set: the next `REPLICAS` successors.
    pub(super) fn replica_set(&self) -> Vec<NodeId> {
        self.neighbors
            .successors
            .iter()
            .take(REPLICAS)
            .copied()
            .collect()
    }

    /// A StoredData value signed by this node (§7.1). `storage_time` in ms, `lifetime` in s.
    pub fn sign_value(
        &self,
        resource: &ResourceId,
        kind: KindId,
        storage_time: u64,
        lifetime: u32,
        value: StoredDataValue,
    ) -> StoredData {
        sign_value_as(
            &self.crypto(),
            resource,
            kind,
            storage_time,
            lifetime,
            value,
        )
    }

    /// Stores `kind_data` at `resource` (routed to the responsible peer). The answer comes
    /// as `Event::RequestDone` with code store_ans, or an error code.
    pub fn store(
        &mut self,
        now: Time,
        resource: ResourceId,
        kind_data: Vec<StoreKindData>,
    ) -> Result<RequestId, CommandError> {
        self.request_to_resource(
            now,
            resource,
            Body::StoreReq(StoreReq {
                resource,
                replica_number: 0,
                kind_data,
            }),
        )
    }

    /// Fetches from `resource` (routed to the responsible peer). The values come as
    /// `Event::Fetched`, followed by `Event::RequestDone`.
    pub fn fetch(
        &mut self,
        now: Time,
        resource: ResourceId,
        specifiers: Vec<StoredDataSpecifier>,
    ) -> Result<RequestId, CommandError> {
        self.request_to_resource(
            now,
            resource,
            Body::FetchReq(FetchReq {
                resource,
                specifiers,
            }),
        )
    }

    fn request_to_resource(
        &mut self,
        now: Time,
        resource: ResourceId,
        body: Body,
    ) -> Result<RequestId, CommandError> {
        if !self.can_request() {
            return Err(CommandError::InvalidState(self.state));
        }
        self.start_request(
            now,
            vec![Destination::Resource(resource)],
            body,
            Purpose::Command,
            None,
        )
        .map_err(|_| CommandError::Encode)
    }

    /// Answers a storage request, or `None` if `body` is not one.
    pub(super) fn answer_storage(
        &mut self,
        now: Time,
        msg: &Message,
        who: SignerInfo,
    ) -> Option<Body> {
        let responsible =
            |node: &Node, r: &ResourceId| r.ring_position().is_some_and(|k| node.is_responsible(k));
        Some(match &msg.contents.body {
            Body::StoreReq(req) => {
                let original = req.replica_number == 0;
                let placed = if original {
                    responsible(self, &req.resource)
                } else {
                    req.resource
                        .ring_position()
                        .is_some_and(|k| self.replica_accepted(who.node_id, k))
                };
                let replicas = if original {
                    self.replica_set()
                } else {
                    Vec::new()
                };
                let ctx = StoreContext {
                    signer: original.then_some(who),
                    verify: &|r, k, d| {
                        verify_value(verifier_of(super::rare::injected(&self.rare)), r, k, d)
                    },
                    kinds: &self.config.kinds,
                    responsible: placed,
                    replicas: &replicas,
                };
                let known = self.data.resource_ids().any(|r| *r == req.resource);
                match self.data.store(now, req, &ctx) {
                    Ok(ans) => {
                        if original {
                            self.replicate(now, &req.resource, &replicas);
                        } else if !known {
                            self.pass_toward_owner(now, &req.resource, who.node_id);
                        }
                        Body::StoreAns(ans)
                    }
                    Err(e) => Body::Error(e),
                }
            }
            Body::FetchReq(req) => {
                // A Fetch by Node-ID asks this peer what it holds (a replica's copy,
                // §7.4.1.1); one by Resource-ID goes to the responsible peer.
                let to_me = msg.header.destination_list.last() == Some(&Destination::Node(self.id));
                if !to_me && !responsible(self, &req.resource) {
                    return Some(not_found());
                }
                match self.data.fetch(now, req, &self.config.kinds) {
                    Ok(a) => Body::FetchAns(a),
                    Err(e) => Body::Error(e),
                }
            }
            Body::StatReq(req) => {
                if !responsible(self, &req.resource) {
                    return Some(not_found());
                }
                match self.data.stat(now, req, &self.config.kinds) {
                    Ok(a) => Body::StatAns(a),
                    Err(e) => Body::Error(e),
                }
            }
            Body::FindReq(req) => self.answer_find(now, req),
            _ => return None,
        })
    }

    /// Whether a replica or handoff Store (replica_number > 0) of key `k` from `sender` is
    /// accepted (§7.4.1.1: "the storing peer MUST check that it is a valid replica for this
    /// data"; §10.4: replicas come from the responsible peer). Accepted are:
    /// - the owner replicating: `sender` is one of this peer's first two predecessors and
    ///   `k` lies in `sender`'s range as this table sees it (from the next predecessor out,
    ///   or, beyond the table, anywhere not this peer's own);
    /// - a handoff: this peer is responsible for `k` and `sender` is a neighbour (the
    ///   successor that held it, or a peer passing a copy on toward its owner);
    /// - a copy passed on toward the owner by a successor whose view was stale (a peer
    ///   that had not yet learnt of a concurrent joiner): `k` lies in the range of this
    ///   peer or of a predecessor it knows, and this peer passes it on (docs/peer.md);
    /// - a handoff from a peer linked to this one that belongs in its Neighbor Table but
    ///   whose Update has not arrived yet (a peer that joined next to this one hands over
    ///   over the new link, and its Store may overtake its Update);
    /// - while this peer finishes its join, its admitting peer handing over the range it
    ///   will own (its table is not built yet, so the range cannot be checked).
    ///
    /// Anything else is refused with Error_Forbidden and nothing is stored.
    fn replica_accepted(&self, sender: NodeId, k: NodeId) -> bool {
        let preds = &self.neighbors.predecessors;
        if let Some(i) = preds.iter().take(REPLICAS).position(|p| *p == sender) {
            let lower = preds.get(i + 1).copied().unwrap_or(self.id);
            if k.in_half_open(lower, sender) {
                return true;
            }
        }
        if self.state != NodeState::Joined {
            return self.admitting() == Some(sender);
        }
        if self.is_responsible(k)
            && (self.neighbors.contains(sender) || self.linked_newcomer(sender))
        {
            return true;
        }
        self.neighbors.successors.contains(&sender) && self.neighbors.owner_of(self.id, k).is_some()
    }

    /// True if `peer` is linked to this peer (link up, authenticated) and would enter its
    /// Neighbor Table: a neighbour whose Update is still on its way.
    fn linked_newcomer(&self, peer: NodeId) -> bool {
        self.links
            .by_peer(peer)
            .is_some_and(|li| self.links.get(li).state() == LinkState::Up)
            && self.neighbors.would_accept(
                self.id,
                peer,
                self.config.predecessors,
                self.config.successors,
            )
    }

    fn answer_find(&self, now: Time, req: &FindReq) -> Body {
        if !req
            .resource
            .ring_position()
            .is_some_and(|k| self.is_responsible(k))
        {
            return not_found();
        }
        match self.data.find(now, req, &self.config.kinds) {
            Ok(a) => Body::FindAns(a),
            Err(e) => Body::Error(e),
        }
    }

    /// Stores copies of `resource` on the replica set (replica_number 1, 2, …, §10.4).
    fn replicate(&mut self, now: Time, resource: &ResourceId, replicas: &[NodeId]) {
        for (i, peer) in replicas.iter().enumerate() {
            let Some(req) = self.data.replica_request(now, resource, (i + 1) as u8) else {
                continue;
            };
            let direct = self.links.by_peer(*peer).map(|li| self.links.addr(li));
            let _ = self.start_request(
                now,
                vec![Destination::Node(*peer)],
                Body::StoreReq(req),
                Purpose::Replicate {
                    resource: *resource,
                },
                direct,
            );
        }
    }

    /// §7.4.2.2: "Upon receipt of a FetchAns message, nodes MUST verify the signatures on
    /// all the received values. Any values with invalid signatures ... MUST be discarded."
    /// Each value of a FetchAns for `resource` is checked as the datastore checks a Store:
    /// its signature (the same verifier) and the Kind's access policy (for
    /// SIP-REGISTRATION, USER-NODE-MATCH: the dictionary key is the signer's Node-ID).
    /// Synthetic "no such value" entries (exists = False, anonymous signature, §7.4.2.2)
    /// are kept: the whole answer is signed by the responder. A value of a Kind this
    /// node does not know is kept only if its signature verifies. Discarded values are
    /// counted in `bad_signature`; the values kept are reported as the answer.
    /// Returns how many values were discarded.
    pub(super) fn discard_unverified(&mut self, resource: &ResourceId, a: &mut FetchAns) -> u32 {
        let mut discarded = 0u32;
        let verifier = verifier_of(super::rare::injected(&self.rare));
        for kr in &mut a.kind_responses {
            let policy = self.config.kinds.get(kr.kind).map(|d| d.access);
            let kind = kr.kind;
            kr.values.retain(|v| {
                let keep = is_synthetic(v)
                    || verify_value(verifier, resource, kind, v).is_some_and(|signer| {
                        policy.is_none_or(|p| authorized(p, resource, &signer, Some(&v.value)))
                    });
                discarded = discarded.saturating_add(u32::from(!keep));
                keep
            });
        }
        self.stats.bad_signature = self.stats.bad_signature.wrapping_add(discarded);
        discarded
    }

    /// Emits the values of a FetchAns answering one of our `fetch` commands, and how many
    /// values verification discarded (§7.4.2.2: a partial response is signalled to the
    /// application).
    pub(super) fn fetched(&mut self, request: RequestId, msg: &Message, discarded: u32) {
        if let Body::FetchAns(a) = &msg.contents.body {
            self.events.push_back(Event::Fetched {
                request,
                answer: a.clone(),
                discarded,
            });
        }
    }
}

fn not_found() -> Body {
    Body::Error(ErrorResponse::new(
        error_code::NOT_FOUND,
        "not responsible for this Resource-ID",
    ))
}

impl Node {
    /// After the Neighbor Table changed (§10.4, §10.5 step 6, §10.7.3): hand data whose
    /// owner is now a new predecessor to it, replicate owned data to new members of the
    /// replica set, and drop data this peer is no longer a replica of (more than three
    /// predecessors away). Handoff uses `replica_number` 1 (reload-spec.md §15 item 21):
    /// the new owner cannot re-sign others' data, and the replica path copies the
    /// generation counter; the handing-over peer is the new owner's first replica anyway.
    pub(super) fn rebalance(&mut self, now: Time, old: &NeighborTable) {
        let ids: Vec<ResourceId> = self.data.resource_ids().copied().collect();
        let new_set = self.replica_set();
        let old_set: Vec<NodeId> = old.successors.iter().take(REPLICAS).copied().collect();
        // A replica-set member that is no longer a neighbour at all was lost, not displaced.
        let lost_replica = old_set
            .iter()
            .any(|p| !self.neighbors.contains(*p) && !new_set.contains(p));
        let me = self.id;
        let was_responsible = |k: NodeId| old.responsible(me, k);
        let old_pred = old.predecessors.first().copied();
        let keep_from =
            (self.neighbors.predecessors.len() >= 3).then(|| self.neighbors.predecessors[2]);
        for r in ids {
            let Some(k) = r.ring_position() else { continue };
            if self.is_responsible(k) {
                if lost_replica {
                    // §10.7.1: after losing a successor, wait the hold-down before making
                    // new replicas (the successor may only be slow).
                    let at = now + REPLICA_HOLD_DOWN;
                    self.rereplicate_at = self.rereplicate_at.min(at);
                    continue;
                }
                // Newly owned data (a predecessor left or failed) goes to the whole replica
                // set; owned data to members new in it.
                let newly_owned = !was_responsible(k);
                let fresh: Vec<(usize, NodeId)> = new_set
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| newly_owned || !old_set.contains(p))
                    .map(|(i, p)| (i, *p))
                    .collect();
                for (i, peer) in fresh {
                    self.send_copy(now, &r, (i + 1) as u8, peer);
                }
            } else if was_responsible(k) {
                // The new owner: the new predecessor nearest at or after k.
                let owner = self
                    .neighbors
                    .predecessors
                    .iter()
                    .copied()
                    .filter(|p| old_pred.is_none_or(|op| p.in_open(op, me)))
                    .min_by_key(|p| k.distance_to(*p));
                if let Some(owner) = owner {
                    self.send_copy(now, &r, 1, owner);
                }
            } else {
                // A copy held for a predecessor that this table now names as the owner for
                // the first time goes to it: if this copy was placed while views were
                // stale (a peer that had not yet learnt of a concurrent joiner), the owner
                // may never have had it. Stores are idempotent, so a copy the owner
                // already holds costs one message.
                let owner = self.neighbors.owner_of(me, k);
                if let Some(o) = owner.filter(|o| *o != me && owner != old.owner_of(me, k)) {
                    self.send_copy(now, &r, 1, o);
                }
                if keep_from.is_some_and(|far| !k.in_half_open(far, self.id))
                    && !self.copy_pending(&r)
                {
                    self.data.remove(&r);
                }
            }
        }
    }

    /// A replica or handoff copy of `resource`, new here, came from `sender`, but this
    /// peer's table names another peer as its owner: the views disagree (a peer joined
    /// concurrently), and the owner may lack the data. Pass a copy on to it. Only data new
    /// to this peer is passed, so disagreeing views cannot bounce a copy for ever.
    fn pass_toward_owner(&mut self, now: Time, resource: &ResourceId, sender: NodeId) {
        let Some(k) = resource.ring_position() else {
            return;
        };
        let owner = self.neighbors.owner_of(self.id, k);
        if let Some(o) = owner.filter(|o| *o != self.id && *o != sender) {
            self.send_copy(now, resource, 1, o);
        }
    }

    pub(super) fn send_copy(
        &mut self,
        now: Time,
        resource: &ResourceId,
        replica_number: u8,
        peer: NodeId,
    ) {
        let Some(req) = self.data.replica_request(now, resource, replica_number) else {
            return;
        };
        let direct = self.links.by_peer(peer).map(|li| self.links.addr(li));
        let _ = self.start_request(
            now,
            vec![Destination::Node(peer)],
            Body::StoreReq(req),
            Purpose::Replicate {
                resource: *resource,
            },
            direct,
        );
    }
}

impl Node {
    /// The hold-down after a successor loss ended: copy every owned Resource-ID to the
    /// current replica set. Copies a replica already has are accepted as no-ops.
    pub(super) fn rereplicate(&mut self, now: Time) {
        self.rereplicate_at = Time::NEVER;
        let set = self.replica_set();
        let owned: Vec<ResourceId> = self
            .data
            .resource_ids()
            .copied()
            .filter(|r| r.ring_position().is_some_and(|k| self.is_responsible(k)))
            .collect();
        for r in owned {
            for (i, peer) in set.iter().enumerate() {
                self.send_copy(now, &r, (i + 1) as u8, *peer);
            }
        }
    }
}

/// A StoredData value signed by `signer` (§7.1). `storage_time` in ms, `lifetime` in s.
pub(super) fn sign_value_as(
    signer: &dyn Signer,
    resource: &ResourceId,
    kind: KindId,
    storage_time: u64,
    lifetime: u32,
    value: StoredDataValue,
) -> StoredData {
    let identity = signer.identity();
    let signature = match data_signature_input(resource, kind, storage_time, &value, &identity) {
        Ok(input) => signer.sign(&input),
        Err(_) => crate::proto::wire::security::Signature::anonymous(),
    };
    StoredData {
        storage_time,
        lifetime,
        value,
        signature,
    }
}
