//! Certificates and keys of the real peer (RFC 6940 §11.3, §13): the enrollment
//! authority (`reload-sim ca`), reading what a certificate says, and loading a node's
//! credentials.
//!
//! - [`ca`]: `ca init`, `ca issue`, `ca self-signed`;
//! - [`cert`]: the Node-IDs, user name and public key of a certificate;
//! - [`sign`]: RSA-2048 message and stored-data signatures, certificates checked and kept;
//! - [`tls`]: the links' TLS configurations and certificate checks.

pub mod ca;
pub mod cert;
pub mod sign;
pub mod tls;

/// Why a certificate or key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A key or certificate could not be generated.
    #[error("{0}")]
    Generate(String),
    /// A certificate or key is not usable.
    #[error("{0}")]
    Certificate(String),
}
