//! The SecurityBlock and signatures (RFC 6940 §6.3.4).

use super::codec::{Reader, Wire, get_list, get_opaque, list_len, put_list, put_opaque};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use serde::Serialize;

/// `GenericCertificate`: a certificate with its RFC 6091 type (0 X.509 DER, 1 OpenPGP).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GenericCertificate {
    /// `CertificateType` (RFC 6091).
    pub cert_type: u8,
    /// `opaque certificate<0..2^16-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub certificate: Vec<u8>,
}

impl Wire for GenericCertificate {
    fn encoded_len(&self) -> usize {
        3 + self.certificate.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.cert_type);
        put_opaque(out, 2, &self.certificate, "GenericCertificate.certificate")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(GenericCertificate {
            cert_type: r.u8("GenericCertificate.type")?,
            certificate: get_opaque(r, 2, "GenericCertificate.certificate")?,
        })
    }
}

/// TLS 1.2 `SignatureAndHashAlgorithm`, hash byte first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SignatureAndHashAlgorithm {
    /// `HashAlgorithm`: none 0, md5 1, sha1 2, sha224 3, sha256 4, sha384 5, sha512 6.
    pub hash: u8,
    /// `SignatureAlgorithm`: anonymous 0, rsa 1, dsa 2, ecdsa 3.
    pub signature: u8,
}

impl SignatureAndHashAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, the mandatory algorithm (§6.3.4).
    pub const RSA_SHA256: Self = SignatureAndHashAlgorithm {
        hash: 4,
        signature: 1,
    };
    /// `{none, anonymous}`: only for synthesized values in FetchAns (§6.3.4).
    pub const ANONYMOUS: Self = SignatureAndHashAlgorithm {
        hash: 0,
        signature: 0,
    };
}

/// TLS `HashAlgorithm` code for SHA-256.
pub const HASH_SHA256: u8 = 4;
/// TLS `HashAlgorithm` code for SHA-1.
pub const HASH_SHA1: u8 = 2;

/// `SignerIdentityType` codes.
pub mod signer_identity_type {
    /// `cert_hash(1)`.
    pub const CERT_HASH: u8 = 1;
    /// `cert_hash_node_id(2)`.
    pub const CERT_HASH_NODE_ID: u8 = 2;
    /// `none(3)`.
    pub const NONE: u8 = 3;
}

/// `SignerIdentity` (§6.3.4): who signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerIdentity {
    /// `cert_hash`: H(DER certificate), for single-Node-ID certificates.
    CertHash {
        /// `HashAlgorithm` of the digest.
        hash_alg: u8,
        /// `opaque certificate_hash<0..2^8-1>`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        hash: Vec<u8>,
    },
    /// `cert_hash_node_id`: H(Node-ID ‖ DER certificate), for multi-Node-ID certificates.
    CertHashNodeId {
        /// `HashAlgorithm` of the digest.
        hash_alg: u8,
        /// `opaque certificate_node_id_hash<0..2^8-1>`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        hash: Vec<u8>,
    },
    /// `none`: only in synthesized FetchAns values.
    None,
}

impl Wire for SignerIdentity {
    fn encoded_len(&self) -> usize {
        3 + match self {
            SignerIdentity::CertHash { hash, .. } | SignerIdentity::CertHashNodeId { hash, .. } => {
                2 + hash.len()
            }
            SignerIdentity::None => 0,
        }
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (t, body) = match self {
            SignerIdentity::CertHash { hash_alg, hash } => {
                (signer_identity_type::CERT_HASH, Some((hash_alg, hash)))
            }
            SignerIdentity::CertHashNodeId { hash_alg, hash } => (
                signer_identity_type::CERT_HASH_NODE_ID,
                Some((hash_alg, hash)),
            ),
            SignerIdentity::None => (signer_identity_type::NONE, None),
        };
        out.push(t);
        out.extend_from_slice(&((self.encoded_len() - 3) as u16).to_be_bytes());
        if let Some((alg, hash)) = body {
            out.push(*alg);
            put_opaque(out, 1, hash, "SignerIdentity.certificate_hash")?;
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let t = r.u8("SignerIdentity.identity_type")?;
        let mut body = r.vector(2, "SignerIdentity.length")?;
        let id = match t {
            signer_identity_type::CERT_HASH => SignerIdentity::CertHash {
                hash_alg: body.u8("SignerIdentity.hash_alg")?,
                hash: get_opaque(&mut body, 1, "SignerIdentity.certificate_hash")?,
            },
            signer_identity_type::CERT_HASH_NODE_ID => SignerIdentity::CertHashNodeId {
                hash_alg: body.u8("SignerIdentity.hash_alg")?,
                hash: get_opaque(&mut body, 1, "SignerIdentity.certificate_node_id_hash")?,
            },
            signer_identity_type::NONE => SignerIdentity::None,
            _ => {
                return Err(DecodeError {
                    what: "SignerIdentity.identity_type",
                    offset: at,
                    kind: DecodeErrorKind::InvalidValue(t.into()),
                });
            }
        };
        body.finish("SignerIdentity")?;
        Ok(id)
    }
}

/// `Signature` (§6.3.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// Algorithm pair.
    pub algorithm: SignatureAndHashAlgorithm,
    /// Signer.
    pub identity: SignerIdentity,
    /// `opaque signature_value<0..2^16-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub value: Vec<u8>,
}

impl Signature {
    /// The unsigned form used for synthesized non-existent values (§6.3.4, §7.4.2.2).
    pub fn anonymous() -> Signature {
        Signature {
            algorithm: SignatureAndHashAlgorithm::ANONYMOUS,
            identity: SignerIdentity::None,
            value: Vec::new(),
        }
    }
}

impl Wire for Signature {
    fn encoded_len(&self) -> usize {
        2 + self.identity.encoded_len() + 2 + self.value.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.algorithm.hash);
        out.push(self.algorithm.signature);
        self.identity.encode(out)?;
        put_opaque(out, 2, &self.value, "Signature.signature_value")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hash = r.u8("Signature.algorithm.hash")?;
        let signature = r.u8("Signature.algorithm.signature")?;
        let identity = SignerIdentity::decode(r)?;
        let value = get_opaque(r, 2, "Signature.signature_value")?;
        Ok(Signature {
            algorithm: SignatureAndHashAlgorithm { hash, signature },
            identity,
            value,
        })
    }
}

/// `SecurityBlock` (§6.3.4): certificates and the message signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecurityBlock {
    /// `GenericCertificate certificates<0..2^16-1>`.
    pub certificates: Vec<GenericCertificate>,
    /// The message signature.
    pub signature: Signature,
}

impl Wire for SecurityBlock {
    fn encoded_len(&self) -> usize {
        2 + list_len(&self.certificates) + self.signature.encoded_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 2, &self.certificates, "SecurityBlock.certificates")?;
        self.signature.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SecurityBlock {
            certificates: get_list(r, 2, "SecurityBlock.certificates")?,
            signature: Signature::decode(r)?,
        })
    }
}

/// The bytes a message signature covers (§6.3.4): overlay ‖ transaction_id ‖
/// MessageContents ‖ SignerIdentity, each as encoded on the wire.
pub fn message_signature_input(
    overlay: u32,
    transaction_id: u64,
    contents: &[u8],
    identity: &SignerIdentity,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(12 + contents.len() + identity.encoded_len());
    out.extend_from_slice(&overlay.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(contents);
    identity.encode(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::codec::parse_hex;

    #[test]
    fn cert_hash_identity_layout() {
        let id = SignerIdentity::CertHash {
            hash_alg: HASH_SHA256,
            hash: vec![0x11; 32],
        };
        let bytes = id.to_bytes().unwrap();
        assert_eq!(&bytes[..5], &parse_hex("01 0022 04 20").unwrap()[..]);
        assert_eq!(bytes.len(), 3 + 0x22);
        assert_eq!(SignerIdentity::from_bytes(&bytes).unwrap(), id);
        assert_eq!(SignerIdentity::None.to_bytes().unwrap(), vec![3, 0, 0]);
        assert!(SignerIdentity::from_bytes(&[0, 0, 0]).is_err());
        assert!(SignerIdentity::from_bytes(&[3, 0, 1, 9]).is_err());
    }

    #[test]
    fn security_block_round_trip() {
        let sb = SecurityBlock {
            certificates: vec![GenericCertificate {
                cert_type: 0,
                certificate: vec![0x30, 0x82, 0x01],
            }],
            signature: Signature {
                algorithm: SignatureAndHashAlgorithm::RSA_SHA256,
                identity: SignerIdentity::CertHash {
                    hash_alg: HASH_SHA256,
                    hash: vec![7; 32],
                },
                value: vec![1; 256],
            },
        };
        let b = sb.to_bytes().unwrap();
        assert_eq!(b.len(), sb.encoded_len());
        assert_eq!(SecurityBlock::from_bytes(&b).unwrap(), sb);
    }
}
