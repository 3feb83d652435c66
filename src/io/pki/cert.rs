//! What a RELOAD certificate says (RFC 6940 §11.3, §13.3): the Node-IDs in its
//! subjectAltName URIs `reload://<Destination hex>@<overlay>/`, the user name in its
//! rfc822Name, and its RSA public key.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::PkiError;
use crate::proto::id::NodeId;

/// The parts of an X.509 certificate RELOAD uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeCertificate {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Node-IDs of its `reload://` URIs, in certificate order (§11.3: there can be several).
    pub node_ids: Vec<NodeId>,
    /// Its rfc822Name: the user name, e.g. `alice@example.org`.
    pub user: Option<String>,
    /// The DER SubjectPublicKeyInfo (what a self-signed Node-ID is a digest of, §11.3.1).
    pub spki: Vec<u8>,
    /// The RSAPublicKey inside it (what ring verifies PKCS#1 v1.5 signatures with).
    pub public_key: Vec<u8>,
    /// Issuer and subject are the same name.
    pub self_issued: bool,
    /// The end of its validity period, in seconds since the Unix epoch.
    pub not_after_s: i64,
}

impl NodeCertificate {
    /// Reads a DER certificate.
    pub fn parse(der: &[u8]) -> Result<NodeCertificate, PkiError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| PkiError::Certificate(format!("not an X.509 certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(PkiError::Certificate(
                "bytes after the certificate".to_string(),
            ));
        }
        let mut node_ids = Vec::new();
        let mut user = None;
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::URI(uri) => {
                        if let Some(id) = node_id_of_uri(uri) {
                            node_ids.push(id);
                        }
                    }
                    GeneralName::RFC822Name(mail) if user.is_none() => {
                        user = Some((*mail).to_string());
                    }
                    _ => {}
                }
            }
        }
        let spki = cert.public_key().raw.to_vec();
        let public_key = cert.public_key().subject_public_key.data.to_vec();
        Ok(NodeCertificate {
            der: der.to_vec(),
            node_ids,
            user,
            spki,
            public_key,
            self_issued: cert.issuer() == cert.subject(),
            not_after_s: cert.validity().not_after.timestamp(),
        })
    }

    /// The Node-ID the certificate names first.
    pub fn node_id(&self) -> Option<NodeId> {
        self.node_ids.first().copied()
    }
}

/// The URI naming `id` in `overlay` (§11.3, §14.15): a Destination of type node (`01`),
/// length 16 (`10`) and the Node-ID, in hex.
pub fn node_uri(id: NodeId, overlay: &str) -> String {
    format!("reload://0110{id}@{overlay}/")
}

/// The Node-ID of a `reload://` URI whose destination is one Node-ID, else `None`.
pub fn node_id_of_uri(uri: &str) -> Option<NodeId> {
    let rest = uri.strip_prefix("reload://")?;
    let (dest, _overlay) = rest.split_once('@')?;
    let hex = dest.strip_prefix("0110")?;
    if hex.len() != 32 {
        return None;
    }
    NodeId::from_hex(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let id = NodeId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let uri = node_uri(id, "overlay.example.org");
        assert_eq!(
            uri,
            "reload://01100123456789abcdef0011223344556677@overlay.example.org/"
        );
        assert_eq!(node_id_of_uri(&uri), Some(id));
        assert_eq!(node_id_of_uri("reload://0210abc@x/"), None);
        assert_eq!(node_id_of_uri("sip:alice@x"), None);
        assert_eq!(node_id_of_uri("reload://0110zz@x/"), None);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(NodeCertificate::parse(b"").is_err());
        assert!(NodeCertificate::parse(&[0x30, 0x03, 1, 2, 3]).is_err());
    }
}
