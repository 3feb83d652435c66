//! Overlay configuration (RFC 6940 §11, §10.7): the parameters every peer of one overlay
//! shares. Units are in the field names; defaults follow the RFC.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use crate::proto::config_doc::{self, ConfigDocument};
use crate::proto::id::{NodeId, TransactionId, overlay_hash};
use crate::proto::identity::{SignerInfo, SimCrypto, encode_signed};
use crate::proto::store::KindConfig;
use crate::proto::wire::chord::{ChordUpdate, ChordUpdateKind};
use crate::proto::wire::storage::KindId;
use crate::proto::wire::{Body, Destination, ForwardingHeader, MessageContents};
use crate::time::Duration;

/// Most fingers a Finger Table has: one per bit of a 128-bit Node-ID (§10.7.4.3).
pub const MAX_FINGERS: usize = 128;

/// Most Node-IDs one list of a ChordUpdate holds: its length prefix is 2 bytes and a
/// Node-ID 16, so 65,535 / 16.
pub const MAX_UPDATE_LIST: usize = 4095;

/// Bytes a routed message grows by per hop: one Node-ID entry in its via list (type,
/// length, 16-byte id).
pub const VIA_ENTRY_LEN: usize = 18;

/// A transport address. The simulator gives node `i` the address `10.x.y.z:6084` with
/// `x.y.z` = `i + 1`, so address and slot map to each other in O(1).
pub type Addr = SocketAddr;

/// Parameters shared by every peer of an overlay.
#[derive(Clone, Debug)]
pub struct OverlayConfig {
    /// Overlay name (`instance-name`).
    pub overlay_name: String,
    /// `overlay` header field: low 32 bits of SHA-1(overlay name).
    pub overlay: u32,
    /// Configuration sequence number carried in every header (§6.3.2.1).
    pub configuration_sequence: u16,
    /// Successors kept in the Neighbor Table (≥ 3, §10.1).
    pub successors: usize,
    /// Predecessors kept in the Neighbor Table (≥ 3, §10.1).
    pub predecessors: usize,
    /// Finger Table size (16..=128, §10.7.4.3).
    pub fingers: usize,
    /// `chord-update-interval`: period of neighbour Updates (§10.7.4.1).
    pub chord_update_interval: Duration,
    /// `chord-ping-interval`: period of finger refresh Pings (§10.7.4.2).
    pub chord_ping_interval: Duration,
    /// `chord-reactive`: send Updates as soon as the Neighbor Table changes (§10.7.4).
    pub chord_reactive: bool,
    /// `overlay-reliability-timer`: end-to-end retransmission timer (§6.2.1).
    pub reliability_timer: Duration,
    /// End-to-end sends of a request before it fails (§6.2.1: 5).
    pub request_sends: u8,
    /// Simple Reliability initial retransmission timeout, doubled per retry (§6.6.3).
    pub link_rto: Duration,
    /// Simple Reliability sends of a frame before the link is declared failed (§6.6.3: 5).
    pub link_sends: u8,
    /// Frames in flight per link before further frames queue.
    pub link_window: usize,
    /// What carries the links' frames: datagrams with Simple Reliability (the simulator,
    /// the default) or a reliable stream (the real peer's TCP links, §6.6.5). Not part of
    /// the Configuration Document: the driver sets it.
    pub link_transport: crate::proto::link::LinkTransport,
    /// Initial TTL of requests (`initial-ttl`, §6.3.2).
    pub initial_ttl: u8,
    /// Largest message accepted (`max-message-size`, §6.6).
    pub max_message_size: usize,
    /// Upper bound on the Connection Table.
    pub max_connections: usize,
    /// How long an answer is kept for duplicate requests (§6.2.1: 15 s).
    pub duplicate_window: Duration,
    /// How long a join attempt may take before it restarts.
    pub join_timeout: Duration,
    /// Period of the partition check (§10.7.4.4: a peer "MUST periodically repeat the
    /// discovery process"; the RFC names no interval): a joined peer Pings its own
    /// id + 1 through a bootstrap peer, ± 10 %. `Duration::ZERO` turns it off.
    pub partition_check_interval: Duration,
    /// The Kinds this overlay stores (§7.2, `required-kinds`).
    pub kinds: KindConfig,
    /// `configuration-signer`s (§11.1): the Node-IDs whose signature a new Configuration
    /// Document must carry to be accepted (§6.5.4.2). Empty by default: no update is
    /// accepted.
    pub configuration_signers: Vec<NodeId>,
    /// `kind-signer`s (§11.1): the Node-IDs allowed to sign Kind definitions. Empty by
    /// default.
    pub kind_signers: Vec<NodeId>,
    /// Simulator stand-in for the overlay administrator's key: the identity whose
    /// SimCrypto signature the generated document and its kind-blocks carry
    /// (config_doc/mod.rs). `None` (the default): the generated document is unsigned.
    pub document_signer: Option<SignerInfo>,
    /// `bootstrap-node`s (§11.1): where a joining peer looks for the overlay. Empty in
    /// the simulator, which hands each node its bootstrap addresses.
    pub bootstrap_nodes: Vec<Addr>,
    /// `root-cert`s (§11.1): the DER certificates of the overlay's enrollment CA.
    pub root_certs: Vec<Vec<u8>>,
    /// `self-signed-permitted` (§11.3.1): peers may use self-signed certificates whose
    /// Node-ID is a digest of their public key.
    pub self_signed_permitted: bool,
    /// The Configuration Document (§11.1).
    document: DocumentCell,
}

/// Where an [`OverlayConfig`]'s document is kept: written from the fields on first use
/// (config_doc/write.rs) and then shared by every node holding that configuration, or
/// pinned by [`OverlayConfig::with_document`] (a received document, whose bytes must be
/// sent on unchanged). A clone keeps a pinned document but not a written one, which the
/// clone writes again from its own fields: changing a field of a clone never leaves it
/// with a stale document.
#[derive(Debug, Default)]
struct DocumentCell {
    document: OnceLock<Arc<ConfigDocument>>,
    pinned: bool,
}

impl Clone for DocumentCell {
    fn clone(&self) -> DocumentCell {
        if self.pinned {
            DocumentCell {
                document: self.document.clone(),
                pinned: true,
            }
        } else {
            DocumentCell::default()
        }
    }
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The document does not read (§11.1).
    #[error(transparent)]
    Document(#[from] config_doc::ConfigDocError),
    /// The overlay name is not a DNS name (§6.3.2).
    #[error("instance-name: {0}")]
    Name(#[from] OverlayNameError),
    /// A Kind definition the Kind table refuses.
    #[error("required-kinds: {0}")]
    Kind(#[from] crate::proto::store::KindError),
    /// A value this peer cannot run.
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// Longest overlay name: 253 characters, a DNS name of 255 octets in wire form (RFC 1035
/// §2.3.4) less the first length octet and the root label.
pub const MAX_OVERLAY_NAME: usize = 253;

/// Longest label of an overlay name (RFC 1035 §2.3.4).
pub const MAX_LABEL: usize = 63;

/// Why a string is not an overlay name (§6.3.2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverlayNameError {
    /// The name is empty.
    #[error("the overlay name is empty")]
    Empty,
    /// Longer than [`MAX_OVERLAY_NAME`] characters.
    #[error("the overlay name has {0} characters, more than {MAX_OVERLAY_NAME}")]
    TooLong(usize),
    /// Two dots in a row, or a dot at either end.
    #[error("the overlay name has an empty label (two dots in a row, or a dot at an end)")]
    EmptyLabel,
    /// A label longer than [`MAX_LABEL`] characters.
    #[error("label {0:?} has more than {MAX_LABEL} characters")]
    LabelTooLong(String),
    /// A character other than a letter, digit, hyphen or the dots between labels.
    #[error("character {0:?} is not allowed: only letters, digits, '-' and '.' between labels")]
    BadCharacter(char),
    /// A label that starts or ends with a hyphen.
    #[error("label {0:?} starts or ends with '-'")]
    Hyphen(String),
}

/// Checks that `name` can be an overlay name: §6.3.2 says it "MUST consist of a sequence
/// of characters that would be allowable as a DNS name", per the grammar of RFC 1035
/// §2.3.1: dot-separated labels of ASCII letters, digits and hyphens, each starting and
/// ending with a letter or digit, at most 63 characters a label and 253 in all (RFC 1035
/// §2.3.4). One relaxation: a label may start with a digit, as RFC 1123 §2.1 allows for
/// host names (`3com.example`). No trailing dot; case is kept (the overlay hash covers the
/// name as written).
pub fn check_overlay_name(name: &str) -> Result<(), OverlayNameError> {
    if name.is_empty() {
        return Err(OverlayNameError::Empty);
    }
    let chars = name.chars().count();
    if chars > MAX_OVERLAY_NAME {
        return Err(OverlayNameError::TooLong(chars));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(OverlayNameError::BadCharacter(c));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(OverlayNameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL {
            return Err(OverlayNameError::LabelTooLong(label.to_string()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(OverlayNameError::Hyphen(label.to_string()));
        }
    }
    Ok(())
}

impl OverlayConfig {
    /// [`OverlayConfig::new`] for a name that passes [`check_overlay_name`] (§6.3.2).
    pub fn try_new(name: &str) -> Result<Self, OverlayNameError> {
        check_overlay_name(name)?;
        Ok(Self::new(name))
    }

    /// The RFC defaults for an overlay called `name`. The name is not checked: a node
    /// whose configuration has a name that fails [`check_overlay_name`] refuses to start
    /// or join an overlay ([`crate::proto::event::CommandError::BadOverlayName`]); use
    /// [`OverlayConfig::try_new`] to be told at once.
    pub fn new(name: &str) -> Self {
        OverlayConfig {
            overlay_name: name.to_string(),
            overlay: overlay_hash(name),
            configuration_sequence: 1,
            successors: 3,
            predecessors: 3,
            fingers: 16,
            chord_update_interval: Duration::from_secs(600),
            chord_ping_interval: Duration::from_secs(3600),
            chord_reactive: true,
            reliability_timer: Duration::from_millis(3000),
            request_sends: 5,
            link_rto: Duration::from_millis(500),
            link_sends: 5,
            link_transport: crate::proto::link::LinkTransport::Datagram,
            link_window: 64,
            initial_ttl: 100,
            max_message_size: 5000,
            max_connections: 1024,
            duplicate_window: Duration::from_secs(15),
            join_timeout: Duration::from_secs(60),
            partition_check_interval: Duration::from_secs(3600),
            kinds: KindConfig::standard(),
            configuration_signers: Vec::new(),
            kind_signers: Vec::new(),
            document_signer: None,
            bootstrap_nodes: Vec::new(),
            root_certs: Vec::new(),
            self_signed_permitted: false,
            document: DocumentCell::default(),
        }
    }

    /// The configuration a Configuration Document (§11.1) gives for overlay
    /// `overlay_name`, or for its first `configuration` when `None`: the RFC defaults
    /// where the document is silent, its `required-kinds` (if any) as the Kind table, and
    /// the document pinned as this configuration's, to be sent on unchanged. Kinds read
    /// from a local file are taken as they are: their `kind-signature`s are checked only
    /// when a ConfigUpdate brings a document (§6.5.4.2).
    pub fn from_document(
        bytes: &[u8],
        overlay_name: Option<&str>,
    ) -> Result<OverlayConfig, ConfigFileError> {
        let name = match overlay_name {
            Some(n) => n.to_string(),
            None => config_doc::first_instance_name(bytes)?,
        };
        let c = config_doc::read_document(bytes, &name)?;
        if c.topology_plugin != config_doc::CHORD_RELOAD {
            return Err(ConfigFileError::Unsupported(format!(
                "topology-plugin {:?} (this peer runs CHORD-RELOAD)",
                c.topology_plugin
            )));
        }
        if c.node_id_length != 16 {
            return Err(ConfigFileError::Unsupported(format!(
                "node-id-length {} (this peer uses 16-byte Node-IDs)",
                c.node_id_length
            )));
        }
        let base = OverlayConfig::try_new(&name)?;
        let kinds = if c.kinds.is_empty() {
            base.kinds.clone()
        } else {
            let mut kinds = KindConfig::empty();
            for k in &c.kinds {
                kinds.insert(k.def.clone())?;
            }
            kinds
        };
        let mut next = base.reconfigured(&c, kinds);
        next.bootstrap_nodes = c.bootstrap_nodes.clone();
        next.root_certs = c.root_certs.clone();
        next.self_signed_permitted = c.self_signed_permitted;
        let document = ConfigDocument::received(bytes.to_vec(), &c);
        Ok(next.with_document(Arc::new(document)))
    }

    /// This configuration with the values of configuration `c` (the RFC defaults where
    /// `c` is silent) and Kind table `kinds`; the rest (overlay name, table sizes,
    /// simulator settings) stays.
    pub fn reconfigured(&self, c: &config_doc::Configuration, kinds: KindConfig) -> OverlayConfig {
        let defaults = OverlayConfig::new(&self.overlay_name);
        let secs = |v: Option<u32>, d: Duration| v.map_or(d, |s| Duration::from_secs(u64::from(s)));
        let mut next = self.clone();
        next.configuration_sequence = c.sequence;
        next.chord_update_interval =
            secs(c.chord_update_interval_s, defaults.chord_update_interval);
        next.chord_ping_interval = secs(c.chord_ping_interval_s, defaults.chord_ping_interval);
        next.chord_reactive = c.chord_reactive.unwrap_or(defaults.chord_reactive);
        next.max_message_size = c
            .max_message_size
            .map_or(defaults.max_message_size, |m| m as usize);
        next.initial_ttl = c.initial_ttl.unwrap_or(defaults.initial_ttl);
        next.reliability_timer = c
            .reliability_timer_ms
            .map_or(defaults.reliability_timer, |ms| {
                Duration::from_millis(u64::from(ms))
            });
        next.configuration_signers = c.configuration_signers.clone();
        next.kind_signers = c.kind_signers.clone();
        next.document_signer = None;
        next.kinds = kinds;
        next
    }

    /// The Configuration Document this configuration came from, or one written from its
    /// fields.
    pub fn document(&self) -> &Arc<ConfigDocument> {
        self.document
            .document
            .get_or_init(|| Arc::new(config_doc::write(self)))
    }

    /// This configuration with `document` pinned as its Configuration Document.
    pub fn with_document(mut self, document: Arc<ConfigDocument>) -> OverlayConfig {
        self.document = DocumentCell {
            document: OnceLock::from(document),
            pinned: true,
        };
        self
    }

    /// Who signed the definition of `kind` (§6.5.4.2 "signed by a different signer"): the
    /// signer of the kind-block it was learnt from, or for a Kind of the configuration
    /// itself the document's signer.
    pub fn kind_signer(&self, kind: KindId) -> Option<NodeId> {
        let def = self.kinds.get(kind)?;
        def.signer.or(self.document_signer.map(|s| s.node_id))
    }

    /// Bytes of the largest message whose size this configuration sets: the signed Update
    /// of type full (§10.7.4) a peer sends a new neighbour, with every predecessor,
    /// successor and finger (at most [`MAX_FINGERS`]), addressed to one Node-ID, not yet
    /// forwarded. A `max_message_size` below this drops the Updates the ring is built
    /// from. `None` when a list is longer than a ChordUpdate can carry.
    pub fn full_update_len(&self) -> Option<usize> {
        if self.successors > MAX_UPDATE_LIST || self.predecessors > MAX_UPDATE_LIST {
            return None;
        }
        let ids = |n: usize| vec![NodeId(0); n];
        let body = Body::UpdateReq(ChordUpdate {
            uptime: 0,
            kind: ChordUpdateKind::Full {
                predecessors: ids(self.predecessors),
                successors: ids(self.successors),
                fingers: ids(self.fingers.min(MAX_FINGERS)),
            },
        });
        let mut header = ForwardingHeader::new(
            self.overlay,
            self.configuration_sequence,
            TransactionId(1),
            vec![Destination::Node(NodeId(1))],
        );
        header.ttl = self.initial_ttl;
        let signer = SimCrypto {
            signer: SignerInfo::new(NodeId(0), "user@example"),
        };
        encode_signed(&signer, &header, &MessageContents::new(body))
            .ok()
            .map(|m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_names_follow_the_dns_grammar() {
        for ok in [
            "x",
            "overlay.example.org",
            "reload-sim.example",
            "3com.example",
            "A-1.b2",
            &format!("{}.org", "a".repeat(MAX_LABEL)),
            &["abc"; 63].join("."),
        ] {
            assert_eq!(check_overlay_name(ok), Ok(()), "{ok}");
            assert!(OverlayConfig::try_new(ok).is_ok(), "{ok}");
        }
        use OverlayNameError::*;
        for (bad, why) in [
            ("", Empty),
            ("under_score.org", BadCharacter('_')),
            ("sp ace", BadCharacter(' ')),
            ("ü.example", BadCharacter('ü')),
            ("example.org.", EmptyLabel),
            (".example", EmptyLabel),
            ("a..b", EmptyLabel),
            ("-a.b", Hyphen("-a".into())),
            ("a.b-", Hyphen("b-".into())),
        ] {
            assert_eq!(check_overlay_name(bad), Err(why.clone()), "{bad:?}");
            assert_eq!(OverlayConfig::try_new(bad).err(), Some(why), "{bad:?}");
        }
        let long = "a".repeat(MAX_LABEL + 1);
        assert_eq!(check_overlay_name(&long), Err(LabelTooLong(long.clone())));
        let name = ["abcd"; 51].join(".");
        assert_eq!(check_overlay_name(&name), Err(TooLong(254)));
    }

    #[test]
    fn full_update_len_counts_every_table_entry() {
        let mut c = OverlayConfig::new("x");
        let base = c.full_update_len().unwrap();
        // 38-byte header + 18-byte destination, contents, a 256-byte signature.
        assert!((700..800).contains(&base), "{base}");
        c.fingers = 17;
        assert_eq!(c.full_update_len(), Some(base + 16));
        c.fingers = 100_000;
        assert_eq!(c.full_update_len(), Some(base + 16 * (MAX_FINGERS - 16)));
        c.successors = MAX_UPDATE_LIST;
        assert!(c.full_update_len().is_some());
        c.successors = MAX_UPDATE_LIST + 1;
        assert_eq!(c.full_update_len(), None);
    }
}
