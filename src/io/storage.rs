//! `ctl store` and `ctl fetch`: a control request made into a Store (§7.4.1) or Fetch
//! (§7.4.2) of the Node, and a FetchAns made into JSON.

use serde_json::{Value, json};

use super::control::Place;
use crate::proto::event::RequestId;
use crate::proto::id::ResourceId;
use crate::proto::node::Node;
use crate::proto::store::KindDef;
use crate::proto::wire::storage::{
    ArrayRange, DataModel, DataValue, DictionaryKey, FetchAns, KindId, SpecifierIndices,
    StoreKindData, StoredDataSpecifier, StoredDataValue,
};
use crate::time::Time;

/// Index 0xffffffff of an ArrayEntry: append (§7.2.2).
const APPEND: u32 = u32::MAX;

/// The Kind named by `kind` (an id or a name), or else the configuration's first
/// private Kind (the USER-VALUES dictionary of `ca init`), or else its first.
fn kind_of(node: &Node, kind: Option<&str>) -> Result<KindDef, String> {
    let kinds = &node.config().kinds;
    let found = match kind {
        None => kinds
            .iter()
            .find(|d| crate::proto::store::kinds::is_private(d.id))
            .or_else(|| kinds.iter().next()),
        Some(k) => match k.parse::<u32>() {
            Ok(id) => kinds.get(KindId(id)),
            Err(_) => kinds.iter().find(|d| d.name.eq_ignore_ascii_case(k)),
        },
    };
    found
        .cloned()
        .ok_or_else(|| format!("no Kind {:?} in the configuration", kind.unwrap_or("")))
}

/// Milliseconds since 1970 (§7.1 storage_time), and at least one more than the last this
/// process gave, so two stores within a millisecond still replace in order.
fn storage_time() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let prev = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(wall.max(last + 1))
        })
        .unwrap_or(0);
    wall.max(prev + 1)
}

/// Starts a Store of `value` at `at`, signed by this node, for `lifetime_s` seconds.
pub fn store(
    node: &mut Node,
    now: Time,
    user: &str,
    at: &Place,
    lifetime_s: u32,
    value: &str,
) -> Result<RequestId, String> {
    let def = kind_of(node, at.kind.as_deref())?;
    let data = DataValue {
        exists: true,
        value: value.as_bytes().to_vec(),
    };
    let value = match (def.model, &at.key, at.index) {
        (DataModel::Single, None, None) => StoredDataValue::Single(data),
        (DataModel::Array, None, i) => StoredDataValue::Array {
            index: i.unwrap_or(APPEND),
            value: data,
        },
        (DataModel::Dictionary, Some(k), None) => StoredDataValue::Dictionary {
            key: k.as_bytes().to_vec(),
            value: data,
        },
        (DataModel::Dictionary, None, _) => return Err("a dictionary Kind needs --key".into()),
        (m, _, _) => return Err(format!("--key or --index do not fit a {m:?} Kind")),
    };
    let resource = ResourceId::hash(at.resource.as_deref().unwrap_or(user).as_bytes());
    let signed = node.sign_value(&resource, def.id, storage_time(), lifetime_s, value);
    let kd = StoreKindData {
        kind: def.id,
        generation_counter: 0,
        values: vec![signed],
    };
    node.store(now, resource, vec![kd])
        .map_err(|e| e.to_string())
}

/// Starts a Fetch of the values at `at`.
pub fn fetch(node: &mut Node, now: Time, user: &str, at: &Place) -> Result<RequestId, String> {
    let def = kind_of(node, at.kind.as_deref())?;
    let indices = match (def.model, &at.key, at.index) {
        (DataModel::Single, None, None) => SpecifierIndices::Single,
        (DataModel::Array, None, None) => SpecifierIndices::Array(vec![ArrayRange {
            first: 0,
            last: APPEND,
        }]),
        (DataModel::Array, None, Some(i)) => {
            SpecifierIndices::Array(vec![ArrayRange { first: i, last: i }])
        }
        (DataModel::Dictionary, k, None) => SpecifierIndices::Dictionary(
            k.iter()
                .map(|k| DictionaryKey(k.as_bytes().to_vec()))
                .collect(),
        ),
        (m, _, _) => return Err(format!("--key or --index do not fit a {m:?} Kind")),
    };
    let name = at.resource.as_deref().unwrap_or(user);
    let spec = StoredDataSpecifier {
        kind: def.id,
        generation: 0,
        indices,
    };
    node.fetch(now, ResourceId::hash(name.as_bytes()), vec![spec])
        .map_err(|e| e.to_string())
}

/// Text of stored bytes: UTF-8 as it is, anything else in hex.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The values of a FetchAns that exist, one JSON object each; a partial answer (values
/// that failed verification, §7.4.2.2) adds one object saying how many were left out.
pub fn fetched_values(answer: &FetchAns, discarded: u32) -> Vec<Value> {
    let mut out = Vec::new();
    for kr in &answer.kind_responses {
        for v in &kr.values {
            let data = v.value.data();
            if !data.exists {
                continue;
            }
            let mut o = json!({
                "kind": kr.kind.0,
                "value": text(&data.value),
                "storage_time": v.storage_time,
                "lifetime_s": v.lifetime,
            });
            match &v.value {
                StoredDataValue::Array { index, .. } => o["index"] = json!(index),
                StoredDataValue::Dictionary { key, .. } => o["key"] = json!(text(key)),
                StoredDataValue::Single(_) => {}
            }
            out.push(o);
        }
    }
    if discarded > 0 {
        out.push(json!({"discarded": discarded}));
    }
    out
}
