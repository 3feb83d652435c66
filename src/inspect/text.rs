//! Human-readable rendering: a heading line per item, then the JSON view as an indented
//! tree. Long hex strings are shortened; `--json` keeps everything.

use std::fmt::Write;

use serde_json::Value;

use super::input::{Content, FrameInfo, Item};
use super::json::message_json;
use crate::proto::wire::message::code_name;

/// Hex strings longer than this many characters are cut in text output.
const HEX_PREVIEW: usize = 64;

/// Renders one item as text.
pub fn render_text(index: usize, item: &Item) -> String {
    let mut s = format!("#{index}");
    if let Some(p) = item.origin.packet {
        let _ = write!(s, " packet {p}");
    }
    if let Some(t) = item.origin.time_ns {
        let _ = write!(s, " t={}.{:09}", t / 1_000_000_000, t % 1_000_000_000);
    }
    if let (Some((a, b)), Some(tr)) = (item.origin.addrs, item.origin.transport) {
        let _ = write!(s, " {tr} {a} -> {b}");
    }
    match item.frame {
        Some(FrameInfo::Data { sequence }) => {
            let _ = write!(s, " [data seq={sequence}]");
        }
        Some(FrameInfo::Ack {
            ack_sequence,
            received,
        }) => {
            let _ = write!(s, " [ack seq={ack_sequence} received={received:#010x}]");
        }
        None => {}
    }
    match &item.content {
        Content::Message(m) => {
            let code = m.contents.body.code();
            let _ = writeln!(
                s,
                " {} (0x{code:04x}) txid={} {} bytes",
                code_name(code).unwrap_or("unknown"),
                m.header.transaction_id,
                item.length
            );
            tree(&message_json(m), 1, &mut s);
        }
        Content::Fragment(h) => {
            let _ = writeln!(
                s,
                " fragment offset={} last={} txid={} {} bytes (not reassembled)",
                h.fragment & 0x00ff_ffff,
                h.fragment & 0x4000_0000 != 0,
                h.transaction_id,
                item.length
            );
        }
        Content::Ack => s.push('\n'),
        Content::Error(e) => {
            let _ = writeln!(s, " DECODE ERROR: {e}");
        }
    }
    s
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(t) if t.len() > HEX_PREVIEW && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("{}… ({} bytes)", &t[..HEX_PREVIEW], t.len() / 2)
        }
        Value::String(t) => format!("{t:?}"),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn tree(v: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match x {
                    Value::Object(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        tree(x, depth + 1, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}: ({} entries)", a.len());
                        tree(x, depth + 1, out);
                    }
                    Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{k}: []");
                    }
                    Value::Object(_) => {
                        let _ = writeln!(out, "{pad}{k}: {{}}");
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(x));
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                match x {
                    Value::Object(m)
                        if m.len() == 1 && !m.values().any(|v| v.is_object() || v.is_array()) =>
                    {
                        for (k, v) in m {
                            let _ = writeln!(out, "{pad}- {k}: {}", scalar(v));
                        }
                    }
                    Value::Object(_) | Value::Array(_) => {
                        let _ = writeln!(out, "{pad}-");
                        tree(x, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", scalar(x));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}
