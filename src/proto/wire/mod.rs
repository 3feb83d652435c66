//! The RFC 6940 wire codec: every structure of §6.3–§6.7, §7, §10, RFC 7904 §3 and
//! RFC 7851, as typed Rust values.
//!
//! Decoders never panic and never allocate more than the input holds; they return a
//! [`DecodeError`] naming the structure and byte offset. [`HeaderView`] lets a forwarding
//! peer route and rewrite a message without decoding its body.

pub mod attach;
pub mod base64;
pub mod chord;
pub mod codec;
pub mod destination;
pub mod diagnostics;
pub mod error;
pub mod error_response;
pub mod examples;
pub mod framing;
pub mod header;
pub mod message;
pub mod security;
pub mod sip;
pub mod storage;
pub mod topology;

pub use codec::{Reader, Wire};
pub use destination::Destination;
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use header::{ForwardEdit, ForwardingHeader, HeaderView};
pub use message::{Body, Message, MessageContents, MessageExtension};
pub use security::SecurityBlock;
