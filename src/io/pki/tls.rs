//! TLS for the peer's links (TLS-TCP-FH-NO-ICE, RFC 6940 §6.6.5) with rustls and mutual
//! authentication: each end presents its node certificate, and each checks the other's
//! against the overlay's root certificates (§11.1 `root-cert`) or, where the
//! configuration permits it, as a self-signed certificate whose Node-ID is the digest of
//! its public key (§11.3.1). Host names play no part: a peer is named by the Node-ID in
//! its certificate's `reload://` URI, which the driver hands to the Node
//! (`Node::handle_link_up`).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, TrustAnchor, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, DistinguishedName, OtherError,
    ServerConfig, SignatureScheme,
};
use sha1::Digest as _;

use super::PkiError;
use super::cert::NodeCertificate;
use crate::proto::id::NodeId;

/// A node's certificate chain and private key.
pub struct Credentials {
    /// The node certificate first, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the node certificate.
    pub key: PrivateKeyDer<'static>,
    /// What the node certificate says.
    pub cert: NodeCertificate,
}

impl Credentials {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8 or PKCS#1).
    pub fn load(cert: &Path, key: &Path) -> Result<Credentials, PkiError> {
        let bad = |path: &Path, e: rustls::pki_types::pem::Error| {
            PkiError::Certificate(format!("{}: {e}", path.display()))
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| bad(cert, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(cert, e))?;
        let Some(first) = chain.first() else {
            return Err(PkiError::Certificate(format!(
                "{}: no certificate",
                cert.display()
            )));
        };
        let parsed = NodeCertificate::parse(first)
            .map_err(|e| PkiError::Certificate(format!("{}: {e}", cert.display())))?;
        if parsed.node_ids.is_empty() {
            return Err(PkiError::Certificate(format!(
                "{}: the certificate names no Node-ID (no reload:// URI in subjectAltName)",
                cert.display()
            )));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e))?;
        Ok(Credentials {
            chain,
            key,
            cert: parsed,
        })
    }
}

/// Whom a peer trusts: the overlay's root certificates, and self-signed certificates if
/// the configuration permits them.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    roots: Vec<TrustAnchor<'static>>,
    self_signed: bool,
}

impl Trust {
    /// Trusts the DER certificates `roots` (a configuration's `root-cert`s) and, when
    /// `self_signed`, certificates signed by their own key whose Node-ID is its digest.
    pub fn new(roots: &[Vec<u8>], self_signed: bool) -> Result<Trust, PkiError> {
        let roots = roots
            .iter()
            .enumerate()
            .map(|(i, der)| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                    .map(|a| a.to_owned())
                    .map_err(|e| PkiError::Certificate(format!("root-cert {}: {e}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Trust { roots, self_signed })
    }

    /// What `end_entity` says, if it is a node certificate (it names a Node-ID) that
    /// chains through `intermediates` to a root, valid at `now` for `usage`, or, where
    /// permitted, a self-signed one whose Node-ID is the digest of its key (§11.3.1).
    pub fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: webpki::KeyUsage,
        algs: &[&dyn rustls::pki_types::SignatureVerificationAlgorithm],
    ) -> Result<NodeCertificate, rustls::Error> {
        let cert = NodeCertificate::parse(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        if cert.node_ids.is_empty() {
            return Err(refuse("the certificate names no Node-ID"));
        }
        let ee = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let chained = ee.verify_for_usage(algs, &self.roots, intermediates, now, usage, None, None);
        match chained {
            Ok(_) => Ok(cert),
            Err(e) if self.self_signed && cert.self_issued => {
                if cert.node_ids != [self_signed_node_id(&cert.spki)] {
                    return Err(refuse(
                        "self-signed certificate: its Node-ID is not the digest of its key (§11.3.1)",
                    ));
                }
                let anchor = webpki::anchor_from_trusted_cert(end_entity).map_err(|_| {
                    rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
                })?;
                ee.verify_for_usage(algs, &[anchor], &[], now, usage, None, None)
                    .map(|_| cert)
                    .map_err(|e2| refuse(format!("{e}; self-signed: {e2}")))
            }
            Err(webpki::Error::UnknownIssuer) => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
            Err(webpki::Error::CertExpired { .. }) => {
                Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
            }
            Err(e) => Err(refuse(e)),
        }
    }

    /// True if nothing at all is trusted.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty() && !self.self_signed
    }
}

/// Why a peer's certificate was refused.
fn refuse(why: impl std::fmt::Display) -> rustls::Error {
    #[derive(Debug)]
    struct Refused(String);
    impl std::fmt::Display for Refused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Refused {}
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refused(
        why.to_string(),
    )))))
}

/// The Node-ID a self-signed certificate may claim (§11.3.1, digest `sha1`): the first 16
/// bytes of SHA-1 of its SubjectPublicKeyInfo.
pub fn self_signed_node_id(spki: &[u8]) -> NodeId {
    let d = sha1::Sha1::digest(spki);
    NodeId(u128::from_be_bytes(
        d[..16].try_into().expect("20-byte digest"),
    ))
}

/// Checks certificates both as client and as server.
#[derive(Debug)]
struct LinkVerifier {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl LinkVerifier {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: webpki::KeyUsage,
    ) -> Result<(), rustls::Error> {
        let algs = self.provider.signature_verification_algorithms.all;
        self.trust
            .check(end_entity, intermediates, now, usage, algs)
            .map(|_| ())
    }

    fn tls12(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn tls13(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ServerCertVerifier for LinkVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(
            end_entity,
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
        )
        .map(|()| ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

impl ClientCertVerifier for LinkVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(
            end_entity,
            intermediates,
            now,
            webpki::KeyUsage::client_auth(),
        )
        .map(|()| ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

/// The TLS configurations of one peer: as client (connecting) and as server (accepting),
/// both presenting its certificate and requiring the other's.
#[derive(Clone)]
pub struct TlsContext {
    /// For connections this peer makes.
    pub client: Arc<ClientConfig>,
    /// For connections this peer accepts.
    pub server: Arc<ServerConfig>,
}

impl TlsContext {
    /// The configurations for `creds`, trusting `trust`.
    pub fn new(creds: &Credentials, trust: Trust) -> Result<TlsContext, PkiError> {
        if trust.is_empty() {
            return Err(PkiError::Certificate(
                "the configuration has no root-cert and does not permit self-signed certificates: no peer could be authenticated".into(),
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(LinkVerifier {
            trust,
            provider: Arc::clone(&provider),
        });
        let tls = |e: rustls::Error| PkiError::Certificate(format!("TLS: {e}"));
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(tls)?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(creds.chain.clone(), creds.key.clone_key())
            .map_err(tls)?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(creds.chain.clone(), creds.key.clone_key())
            .map_err(tls)?;
        Ok(TlsContext {
            client: Arc::new(client),
            server: Arc::new(server),
        })
    }
}

/// The Node-ID a verified peer certificate names first (the link is bound to it).
pub fn peer_node_id(certs: Option<&[CertificateDer<'_>]>) -> Option<NodeId> {
    NodeCertificate::parse(certs?.first()?).ok()?.node_id()
}
