//! The storing peer's data and Store (RFC 6940 §7.4.1), expiry, and the export used for
//! replication and handoff (§7.4.1.1, §10.4). Fetch, Stat and Find are in
//! [`super::query`].
//!
//! Sans-IO: every call takes the current [`Time`]; signature checks are done by the
//! caller through [`StoreContext::verify`]. Iteration order is that of `BTreeMap`s, so
//! outputs are deterministic.

use std::collections::{BTreeMap, BTreeSet};

use super::access::{SignerInfo, authorized};
use super::kinds::{KindConfig, KindDef};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::security::{Signature, SignatureAndHashAlgorithm, SignerIdentity};
use crate::proto::wire::storage::{
    DataModel, DataValue, KindId, StoreAns, StoreKindData, StoreKindResponse, StoreReq, StoredData,
    StoredDataValue,
};
use crate::time::{Duration, Time};

/// Array index meaning "append" in a Store and "the last element" in an ArrayRange
/// (§7.4.1.1, §7.4.2.1).
pub const ARRAY_END: u32 = 0xffff_ffff;

/// Most Kind-IDs an Error_Unknown_Kind can list (`KindId unknown_kinds<0..2^8-1>`).
const MAX_UNKNOWN_KINDS: usize = 63;

/// Where a value sits inside its Kind: the data-model position.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Slot {
    Single,
    Index(u32),
    Key(Vec<u8>),
}

impl Slot {
    /// A synthesized "no such value" StoredDataValue for this position (§7.4.2.2).
    pub(super) fn missing(&self) -> StoredDataValue {
        let value = DataValue {
            exists: false,
            value: Vec::new(),
        };
        match self {
            Slot::Single => StoredDataValue::Single(value),
            Slot::Index(index) => StoredDataValue::Array {
                index: *index,
                value,
            },
            Slot::Key(key) => StoredDataValue::Dictionary {
                key: key.clone(),
                value,
            },
        }
    }
}

/// One stored value or tombstone.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    /// As received (an append carries its real index), with the original lifetime.
    pub(super) data: StoredData,
    /// Receipt of the StoreReq plus `lifetime` seconds (§7): expired at `expiry` exactly.
    pub(super) expiry: Time,
}

impl Entry {
    pub(super) fn live(&self, now: Time) -> bool {
        now < self.expiry
    }

    /// Whole seconds left (rounded down), the lifetime to send when this value leaves
    /// this peer (§7.4.1.1: "adjust the lifetime value downward").
    pub(super) fn remaining_secs(&self, now: Time) -> u32 {
        let secs = self.expiry.saturating_since(now).as_nanos() / 1_000_000_000;
        u32::try_from(secs).unwrap_or(u32::MAX)
    }

    /// The value as it leaves this peer: lifetime reduced to what remains.
    pub(super) fn outgoing(&self, now: Time) -> StoredData {
        StoredData {
            lifetime: self.remaining_secs(now),
            ..self.data.clone()
        }
    }
}

/// The values of one Kind at one Resource-ID and its generation counter.
#[derive(Clone, Debug, Default)]
pub(super) struct KindData {
    /// ≥ 1 once written (§7.4.1.1).
    pub(super) generation: u64,
    pub(super) entries: BTreeMap<Slot, Entry>,
}

impl KindData {
    pub(super) fn live(&self, now: Time) -> impl Iterator<Item = (&Slot, &Entry)> {
        self.entries.iter().filter(move |(_, e)| e.live(now))
    }

    pub(super) fn get_live(&self, slot: &Slot, now: Time) -> Option<&Entry> {
        self.entries.get(slot).filter(|e| e.live(now))
    }

    /// Highest live array index + 1 (0 if none).
    pub(super) fn array_len(&self, now: Time) -> u64 {
        self.live(now)
            .filter_map(|(s, _)| match s {
                Slot::Index(i) => Some(u64::from(*i) + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// What [`DataStore::store`] needs to know besides the request.
pub struct StoreContext<'a> {
    /// The verified signer of the StoreReq message. `None` for replica and handoff stores
    /// (`replica_number` ≠ 0), whose request signer is not checked against the policy
    /// (§7.3); a non-replica store without a signer is refused with Error_Forbidden.
    pub signer: Option<SignerInfo>,
    /// Checks one StoredData signature and returns its signer, or `None` if the signature
    /// or the certificate is not valid now. The caller computes
    /// [`data_signature_input`](crate::proto::wire::storage::data_signature_input) for
    /// (Resource-ID, Kind, value), which signs array entries with index 0 (§7.2.2), so
    /// appends (0xffffffff) and re-stored entries verify alike.
    pub verify: &'a dyn Fn(&ResourceId, KindId, &StoredData) -> Option<SignerInfo>,
    /// The overlay's Kinds.
    pub kinds: &'a KindConfig,
    /// Placement check done by the topology (§7.4.1.1). For `replica_number` 0: this
    /// peer is responsible for the Resource-ID. For a replica: this peer expects to be a
    /// replica and the sender is plausible (in CHORD-RELOAD, in the known replica set or
    /// closer than a member of it). `false` → Error_Forbidden.
    pub responsible: bool,
    /// The Node-IDs this peer will replicate to, reported in every StoreKindResponse.
    pub replicas: &'a [NodeId],
}

/// All values this peer stores, by Resource-ID and Kind.
#[derive(Clone, Debug, Default)]
pub struct DataStore {
    pub(super) resources: BTreeMap<ResourceId, BTreeMap<KindId, KindData>>,
    /// Expiry index: (expiry, resource, kind, slot) for every entry.
    expiries: BTreeSet<(Time, ResourceId, KindId, Slot)>,
    /// Entries held (values and tombstones), expired or not yet collected included.
    values: usize,
}

fn forbidden(text: &str) -> ErrorResponse {
    ErrorResponse::new(error_code::FORBIDDEN, text)
}

pub(super) fn invalid(text: &str) -> ErrorResponse {
    ErrorResponse::new(error_code::INVALID_MESSAGE, text)
}

pub(super) fn unknown_kinds_error(kinds: &[KindId]) -> ErrorResponse {
    let listed = &kinds[..kinds.len().min(MAX_UNKNOWN_KINDS)];
    ErrorResponse::unknown_kinds(listed)
        .unwrap_or_else(|_| ErrorResponse::new(error_code::UNKNOWN_KIND, "unknown Kind"))
}

/// Collects the unknown Kinds of a request, in request order without duplicates.
pub(super) fn unknown_kinds(ids: impl Iterator<Item = KindId>, kinds: &KindConfig) -> Vec<KindId> {
    let mut unknown: Vec<KindId> = Vec::new();
    for id in ids {
        if kinds.get(id).is_none() && !unknown.contains(&id) {
            unknown.push(id);
        }
    }
    unknown
}

/// `{identity none}` or `{0, 0}`: only synthesized values may carry these (§7.4.1.1).
fn is_anonymous(sig: &Signature) -> bool {
    sig.identity == SignerIdentity::None || sig.algorithm == SignatureAndHashAlgorithm::ANONYMOUS
}

/// Same value, time and signature: a repeated store (lifetime is not compared).
fn same_value(a: &StoredData, b: &StoredData) -> bool {
    a.storage_time == b.storage_time && a.value == b.value && a.signature == b.signature
}

/// The writes one StoreKindData will make, computed before anything changes.
struct KindPlan {
    kind: KindId,
    writes: Vec<(Slot, StoredData)>,
}

impl DataStore {
    /// An empty store.
    pub fn new() -> DataStore {
        DataStore::default()
    }

    /// Entries held (values and tombstones), including expired ones not yet collected by
    /// [`DataStore::expire`].
    pub fn len(&self) -> usize {
        self.values
    }

    /// Estimated heap bytes: each entry with its tree nodes (about 1.5× the entry, with
    /// its expiry index key) and its encoded value.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let entry = size_of::<(Slot, Entry)>() + size_of::<(Time, ResourceId, KindId, Slot)>();
        let kinds: usize = self.resources.values().map(BTreeMap::len).sum();
        let values: usize = self
            .resources
            .values()
            .flat_map(BTreeMap::values)
            .flat_map(|k| k.entries.values())
            .map(|e| crate::proto::wire::Wire::encoded_len(&e.data))
            .sum();
        (self.values * entry + kinds * size_of::<(ResourceId, KindId, KindData)>()) * 3 / 2 + values
    }

    /// True if nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values == 0
    }

    /// Resource-IDs with at least one entry (for Probe's `num_resources`, RFC 6940 §6.4.2).
    pub fn num_resources(&self) -> usize {
        self.resources.len()
    }

    /// The stored generation counter of `kind` at `resource`; 0 if nothing is stored.
    pub fn generation(&self, resource: &ResourceId, kind: KindId) -> u64 {
        self.kind_data(resource, kind).map_or(0, |k| k.generation)
    }

    pub(super) fn kind_data(&self, resource: &ResourceId, kind: KindId) -> Option<&KindData> {
        self.resources.get(resource).and_then(|m| m.get(&kind))
    }

    /// Handles a StoreReq received at `now` (§7.4.1). Atomic: every check is made for the
    /// whole request before anything is written, so on error no value of the request is
    /// applied (entries already expired at `now` are still collected).
    ///
    /// Checks, in this order: placement ([`StoreContext::responsible`], Error_Forbidden);
    /// every Kind known (Error_Unknown_Kind listing them); no Kind twice and every value
    /// of the Kind's data model (Error_Invalid_Message); no anonymous value signature,
    /// every value signature valid and its signer authorized, and for a non-replica store
    /// the StoreReq signer authorized for every value (Error_Forbidden); non-replica: a
    /// nonzero generation counter equal to the stored one (else
    /// Error_Generation_Counter_Too_Low with a StoreAns of the current counters; a
    /// counter above the stored one is refused the same way), replica: nonzero
    /// (Error_Invalid_Message); each storage_time newer than the value it replaces
    /// (Error_Data_Too_Old; an identical value with the same storage_time is accepted
    /// as a no-op, so re-replication is idempotent); value sizes and counts within the
    /// Kind's limits (Error_Data_Too_Large).
    ///
    /// Then the values are written with expiry `now + lifetime`; array index 0xffffffff
    /// appends after the highest index. A non-replica store that changed something adds 1
    /// to the Kind's generation; a replica store sets it to the request's.
    pub fn store(
        &mut self,
        now: Time,
        req: &StoreReq,
        ctx: &StoreContext<'_>,
    ) -> Result<StoreAns, ErrorResponse> {
        self.expire(now);
        let replica = req.replica_number != 0;
        let resource = &req.resource;
        if !ctx.responsible {
            return Err(forbidden(if replica {
                "replica store from an implausible sender"
            } else {
                "not responsible for this Resource-ID"
            }));
        }
        let unknown = unknown_kinds(req.kind_data.iter().map(|k| k.kind), ctx.kinds);
        if !unknown.is_empty() {
            return Err(unknown_kinds_error(&unknown));
        }
        let mut defs: Vec<&KindDef> = Vec::with_capacity(req.kind_data.len());
        for (i, kd) in req.kind_data.iter().enumerate() {
            if req.kind_data[..i].iter().any(|o| o.kind == kd.kind) {
                return Err(invalid("Kind-ID appears twice in StoreReq"));
            }
            let def = ctx
                .kinds
                .get(kd.kind)
                .ok_or_else(|| unknown_kinds_error(&[kd.kind]))?;
            if kd.values.iter().any(|v| v.value.model() != def.model) {
                return Err(invalid("value does not match the Kind's data model"));
            }
            defs.push(def);
        }
        for (kd, def) in req.kind_data.iter().zip(&defs) {
            self.check_access(req, kd, def, ctx)?;
        }
        self.check_generations(req)?;
        let mut plans = Vec::with_capacity(req.kind_data.len());
        for kd in &req.kind_data {
            plans.push(self.plan(resource, kd)?);
        }
        for (plan, def) in plans.iter().zip(&defs) {
            self.check_limits(resource, plan, def)?;
        }
        let mut kind_responses = Vec::with_capacity(plans.len());
        for (plan, kd) in plans.into_iter().zip(&req.kind_data) {
            let generation = self.apply(
                now,
                resource,
                plan,
                replica.then_some(kd.generation_counter),
            );
            kind_responses.push(StoreKindResponse {
                kind: kd.kind,
                generation_counter: generation,
                replicas: ctx.replicas.to_vec(),
            });
        }
        self.expire(now);
        Ok(StoreAns { kind_responses })
    }

    /// Signatures and access policy for one Kind (§7.3, §7.4.1.1).
    fn check_access(
        &self,
        req: &StoreReq,
        kd: &StoreKindData,
        def: &KindDef,
        ctx: &StoreContext<'_>,
    ) -> Result<(), ErrorResponse> {
        let resource = &req.resource;
        let request_signer = if req.replica_number == 0 {
            let s = ctx
                .signer
                .as_ref()
                .ok_or_else(|| forbidden("StoreReq signer unknown"))?;
            if kd.values.is_empty() && !authorized(def.access, resource, s, None) {
                return Err(forbidden("StoreReq signer not authorized"));
            }
            Some(s)
        } else {
            None
        };
        for v in &kd.values {
            if is_anonymous(&v.signature) {
                return Err(forbidden("anonymous signature on stored data"));
            }
            let signer = (ctx.verify)(resource, kd.kind, v)
                .ok_or_else(|| forbidden("invalid data signature"))?;
            if !authorized(def.access, resource, &signer, Some(&v.value)) {
                return Err(forbidden("data signer not authorized"));
            }
            if let Some(s) = request_signer
                && !authorized(def.access, resource, s, Some(&v.value))
            {
                return Err(forbidden("StoreReq signer not authorized"));
            }
        }
        Ok(())
    }

    /// Generation counters (§7.4.1.1, §7.4.1.2).
    fn check_generations(&self, req: &StoreReq) -> Result<(), ErrorResponse> {
        if req.replica_number != 0 {
            if req.kind_data.iter().any(|k| k.generation_counter == 0) {
                return Err(invalid("replica store with generation counter 0"));
            }
            return Ok(());
        }
        let stale = req.kind_data.iter().any(|k| {
            k.generation_counter != 0
                && k.generation_counter != self.generation(&req.resource, k.kind)
        });
        if !stale {
            return Ok(());
        }
        let current = StoreAns {
            kind_responses: req
                .kind_data
                .iter()
                .map(|k| StoreKindResponse {
                    kind: k.kind,
                    generation_counter: self.generation(&req.resource, k.kind),
                    replicas: Vec::new(),
                })
                .collect(),
        };
        Err(
            ErrorResponse::generation_too_low(&current).unwrap_or_else(|_| {
                ErrorResponse::new(error_code::GENERATION_COUNTER_TOO_LOW, "generation too low")
            }),
        )
    }

    /// Resolves positions (appends) and checks storage times against the values that
    /// would be replaced, including earlier values of the same request.
    fn plan(&self, resource: &ResourceId, kd: &StoreKindData) -> Result<KindPlan, ErrorResponse> {
        let existing = self.kind_data(resource, kd.kind);
        let mut next_append = existing.map_or(0, |k| {
            k.entries
                .keys()
                .filter_map(|s| match s {
                    Slot::Index(i) => Some(u64::from(*i) + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0)
        });
        let mut writes: Vec<(Slot, StoredData)> = Vec::with_capacity(kd.values.len());
        for v in &kd.values {
            let mut data = v.clone();
            let slot = match &mut data.value {
                StoredDataValue::Single(_) => Slot::Single,
                StoredDataValue::Array { index, .. } => {
                    if *index == ARRAY_END {
                        if next_append >= u64::from(ARRAY_END) {
                            return Err(ErrorResponse::new(
                                error_code::DATA_TOO_LARGE,
                                "array full",
                            ));
                        }
                        *index = next_append as u32;
                    }
                    next_append = next_append.max(u64::from(*index) + 1);
                    Slot::Index(*index)
                }
                StoredDataValue::Dictionary { key, .. } => Slot::Key(key.clone()),
            };
            let previous = writes
                .iter()
                .rev()
                .find(|(s, _)| *s == slot)
                .map(|(_, d)| d)
                .or_else(|| existing.and_then(|k| k.entries.get(&slot)).map(|e| &e.data));
            if let Some(prev) = previous {
                if same_value(prev, &data) {
                    continue;
                }
                if data.storage_time <= prev.storage_time {
                    return Err(ErrorResponse::new(
                        error_code::DATA_TOO_OLD,
                        "storage_time not newer than the stored value",
                    ));
                }
            }
            writes.push((slot, data));
        }
        Ok(KindPlan {
            kind: kd.kind,
            writes,
        })
    }

    /// `max-size` per value, `max-count` of the Kind after the writes.
    fn check_limits(
        &self,
        resource: &ResourceId,
        plan: &KindPlan,
        def: &KindDef,
    ) -> Result<(), ErrorResponse> {
        let too_large = |what| ErrorResponse::new(error_code::DATA_TOO_LARGE, what);
        if plan
            .writes
            .iter()
            .any(|(_, d)| d.value.data().value.len() as u64 > u64::from(def.max_size))
        {
            return Err(too_large("value larger than max-size"));
        }
        let existing = self.kind_data(resource, plan.kind);
        let old = existing.into_iter().flat_map(|k| k.entries.keys());
        let new = plan.writes.iter().map(|(s, _)| s);
        let count = match def.model {
            DataModel::Array => old
                .chain(new)
                .filter_map(|s| match s {
                    Slot::Index(i) => Some(u64::from(*i) + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0),
            DataModel::Single | DataModel::Dictionary => {
                let fresh = new
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter(|s| existing.is_none_or(|k| !k.entries.contains_key(*s)))
                    .count();
                (existing.map_or(0, |k| k.entries.len()) + fresh) as u64
            }
        };
        if count > u64::from(def.max_count) {
            return Err(too_large("more values than max-count"));
        }
        Ok(())
    }

    /// Writes one Kind's values; returns the resulting generation. `replica_generation` is
    /// the counter to copy for a replica store.
    fn apply(
        &mut self,
        now: Time,
        resource: &ResourceId,
        plan: KindPlan,
        replica_generation: Option<u64>,
    ) -> u64 {
        let exists = self.kind_data(resource, plan.kind).is_some();
        if plan.writes.is_empty() && !exists {
            return replica_generation.unwrap_or(0);
        }
        let changed = !plan.writes.is_empty();
        let kd = self
            .resources
            .entry(*resource)
            .or_default()
            .entry(plan.kind)
            .or_default();
        for (slot, data) in plan.writes {
            let expiry = now + Duration::from_secs(u64::from(data.lifetime));
            let entry = Entry { data, expiry };
            match kd.entries.insert(slot.clone(), entry) {
                Some(old) => {
                    self.expiries
                        .remove(&(old.expiry, *resource, plan.kind, slot.clone()));
                }
                None => self.values += 1,
            }
            self.expiries.insert((expiry, *resource, plan.kind, slot));
        }
        match replica_generation {
            Some(g) => kd.generation = g,
            None if changed => kd.generation = kd.generation.saturating_add(1),
            None => {}
        }
        kd.generation
    }

    /// Removes every entry whose expiry is at or before `now`, and Kinds and Resource-IDs
    /// left empty (their generation counters are forgotten). Returns the number removed.
    pub fn expire(&mut self, now: Time) -> usize {
        let mut removed = 0;
        while let Some(first) = self.expiries.first() {
            if first.0 > now {
                break;
            }
            let Some((_, resource, kind, slot)) = self.expiries.pop_first() else {
                break;
            };
            if let Some(kinds) = self.resources.get_mut(&resource) {
                if let Some(kd) = kinds.get_mut(&kind) {
                    if kd.entries.remove(&slot).is_some() {
                        removed += 1;
                        self.values -= 1;
                    }
                    if kd.entries.is_empty() {
                        kinds.remove(&kind);
                    }
                }
                if kinds.is_empty() {
                    self.resources.remove(&resource);
                }
            }
        }
        removed
    }

    /// The earliest expiry of any held entry: when [`DataStore::expire`] next has work.
    pub fn next_expiry(&self) -> Option<Time> {
        self.expiries.first().map(|e| e.0)
    }

    /// Drops everything stored at `resource` (for example when this peer leaves its
    /// replica set, §10.4). Returns the number of entries removed.
    pub fn remove(&mut self, resource: &ResourceId) -> usize {
        let Some(kinds) = self.resources.remove(resource) else {
            return 0;
        };
        let mut removed = 0;
        for (kind, kd) in kinds {
            for (slot, e) in kd.entries {
                self.expiries.remove(&(e.expiry, *resource, kind, slot));
                removed += 1;
            }
        }
        self.values -= removed;
        removed
    }

    /// The StoreKindData that re-stores `resource` elsewhere (replication or handoff,
    /// §7.4.1.1): live values and tombstones as received, each lifetime reduced to the
    /// whole seconds remaining (values with less than 1 s left are left out), and the
    /// stored generation counter (≥ 1, valid for a replica store). Kinds by ascending ID.
    pub fn export(&self, now: Time, resource: &ResourceId) -> Vec<StoreKindData> {
        let Some(kinds) = self.resources.get(resource) else {
            return Vec::new();
        };
        kinds
            .iter()
            .filter_map(|(kind, kd)| {
                let values: Vec<StoredData> = kd
                    .live(now)
                    .filter(|(_, e)| e.remaining_secs(now) > 0)
                    .map(|(_, e)| e.outgoing(now))
                    .collect();
                (!values.is_empty()).then_some(StoreKindData {
                    kind: *kind,
                    generation_counter: kd.generation,
                    values,
                })
            })
            .collect()
    }

    /// Every Resource-ID held, ascending, with its [`DataStore::export`]; Resource-IDs
    /// with nothing left to send are skipped.
    pub fn resources(&self, now: Time) -> impl Iterator<Item = (ResourceId, Vec<StoreKindData>)> {
        self.resources.keys().filter_map(move |r| {
            let data = self.export(now, r);
            (!data.is_empty()).then_some((*r, data))
        })
    }

    /// The Resource-IDs held, ascending.
    pub fn resource_ids(&self) -> impl Iterator<Item = &ResourceId> {
        self.resources.keys()
    }

    /// A StoreReq re-storing `resource` with the given `replica_number`, or `None` if
    /// nothing is left to send.
    pub fn replica_request(
        &self,
        now: Time,
        resource: &ResourceId,
        replica_number: u8,
    ) -> Option<StoreReq> {
        let kind_data = self.export(now, resource);
        (!kind_data.is_empty()).then_some(StoreReq {
            resource: *resource,
            replica_number,
            kind_data,
        })
    }
}
