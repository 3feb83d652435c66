//! Reading a Configuration Document (§11.1) and kind-blocks (§6.5.4.1) from untrusted
//! bytes: the elements the peer acts on, with their values checked. Unknown and foreign
//! elements are skipped, as the grammar's `foreign-elements` allows. Growing this into a
//! full §11 reader means adding fields here; the XML layer ([`super::xml`]) already keeps
//! every element.

use std::ops::Range;

use super::xml::{self, Element, Tree};
use super::{CHORD_RELOAD, ConfigDocError, NS_BASE, NS_CHORD, signer_of};
use crate::proto::id::NodeId;
use crate::proto::identity::SignerInfo;
use crate::proto::store::{AccessPolicy, KindConfig, KindDef};
use crate::proto::wire::storage::{DataModel, KindId};
use crate::proto::wire::{SecurityBlock, Wire, base64};

/// One `kind-block`: the Kind it defines and its `kind-signature`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindBlock {
    /// The definition. For an IANA-registered Kind (`name=`) the data model and access
    /// policy are the registration's, whatever the block says (§11.1: "clients MUST ignore
    /// them in favor of the IANA versions"); `max-node-multiple` is the block's if given.
    pub def: KindDef,
    /// Bytes of the `kind` element: what the `kind-signature` covers.
    pub kind_span: Range<usize>,
    /// Bytes of the whole `kind-block` element.
    pub block_span: Range<usize>,
    /// The decoded `kind-signature` elements (undecodable ones skipped).
    pub signatures: Vec<SecurityBlock>,
}

impl KindBlock {
    /// Who signed the `kind` element, if a signature verifies; `bytes` is the input the
    /// block was read from.
    pub fn signer(&self, bytes: &[u8]) -> Option<SignerInfo> {
        signer_of(&self.signatures, bytes.get(self.kind_span.clone())?)
    }
}

/// The parts of one `configuration` element the peer acts on. Optional elements that are
/// absent are `None`: the RFC default applies, or the receiver keeps its own value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// `instance-name`: the overlay name.
    pub instance_name: String,
    /// `sequence` (0..=65534).
    pub sequence: u16,
    /// `topology-plugin` (default CHORD-RELOAD).
    pub topology_plugin: String,
    /// `node-id-length` in bytes (default 16).
    pub node_id_length: u32,
    /// `chord:chord-update-interval`, seconds.
    pub chord_update_interval_s: Option<u32>,
    /// `chord:chord-ping-interval`, seconds.
    pub chord_ping_interval_s: Option<u32>,
    /// `chord:chord-reactive`.
    pub chord_reactive: Option<bool>,
    /// `max-message-size`, bytes.
    pub max_message_size: Option<u32>,
    /// `initial-ttl`.
    pub initial_ttl: Option<u8>,
    /// `overlay-reliability-timer`, milliseconds (at least 200).
    pub reliability_timer_ms: Option<u32>,
    /// `root-cert`s: the DER bytes of each (base64 in the document). A root-cert that is
    /// not base64 is an error; whether the bytes are a certificate is the driver's check.
    pub root_certs: Vec<Vec<u8>>,
    /// `enrollment-server` URLs.
    pub enrollment_servers: Vec<String>,
    /// `self-signed-permitted` (default false) and its `digest` attribute (§11.3.1).
    pub self_signed_permitted: bool,
    /// `bootstrap-node`s: address and port (default 6084) each (§11.1).
    pub bootstrap_nodes: Vec<std::net::SocketAddr>,
    /// `configuration-signer`s.
    pub configuration_signers: Vec<NodeId>,
    /// `kind-signer`s.
    pub kind_signers: Vec<NodeId>,
    /// `required-kinds`.
    pub kinds: Vec<KindBlock>,
    /// Bytes of the `configuration` element: what its `signature` covers.
    pub span: Range<usize>,
    /// The decoded `signature` elements that follow it (undecodable ones skipped).
    pub signatures: Vec<SecurityBlock>,
}

impl Configuration {
    /// Who signed the `configuration` element, if a signature verifies; `bytes` is the
    /// document it was read from.
    pub fn signer(&self, bytes: &[u8]) -> Option<SignerInfo> {
        signer_of(&self.signatures, bytes.get(self.span.clone())?)
    }
}

/// Reads the `configuration` for overlay `overlay_name` from a Configuration Document.
/// A document without one is [`ConfigDocError::NoConfiguration`] (§11.2: "discard the
/// document" when the instance-name does not match).
pub fn read_document(bytes: &[u8], overlay_name: &str) -> Result<Configuration, ConfigDocError> {
    let tree = xml::parse(bytes, "")?;
    let root = overlay_root(&tree)?;
    let children: Vec<&Element<'_>> = root.children.iter().map(|&i| &tree.elements[i]).collect();
    for (i, c) in children.iter().enumerate() {
        if !is(c, NS_BASE, "configuration") || c.attr("instance-name") != Some(overlay_name) {
            continue;
        }
        let signatures = children[i + 1..]
            .iter()
            .take_while(|s| is(s, NS_BASE, "signature"))
            .filter_map(|s| security_block(&s.text))
            .collect();
        return read_configuration(&tree, c, signatures);
    }
    Err(ConfigDocError::NoConfiguration)
}

/// The document's `overlay` root element.
fn overlay_root<'t>(tree: &'t Tree<'_>) -> Result<&'t Element<'t>, ConfigDocError> {
    let root = tree.root();
    if (root.ns.as_str(), root.local) != (NS_BASE, "overlay") {
        return Err(ConfigDocError::Missing("overlay root element"));
    }
    Ok(root)
}

/// The `instance-name` of the document's first `configuration`.
pub fn first_instance_name(bytes: &[u8]) -> Result<String, ConfigDocError> {
    let tree = xml::parse(bytes, "")?;
    let root = overlay_root(&tree)?;
    tree.children(root, NS_BASE, "configuration")
        .find_map(|c| c.attr("instance-name"))
        .map(str::to_string)
        .ok_or(ConfigDocError::NoConfiguration)
}

/// Reads one `kind-block` of a ConfigUpdate of type `kind`: UTF-8, with `config-base` as
/// the default namespace (§6.5.4.1).
pub fn read_kind_block(bytes: &[u8]) -> Result<KindBlock, ConfigDocError> {
    let tree = xml::parse(bytes, NS_BASE)?;
    let root = tree.root();
    if !is(root, NS_BASE, "kind-block") {
        return Err(ConfigDocError::Missing("kind-block root element"));
    }
    read_kind(&tree, root)
}

fn is(e: &Element<'_>, ns: &str, local: &str) -> bool {
    e.ns == ns && e.local == local
}

fn read_configuration(
    tree: &Tree<'_>,
    c: &Element<'_>,
    signatures: Vec<SecurityBlock>,
) -> Result<Configuration, ConfigDocError> {
    let text = |ns, local| tree.child(c, ns, local).map(|e| e.text.trim());
    let sequence = c
        .attr("sequence")
        .ok_or(ConfigDocError::Missing("configuration sequence"))?;
    let sequence = number::<u16>("sequence", sequence).and_then(|s| {
        // §11.1: "between 0 and 2^16-2"; 65535 is the header's special value.
        (s != u16::MAX)
            .then_some(s)
            .ok_or(ConfigDocError::invalid("sequence", "65535"))
    })?;
    let opt = |ns, local, what| text(ns, local).map(|t| number::<u32>(what, t)).transpose();
    let reliability_timer_ms = opt(
        NS_BASE,
        "overlay-reliability-timer",
        "overlay-reliability-timer",
    )?;
    if let Some(ms) = reliability_timer_ms.filter(|ms| *ms < 200) {
        // §11.1: "The value MUST be at least 200 milliseconds".
        return Err(ConfigDocError::invalid(
            "overlay-reliability-timer",
            &ms.to_string(),
        ));
    }
    let signers = |local| {
        tree.children(c, NS_BASE, local)
            .map(|e| node_id(local, e.text.trim()))
            .collect::<Result<Vec<_>, _>>()
    };
    let root_certs = tree
        .children(c, NS_BASE, "root-cert")
        .map(|e| {
            let digits: Vec<u8> = e
                .text
                .bytes()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::decode(&digits, b'=')
                .ok_or_else(|| ConfigDocError::invalid("root-cert", &e.text))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bootstrap_nodes = tree
        .children(c, NS_BASE, "bootstrap-node")
        .map(bootstrap_node)
        .collect::<Result<Vec<_>, _>>()?;
    let mut kinds = Vec::new();
    if let Some(required) = tree.child(c, NS_BASE, "required-kinds") {
        for block in tree.children(required, NS_BASE, "kind-block") {
            kinds.push(read_kind(tree, block)?);
        }
    }
    Ok(Configuration {
        instance_name: c.attr("instance-name").unwrap_or_default().to_string(),
        sequence,
        topology_plugin: text(NS_BASE, "topology-plugin")
            .unwrap_or(CHORD_RELOAD)
            .to_string(),
        node_id_length: text(NS_BASE, "node-id-length")
            .map(|t| number("node-id-length", t))
            .transpose()?
            .unwrap_or(16),
        chord_update_interval_s: opt(NS_CHORD, "chord-update-interval", "chord-update-interval")?,
        chord_ping_interval_s: opt(NS_CHORD, "chord-ping-interval", "chord-ping-interval")?,
        chord_reactive: text(NS_CHORD, "chord-reactive")
            .map(|t| boolean("chord-reactive", t))
            .transpose()?,
        max_message_size: opt(NS_BASE, "max-message-size", "max-message-size")?,
        initial_ttl: text(NS_BASE, "initial-ttl")
            .map(|t| number("initial-ttl", t))
            .transpose()?,
        reliability_timer_ms,
        root_certs,
        enrollment_servers: tree
            .children(c, NS_BASE, "enrollment-server")
            .map(|e| e.text.trim().to_string())
            .collect(),
        self_signed_permitted: text(NS_BASE, "self-signed-permitted")
            .map(|t| boolean("self-signed-permitted", t))
            .transpose()?
            .unwrap_or(false),
        bootstrap_nodes,
        configuration_signers: signers("configuration-signer")?,
        kind_signers: signers("kind-signer")?,
        kinds,
        span: c.span.clone(),
        signatures,
    })
}

/// A `bootstrap-node` element: `address` (IPv4 or IPv6) and `port` (default 6084, §11.1).
fn bootstrap_node(e: &Element<'_>) -> Result<std::net::SocketAddr, ConfigDocError> {
    let address = e
        .attr("address")
        .ok_or(ConfigDocError::Missing("bootstrap-node address"))?
        .trim();
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| ConfigDocError::invalid("bootstrap-node address", address))?;
    let port = match e.attr("port") {
        Some(p) => number::<u16>("bootstrap-node port", p.trim())?,
        None => 6084,
    };
    Ok(std::net::SocketAddr::new(ip, port))
}

/// The registration of an IANA Kind this peer knows, by name.
pub(super) fn registration(name: &str) -> Option<KindDef> {
    KindConfig::standard()
        .iter()
        .find(|d| d.name == name)
        .cloned()
}

fn read_kind(tree: &Tree<'_>, block: &Element<'_>) -> Result<KindBlock, ConfigDocError> {
    let kind = tree
        .child(block, NS_BASE, "kind")
        .ok_or(ConfigDocError::Missing("kind"))?;
    let signatures = tree
        .children(block, NS_BASE, "kind-signature")
        .filter_map(|s| security_block(&s.text))
        .collect();
    let text = |local: &'static str| {
        tree.child(kind, NS_BASE, local)
            .map(|e| e.text.trim())
            .ok_or(ConfigDocError::Missing(local))
    };
    let max_count = number("max-count", text("max-count")?)?;
    let max_size = number("max-size", text("max-size")?)?;
    let node_multiple = tree
        .child(kind, NS_BASE, "max-node-multiple")
        .map(|e| number::<u32>("max-node-multiple", e.text.trim()))
        .transpose()?;
    let model = match text("data-model")? {
        "SINGLE" => DataModel::Single,
        "ARRAY" => DataModel::Array,
        "DICTIONARY" => DataModel::Dictionary,
        other => return Err(ConfigDocError::invalid("data-model", other)),
    };
    let access = match text("access-control")? {
        "USER-MATCH" => AccessPolicy::UserMatch,
        "NODE-MATCH" => AccessPolicy::NodeMatch,
        "USER-NODE-MATCH" => AccessPolicy::UserNodeMatch,
        "NODE-MULTIPLE" => AccessPolicy::NodeMultiple {
            max: node_multiple.ok_or(ConfigDocError::Missing("max-node-multiple"))?,
        },
        other => return Err(ConfigDocError::invalid("access-control", other)),
    };
    let def = match (kind.attr("name"), kind.attr("id")) {
        (Some(name), None) => {
            let name = name.trim();
            let reg =
                registration(name).ok_or_else(|| ConfigDocError::UnknownKindName(name.into()))?;
            let access = match (reg.access, node_multiple) {
                (AccessPolicy::NodeMultiple { .. }, Some(max)) => {
                    AccessPolicy::NodeMultiple { max }
                }
                (a, _) => a,
            };
            KindDef::new(reg.id, name, reg.model, access, max_count, max_size)
        }
        (None, Some(id)) => {
            let id = KindId(number("kind id", id.trim())?);
            KindDef::new(id, "", model, access, max_count, max_size)
        }
        _ => return Err(ConfigDocError::Missing("kind name or id (exactly one)")),
    };
    // The rules KindConfig enforces on every definition (reserved ids, USER-NODE-MATCH
    // only on dictionaries, …).
    KindConfig::empty().insert(def.clone())?;
    Ok(KindBlock {
        def,
        kind_span: kind.span.clone(),
        block_span: block.span.clone(),
        signatures,
    })
}

/// The SecurityBlock in a signature element. One that is not base64 or not a
/// SecurityBlock (the RFC's own example holds placeholder text) is skipped: it can never
/// verify, so the element counts as unsigned rather than making the document unreadable.
/// Whitespace inside the base64 text is skipped: the RFC's own example wraps and indents
/// it.
fn security_block(text: &str) -> Option<SecurityBlock> {
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    SecurityBlock::from_bytes(&base64::decode(&digits, b'=')?).ok()
}

fn number<T: std::str::FromStr>(what: &'static str, text: &str) -> Result<T, ConfigDocError> {
    text.parse()
        .map_err(|_| ConfigDocError::invalid(what, text))
}

/// xsd:boolean: "true" or "1", "false" or "0" (§11.1).
fn boolean(what: &'static str, text: &str) -> Result<bool, ConfigDocError> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ConfigDocError::invalid(what, text)),
    }
}

/// A Node-ID "in hexadecimal" (§11.1). Up to 32 digits, read as a number: the RFC's own
/// example lists 16-digit signers.
fn node_id(what: &'static str, text: &str) -> Result<NodeId, ConfigDocError> {
    if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigDocError::invalid(what, text));
    }
    u128::from_str_radix(text, 16)
        .map(NodeId)
        .map_err(|_| ConfigDocError::invalid(what, text))
}
