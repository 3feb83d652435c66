//! The overlay Configuration Document (RFC 6940 §11.1): the XML a node holds, sends in a
//! ConfigUpdate of type `config` (§6.5.4) and whose `kind-block`s it sends in one of type
//! `kind` (§7.4.1.2).
//!
//! - [`write`] makes a minimal, faithful document from an [`OverlayConfig`]: overlay name,
//!   sequence, topology plugin CHORD-RELOAD, the chord intervals, `max-message-size`,
//!   `initial-ttl`, `overlay-reliability-timer`, the signers and one `kind-block` per Kind
//!   (data model, access policy, `max-count`, `max-size`).
//! - [`read_document`] and [`read_kind_block`] read the elements the peer acts on back from
//!   untrusted bytes; everything else (root certificates, enrollment servers, bootstrap
//!   nodes, extensions, unknown elements) is skipped. Malformed input is a typed
//!   [`ConfigDocError`], never a panic.
//!
//! Signatures. A `signature` element holds the base64 of a SecurityBlock (§6.3.4) whose
//! signature covers the exact bytes from `<configuration` to `</configuration>`; a
//! `kind-signature` covers `<kind` to `</kind>` in the same way (§11.1). In the simulator
//! that signature is a [`SimCrypto`] one made as the signer's identity, and
//! [`signer_of`] verifies it with [`SimVerifier`]: the stand-in for the real signer's
//! certificate. Who may sign is a list of Node-IDs in the configuration itself
//! (`configuration-signer`, `kind-signer`), checked by the node (node/config_update.rs).
//!
//! Sans-IO: no I/O, no clocks, no randomness. The document has no `expiration` attribute
//! (the peer has no wall clock to compare it with).

mod read;
#[cfg(test)]
mod tests;
mod write;
pub mod xml;

use std::fmt;
use std::ops::Range;

use thiserror::Error;

use crate::proto::identity::{SignerInfo, SimVerifier, Verifier};
use crate::proto::store::KindError;
use crate::proto::wire::SecurityBlock;
use crate::proto::wire::storage::KindId;

pub use read::{Configuration, KindBlock, first_instance_name, read_document, read_kind_block};
pub use write::write;

#[cfg(doc)]
use crate::proto::config::OverlayConfig;
#[cfg(doc)]
use crate::proto::identity::SimCrypto;

/// The default namespace of configuration documents and kind-blocks (§11.1, §6.5.4.1).
pub const NS_BASE: &str = "urn:ietf:params:xml:ns:p2p:config-base";
/// The namespace of the CHORD-RELOAD parameters (§11.1).
pub const NS_CHORD: &str = "urn:ietf:params:xml:ns:p2p:config-chord";
/// The topology plugin this peer implements (§10).
pub const CHORD_RELOAD: &str = "CHORD-RELOAD";

/// Why configuration bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigDocError {
    /// The bytes are not UTF-8 (§11.1: "The file MUST use the UTF-8 character encoding").
    #[error("not UTF-8")]
    NotUtf8,
    /// Not well-formed XML, or a construct this reader does not support (a DTD).
    #[error("XML syntax at byte {offset}: {what}")]
    Syntax {
        /// Byte offset in the input.
        offset: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// A namespace prefix with no `xmlns:` declaration in scope.
    #[error("undeclared namespace prefix at byte {offset}")]
    UnboundPrefix {
        /// Byte offset of the element.
        offset: usize,
    },
    /// Elements nested deeper than [`xml::MAX_DEPTH`].
    #[error("elements nested too deeply")]
    TooDeep,
    /// A required element or attribute is missing, or the root is not the one expected.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An element or attribute whose value is out of range or not understood.
    #[error("invalid {what}: {value:?}")]
    Invalid {
        /// The element or attribute.
        what: &'static str,
        /// Its value as written (cut to 64 characters).
        value: String,
    },
    /// The document has no `configuration` for this overlay (§11.2: discarded).
    #[error("no configuration for this overlay")]
    NoConfiguration,
    /// A `kind name=` that is not an IANA-registered Kind this peer knows.
    #[error("unknown Kind name {0:?}")]
    UnknownKindName(String),
    /// A Kind definition the RFC forbids.
    #[error(transparent)]
    Kind(#[from] KindError),
}

impl ConfigDocError {
    fn invalid(what: &'static str, value: &str) -> ConfigDocError {
        ConfigDocError::Invalid {
            what,
            value: value.chars().take(64).collect(),
        }
    }
}

/// A Configuration Document as a node holds it: the exact bytes (the signature covers
/// them, so they are sent on unchanged, §11.1 "MUST be treated as a binary blob") and where
/// each Kind's `kind-block` lies in them. Shared by every node of an overlay through the
/// `Arc<OverlayConfig>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigDocument {
    bytes: Box<[u8]>,
    /// Each `kind-block` element's bytes, by Kind-ID.
    kind_blocks: Vec<(KindId, Range<u32>)>,
}

impl ConfigDocument {
    /// A document from its bytes and the spans of its kind-blocks.
    fn new(bytes: Vec<u8>, kind_blocks: &[(KindId, Range<usize>)]) -> Self {
        let kind_blocks = kind_blocks
            .iter()
            .filter_map(|(k, r)| {
                Some((*k, u32::try_from(r.start).ok()?..u32::try_from(r.end).ok()?))
            })
            .collect();
        ConfigDocument {
            bytes: bytes.into_boxed_slice(),
            kind_blocks,
        }
    }

    /// A received document, already read into `c` (which locates its kind-blocks).
    pub fn received(bytes: Vec<u8>, c: &Configuration) -> ConfigDocument {
        let blocks: Vec<_> = c
            .kinds
            .iter()
            .map(|k| (k.def.id, k.block_span.clone()))
            .collect();
        ConfigDocument::new(bytes, &blocks)
    }

    /// The document's bytes, as sent in a ConfigUpdate of type `config`.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `kind-block` defining `kind`, as sent in a ConfigUpdate of type `kind`.
    pub fn kind_block(&self, kind: KindId) -> Option<&[u8]> {
        let (_, r) = self.kind_blocks.iter().find(|(k, _)| *k == kind)?;
        self.bytes.get(r.start as usize..r.end as usize)
    }
}

impl fmt::Debug for ConfigDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigDocument")
            .field("bytes", &self.bytes.len())
            .field("kind_blocks", &self.kind_blocks.len())
            .finish()
    }
}

/// Who signed `signed` with one of `signatures` (base64 SecurityBlocks), if any verifies:
/// the simulator's stand-in for checking the signer's certificate (module doc).
pub fn signer_of(signatures: &[SecurityBlock], signed: &[u8]) -> Option<SignerInfo> {
    signatures
        .iter()
        .find_map(|s| SimVerifier.verify(&s.signature, signed))
}
