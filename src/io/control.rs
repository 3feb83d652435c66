//! The control socket of a running peer: a Unix socket carrying JSON lines, one request
//! and one answer a line. `reload-sim ctl` is its client.
//!
//! Requests: `{"cmd":"status"}`, `{"cmd":"stat"}`, `{"cmd":"ping","target":T}`,
//! `{"cmd":"find","target":T}`, `{"cmd":"store",...}`, `{"cmd":"fetch",...}` and
//! `{"cmd":"leave"}`, where `T` is a Node-ID in hex (a routed Ping to that peer) or any
//! other text, a resource name whose Resource-ID is its hash (RFC 6940 §10.2: SHA-1
//! truncated to 128 bits; the Ping reaches the peer responsible for it). Every answer has
//! `"ok"`: `true` with the command's fields, or `false` with `"error"`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One request on the control socket (and the `reload-sim ctl` subcommand that sends it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// Node-ID, state, successors, predecessors, fingers and links.
    Status,
    /// The node's counters.
    Stat,
    /// A routed Ping to a Node-ID (32 hex digits) or to the peer responsible for a
    /// resource name; the answer names the responder and the round-trip time.
    Ping {
        /// A Node-ID, or a resource name.
        target: String,
    },
    /// Which peer is responsible for a Node-ID or resource name: the same routed Ping.
    Find {
        /// A Node-ID, or a resource name.
        target: String,
    },
    /// Store a value (§7.4.1) at a resource name, in a Kind of the configuration; the
    /// value is signed by this peer. A dictionary Kind needs `--key`; an array Kind takes
    /// `--index` (default: append).
    Store {
        /// Where.
        #[command(flatten)]
        #[serde(flatten)]
        at: Place,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        #[serde(default = "default_lifetime")]
        lifetime_s: u32,
        /// The value (stored as its UTF-8 bytes).
        value: String,
    },
    /// Fetch values (§7.4.2) from a resource name: the whole dictionary or array unless a
    /// key or index is given.
    Fetch {
        /// Where.
        #[command(flatten)]
        #[serde(flatten)]
        at: Place,
    },
    /// Leave the overlay (§10.9) and stop the peer.
    Leave,
}

/// Which values a store or fetch is about: a Kind, a resource name, a key or an index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct Place {
    /// The Kind: its id or its name [default: the configuration's first private Kind,
    /// else its first].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The resource name [default: this peer's user name, which USER-MATCH requires].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Dictionary key.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Array index.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

fn default_lifetime() -> u32 {
    3600
}

/// Why `ctl` failed.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// The socket could not be reached or read.
    #[error("control socket {path}: {source}")]
    Io {
        /// The socket's path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The peer's answer is not JSON.
    #[error("the peer answered something that is not JSON: {0}")]
    BadAnswer(String),
    /// The peer refused or failed the command.
    #[error("{0}")]
    Refused(String),
}

/// Sends `request` to the peer listening on `path` and returns its answer (`"ok": true`);
/// a refusal (`"ok": false`) is [`CtlError::Refused`] with the peer's reason.
pub fn call(path: &Path, request: &Request) -> Result<serde_json::Value, CtlError> {
    let io = |source| CtlError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    // Routed requests end within the Node's own retransmission limit (§6.2.1: 5 sends of
    // 3 s); this bound is above it.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .map_err(io)?;
    let mut line = serde_json::to_string(request).expect("a request serialises");
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).map_err(io)?;
    let value: serde_json::Value =
        serde_json::from_str(&answer).map_err(|_| CtlError::BadAnswer(answer.clone()))?;
    if value["ok"] == serde_json::Value::Bool(true) {
        Ok(value)
    } else {
        Err(CtlError::Refused(
            value["error"].as_str().unwrap_or("refused").to_string(),
        ))
    }
}

/// An answer as text for a terminal: one `key: value` line a field, lists one item a
/// line.
pub fn human(answer: &serde_json::Value) -> String {
    let mut out = String::new();
    let Some(fields) = answer.as_object() else {
        return answer.to_string();
    };
    for (key, value) in fields {
        if key == "ok" {
            continue;
        }
        match value {
            serde_json::Value::Array(items) => {
                out.push_str(&format!("{key}: {}\n", items.len()));
                for item in items {
                    out.push_str(&format!("  {}\n", flat(item)));
                }
            }
            serde_json::Value::Object(_) => {
                out.push_str(&format!("{key}:\n"));
                for line in human(value).lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
            v => out.push_str(&format!("{key}: {}\n", flat(v))),
        }
    }
    out
}

fn flat(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", flat(v)))
            .collect::<Vec<_>>()
            .join(" "),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_json_lines_with_a_cmd() {
        let r = Request::Ping {
            target: "alice".into(),
        };
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(s, r#"{"cmd":"ping","target":"alice"}"#);
        assert_eq!(serde_json::from_str::<Request>(&s).unwrap(), r);
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"cmd":"status"}"#).unwrap(),
            Request::Status
        );
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"reboot"}"#).is_err());
        let store: Request =
            serde_json::from_str(r#"{"cmd":"store","key":"colour","value":"blue"}"#).unwrap();
        assert_eq!(
            store,
            Request::Store {
                at: Place {
                    key: Some("colour".into()),
                    ..Place::default()
                },
                lifetime_s: 3600,
                value: "blue".into()
            }
        );
    }

    #[test]
    fn answers_read_as_lines() {
        let v = serde_json::json!({"ok": true, "state": "Joined", "successors": ["a", "b"]});
        assert_eq!(human(&v), "state: Joined\nsuccessors: 2\n  a\n  b\n");
    }
}
