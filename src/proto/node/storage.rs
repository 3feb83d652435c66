//! The storage side of the peer (RFC 6940 §7, §10.4): answering Store, Fetch, Stat and Find
//! from the [`DataStore`](crate::proto::store::DataStore), replicating original stores to
//! the next two successors, and the `store` / `fetch` commands.

use super::Node;
use crate::proto::event::{CommandError, Event, NodeState, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::{Signer, SignerInfo, SimVerifier, Verifier};
use crate::proto::store::StoreContext;
use crate::proto::transaction::Purpose;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::storage::{
    FetchReq, FindReq, KindId, StoreKindData, StoreReq, StoredData, StoredDataSpecifier,
    StoredDataValue, data_signature_input,
};
use crate::proto::wire::{Body, Destination, Message};
use crate::time::Time;

/// Copies kept besides the responsible peer's (§10.4: replicas 1 and 2).
const REPLICAS: usize = 2;

/// Verifies a StoredData signature (§7.1); array entries are signed with index 0.
fn verify_value(resource: &ResourceId, kind: KindId, d: &StoredData) -> Option<SignerInfo> {
    let mut value = d.value.clone();
    if let StoredDataValue::Array { index, .. } = &mut value {
        *index = 0;
    }
    let input = data_signature_input(
        resource,
        kind,
        d.storage_time,
        &value,
        &d.signature.identity,
    )
    .ok()?;
    SimVerifier.verify(&d.signature, &input)
}

impl Node {
    /// The replica set: the next `REPLICAS` successors.
    fn replica_set(&self) -> Vec<NodeId> {
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
        let mut signed = value.clone();
        if let StoredDataValue::Array { index, .. } = &mut signed {
            *index = 0;
        }
        let identity = self.crypto.identity();
        let signature = match data_signature_input(resource, kind, storage_time, &signed, &identity)
        {
            Ok(input) => self.crypto.sign(&input),
            Err(_) => crate::proto::wire::security::Signature::anonymous(),
        };
        StoredData {
            storage_time,
            lifetime,
            value,
            signature,
        }
    }

    /// Stores `kind_data` at `resource` (routed to the responsible peer). The answer comes
    /// as `Event::RequestDone` with code store_ans, or an error code.
    pub fn store(
        &mut self,
        now: Time,
        resource: ResourceId,
        kind_data: Vec<StoreKindData>,
    ) -> Result<RequestId, CommandError> {
        if self.state != NodeState::Joined {
            return Err(CommandError::InvalidState(self.state));
        }
        let body = Body::StoreReq(StoreReq {
            resource,
            replica_number: 0,
            kind_data,
        });
        self.start_request(
            now,
            vec![Destination::Resource(resource)],
            body,
            Purpose::Command,
            None,
        )
        .map_err(|_| CommandError::Encode)
    }

    /// Fetches from `resource` (routed to the responsible peer). The values come as
    /// `Event::Fetched`, followed by `Event::RequestDone`.
    pub fn fetch(
        &mut self,
        now: Time,
        resource: ResourceId,
        specifiers: Vec<StoredDataSpecifier>,
    ) -> Result<RequestId, CommandError> {
        if self.state != NodeState::Joined {
            return Err(CommandError::InvalidState(self.state));
        }
        let body = Body::FetchReq(FetchReq {
            resource,
            specifiers,
        });
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
                    // A replica store must come from a plausible responsible peer: one of
                    // our predecessors (§10.4).
                    self.neighbors.predecessors.contains(&who.node_id)
                };
                let replicas = if original {
                    self.replica_set()
                } else {
                    Vec::new()
                };
                let ctx = StoreContext {
                    signer: original.then_some(who),
                    verify: &verify_value,
                    kinds: &self.config.kinds,
                    responsible: placed,
                    replicas: &replicas,
                };
                match self.data.store(now, req, &ctx) {
                    Ok(ans) => {
                        if original {
                            self.replicate(now, &req.resource, &replicas);
                        }
                        Body::StoreAns(ans)
                    }
                    Err(e) => Body::Error(e),
                }
            }
            Body::FetchReq(req) => {
                if !responsible(self, &req.resource) {
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
            let direct = self.links.by_peer(*peer).map(|li| self.links.get(li).addr);
            let _ = self.start_request(
                now,
                vec![Destination::Node(*peer)],
                Body::StoreReq(req),
                Purpose::Replicate,
                direct,
            );
        }
    }

    /// Emits the values of a FetchAns answering one of our `fetch` commands.
    pub(super) fn fetched(&mut self, request: RequestId, msg: &Message) {
        if let Body::FetchAns(a) = &msg.contents.body {
            self.events.push_back(Event::Fetched {
                request,
                answer: a.clone(),
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
