//! Typed codec errors.

/// Why a byte string is not a valid RELOAD structure.
///
/// `what` names the structure being decoded (for example `"ForwardingHeader.ttl"`),
/// `offset` is the byte offset, from the start of the buffer handed to the decoder,
/// where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}: {kind}")]
pub struct DecodeError {
    /// The structure or field being decoded.
    pub what: &'static str,
    /// Byte offset from the start of the decoded buffer.
    pub offset: usize,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ends before the field does (or a length prefix claims more than is left).
    #[error("truncated: needs {needed} bytes, {available} left")]
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the enclosing structure.
        available: usize,
    },
    /// A field holds a value the RFC does not allow here.
    #[error("invalid value {0:#x}")]
    InvalidValue(u64),
    /// A structural rule of the RFC is broken.
    #[error("{0}")]
    Invalid(&'static str),
    /// Bytes are left over after the structure ends.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
    /// The data model of this Kind is not known, so its values cannot be parsed (§7.4).
    #[error("unknown data model for Kind {0:#x}")]
    UnknownKind(u32),
    /// Valid per the RFC but outside what this implementation supports.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// Why a structure cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A variable-length field is longer than its length prefix can express.
    #[error("{what} is {len} bytes, more than its {max}-byte limit")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its encoded length.
        len: usize,
        /// The largest length the prefix allows.
        max: usize,
    },
    /// A value that the RFC forbids on the wire.
    #[error("{0}")]
    Invalid(&'static str),
}
