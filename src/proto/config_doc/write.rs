//! Writing a minimal §11.1 Configuration Document from an [`OverlayConfig`]. One element
//! per line, no indentation, attributes in a fixed order: the same configuration always
//! gives the same bytes.
//!
//! Durations are written in the units of §11.1: the chord intervals in whole seconds and
//! `overlay-reliability-timer` in whole milliseconds, rounded to the nearest (a simulated
//! overlay may use fractions; a node that accepts the document gets the rounded value).

use std::fmt::Write as _;

use super::xml::escape;
use super::{CHORD_RELOAD, ConfigDocument, NS_BASE, NS_CHORD, read::registration};
use crate::proto::config::OverlayConfig;
use crate::proto::identity::{Signer, SignerInfo, SimCrypto};
use crate::proto::store::{AccessPolicy, KindDef};
use crate::proto::wire::storage::DataModel;
use crate::proto::wire::{SecurityBlock, Wire, base64};
use crate::time::Duration;

/// The Configuration Document of `cfg`. When `cfg.document_signer` is set, the
/// `configuration` element and every `kind` element are signed as that identity (a
/// [`SimCrypto`] signature in a base64 SecurityBlock); otherwise the document carries no
/// signatures and no receiver will accept it in a ConfigUpdate.
pub fn write(cfg: &OverlayConfig) -> ConfigDocument {
    let mut s = String::with_capacity(2048);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<overlay xmlns=\"{NS_BASE}\" xmlns:chord=\"{NS_CHORD}\">"
    );
    let config_start = s.len();
    let _ = writeln!(
        s,
        "<configuration instance-name=\"{}\" sequence=\"{}\">",
        escape(&cfg.overlay_name),
        cfg.configuration_sequence
    );
    for der in &cfg.root_certs {
        let _ = writeln!(s, "<root-cert>{}</root-cert>", base64::encode(der, '='));
    }
    if cfg.self_signed_permitted {
        let _ = writeln!(
            s,
            "<self-signed-permitted digest=\"sha1\">true</self-signed-permitted>"
        );
    }
    for addr in &cfg.bootstrap_nodes {
        let _ = writeln!(
            s,
            "<bootstrap-node address=\"{}\" port=\"{}\"/>",
            addr.ip(),
            addr.port()
        );
    }
    let mut element = |name: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(s, "<{name}>{value}</{name}>");
    };
    element("topology-plugin", &CHORD_RELOAD);
    element("node-id-length", &16);
    element(
        "chord:chord-update-interval",
        &secs(cfg.chord_update_interval),
    );
    element("chord:chord-ping-interval", &secs(cfg.chord_ping_interval));
    element("chord:chord-reactive", &cfg.chord_reactive);
    element("max-message-size", &cfg.max_message_size);
    element("initial-ttl", &cfg.initial_ttl);
    element("overlay-reliability-timer", &millis(cfg.reliability_timer));
    for id in &cfg.configuration_signers {
        element("configuration-signer", id);
    }
    for id in &cfg.kind_signers {
        element("kind-signer", id);
    }
    let mut blocks = Vec::with_capacity(cfg.kinds.len());
    if !cfg.kinds.is_empty() {
        s.push_str("<required-kinds>\n");
        for def in cfg.kinds.iter() {
            let start = s.len();
            write_kind_block(&mut s, def, cfg.document_signer.as_ref());
            blocks.push((def.id, start..s.len()));
            s.push('\n');
        }
        s.push_str("</required-kinds>\n");
    }
    s.push_str("</configuration>");
    let config_span = config_start..s.len();
    s.push('\n');
    if let Some(signer) = &cfg.document_signer {
        let _ = writeln!(
            s,
            "<signature>{}</signature>",
            sign(signer, &s[config_span])
        );
    }
    s.push_str("</overlay>\n");
    ConfigDocument::new(s.into_bytes(), &blocks)
}

/// Appends the `kind-block` element for `def`, its `kind` element signed by `signer` if given.
fn write_kind_block(s: &mut String, def: &KindDef, signer: Option<&SignerInfo>) {
    s.push_str("<kind-block>\n");
    let kind_start = s.len();
    // An IANA-registered Kind is named; any other is given by its Kind-ID (§11.1).
    match registration(&def.name).filter(|r| r.id == def.id) {
        Some(_) => {
            let _ = writeln!(s, "<kind name=\"{}\">", escape(&def.name));
        }
        None => {
            let _ = writeln!(s, "<kind id=\"{}\">", def.id.0);
        }
    }
    let model = match def.model {
        DataModel::Single => "SINGLE",
        DataModel::Array => "ARRAY",
        DataModel::Dictionary => "DICTIONARY",
    };
    let _ = writeln!(s, "<data-model>{model}</data-model>");
    let _ = writeln!(s, "<access-control>{}</access-control>", def.access.name());
    if let AccessPolicy::NodeMultiple { max } = def.access {
        let _ = writeln!(s, "<max-node-multiple>{max}</max-node-multiple>");
    }
    let _ = writeln!(s, "<max-count>{}</max-count>", def.max_count);
    let _ = writeln!(s, "<max-size>{}</max-size>", def.max_size);
    s.push_str("</kind>");
    let kind_span = kind_start..s.len();
    s.push('\n');
    if let Some(signer) = signer {
        let sig = sign(signer, &s[kind_span]);
        let _ = writeln!(s, "<kind-signature>{sig}</kind-signature>");
    }
    s.push_str("</kind-block>");
}

/// The base64 SecurityBlock of `signer`'s signature over `text` (§11.1).
fn sign(signer: &SignerInfo, text: &str) -> String {
    let block = SecurityBlock {
        certificates: Vec::new(),
        signature: SimCrypto { signer: *signer }.sign(text.as_bytes()),
    };
    // A SimCrypto signature always encodes (fixed sizes far below the length limits).
    base64::encode(&block.to_bytes().unwrap_or_default(), '=')
}

fn secs(d: Duration) -> u64 {
    (d.as_nanos() + 500_000_000) / 1_000_000_000
}

fn millis(d: Duration) -> u64 {
    (d.as_nanos() + 500_000) / 1_000_000
}
