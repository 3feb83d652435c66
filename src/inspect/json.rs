//! The JSON view of a decoded item. Field names follow the RFC structures in snake_case;
//! binary fields are lowercase hex strings; text fields are strings (or `{"hex": …}` when
//! not UTF-8). Enrichments the wire does not carry are added under their own keys:
//! `method`, `error_name`, `extension_name`, and `sip_registration` inside
//! SIP-REGISTRATION values.

use serde_json::{Map, Value, json};

use super::input::{Content, FrameInfo, Item};
use crate::proto::wire::codec::Reader;
use crate::proto::wire::diagnostics::{DiagnosticsRequest, SelfTuningData};
use crate::proto::wire::error_response::error_name;
use crate::proto::wire::message::{code_name, extension_type};
use crate::proto::wire::sip::SipRegistration;
use crate::proto::wire::storage::{KindId, StoredData, StoredDataValue};
use crate::proto::wire::{Body, Message, Wire};

/// The JSON object for one item.
pub fn item_json(index: usize, item: &Item) -> Value {
    let mut o = Map::new();
    o.insert("index".into(), json!(index));
    if let Some(p) = item.origin.packet {
        o.insert("packet".into(), json!(p));
    }
    if let Some(t) = item.origin.time_ns {
        o.insert("time_ns".into(), json!(t));
    }
    if let Some((s, d)) = item.origin.addrs {
        o.insert("src".into(), json!(s.to_string()));
        o.insert("dst".into(), json!(d.to_string()));
    }
    if let Some(t) = item.origin.transport {
        o.insert("transport".into(), json!(t));
    }
    match item.frame {
        Some(FrameInfo::Data { sequence }) => {
            o.insert(
                "frame".into(),
                json!({"type": "data", "sequence": sequence}),
            );
        }
        Some(FrameInfo::Ack {
            ack_sequence,
            received,
        }) => {
            o.insert("frame".into(), json!({"type": "ack", "ack_sequence": ack_sequence, "received": format!("{received:#010x}")}));
        }
        None => {}
    }
    match &item.content {
        Content::Message(m) => {
            o.insert("length".into(), json!(item.length));
            o.insert("message".into(), message_json(m));
        }
        Content::Fragment(h) => {
            o.insert("length".into(), json!(item.length));
            o.insert("fragment".into(), json!({"offset": h.fragment & 0x00ff_ffff, "last": h.fragment & 0x4000_0000 != 0, "header": to_value(h)}));
        }
        Content::Ack => {}
        Content::Error(e) => {
            o.insert("error".into(), json!({"what": e.what, "offset": e.offset, "reason": e.kind.to_string(), "message": e.to_string()}));
        }
    }
    Value::Object(o)
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The JSON object for a whole message.
pub fn message_json(m: &Message) -> Value {
    let code = m.contents.body.code();
    let body = match to_value(&m.contents.body) {
        Value::Object(map) if map.len() == 1 => map
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let mut body = body;
    enrich_body(&m.contents.body, &mut body);
    let extensions: Vec<Value> = m
        .contents
        .extensions
        .iter()
        .map(|e| {
            let mut v = to_value(e);
            let decoded = match e.ext_type {
                extension_type::DIAGNOSTIC_PING => Some((
                    "Diagnostic_Ping",
                    DiagnosticsRequest::from_bytes(&e.contents)
                        .map(|d| to_value(&d))
                        .ok(),
                )),
                extension_type::SELF_TUNING_DATA => Some((
                    "self_tuning_data",
                    SelfTuningData::from_bytes(&e.contents)
                        .map(|d| to_value(&d))
                        .ok(),
                )),
                _ => None,
            };
            if let (Some((name, parsed)), Value::Object(map)) = (decoded, &mut v) {
                map.insert("extension_name".into(), json!(name));
                if let Some(p) = parsed {
                    map.insert("decoded".into(), p);
                }
            }
            v
        })
        .collect();
    json!({
        "header": to_value(&m.header),
        "code": code,
        "method": code_name(code).unwrap_or("unknown"),
        "body": body,
        "extensions": extensions,
        "security": to_value(&m.security),
    })
}

fn enrich_body(body: &Body, v: &mut Value) {
    match body {
        Body::Error(e) => {
            if let Value::Object(map) = v {
                map.insert(
                    "error_name".into(),
                    json!(error_name(e.code).unwrap_or("unassigned")),
                );
            }
        }
        Body::StoreReq(r) => {
            for (i, kd) in r.kind_data.iter().enumerate() {
                if let Some(slot) = v
                    .get_mut("kind_data")
                    .and_then(|k| k.get_mut(i))
                    .and_then(|k| k.get_mut("values"))
                {
                    enrich_values(kd.kind, &kd.values, slot);
                }
            }
        }
        Body::FetchAns(a) => {
            for (i, kr) in a.kind_responses.iter().enumerate() {
                if let Some(slot) = v
                    .get_mut("kind_responses")
                    .and_then(|k| k.get_mut(i))
                    .and_then(|k| k.get_mut("values"))
                {
                    enrich_values(kr.kind, &kr.values, slot);
                }
            }
        }
        _ => {}
    }
}

fn enrich_values(kind: KindId, values: &[StoredData], v: &mut Value) {
    if kind != KindId::SIP_REGISTRATION {
        return;
    }
    for (i, sd) in values.iter().enumerate() {
        let StoredDataValue::Dictionary { value, .. } = &sd.value else {
            continue;
        };
        if !value.exists {
            continue;
        }
        let mut r = Reader::new(&value.value);
        let parsed = SipRegistration::decode(&mut r)
            .and_then(|reg| r.finish("SipRegistration").map(|_| reg));
        let entry = match parsed {
            Ok(reg) => to_value(&reg),
            Err(e) => json!({"error": e.to_string()}),
        };
        if let Some(Value::Object(map)) = v.get_mut(i) {
            map.insert("sip_registration".into(), entry);
        }
    }
}
