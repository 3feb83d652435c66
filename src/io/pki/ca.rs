//! `reload-sim ca`: an overlay's enrollment authority on disk (RFC 6940 §11.3).
//!
//! `ca init` makes a root CA (RSA-2048, SHA-256) and a configuration document that trusts
//! it; `ca issue` makes a node certificate with a random Node-ID in the subjectAltName URI
//! `reload://0110<Node-ID hex>@<overlay>/` (§14.15) and the user name as rfc822Name, with an
//! empty subject (§11.3), signed by that CA. `ca self-signed` makes a self-signed
//! certificate whose Node-ID is the digest of its public key (§11.3.1).
//!
//! Files: `DIR/ca.pem`, `DIR/ca.key` (PKCS#8, mode 0600) and `DIR/overlay.xml` for a CA;
//! `DIR/node.pem` and `DIR/node.key` for a node. Keys come from the operating system's
//! random source; nothing here is part of a simulation's reproducible output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rsa::pkcs8::EncodePrivateKey;

use super::PkiError;
use super::cert::node_uri;
use super::tls::self_signed_node_id;
use crate::proto::config::OverlayConfig;
use crate::proto::config_doc;
use crate::proto::id::NodeId;
use crate::proto::store::{AccessPolicy, KindDef};
use crate::proto::wire::storage::{DataModel, KindId};

/// The private Kind the configuration `ca init` writes: a dictionary under the user's
/// own name (USER-MATCH, §7.3.1), so `ctl store` works out of the box.
pub const USER_VALUES: KindId = KindId(0xf000_0001);
/// Its name in this configuration (the document names a private Kind by its id only, §11.1).
pub const USER_VALUES_NAME: &str = "USER-VALUES";
/// Its `max-count` (dictionary keys per user).
pub const USER_VALUES_MAX_COUNT: u32 = 32;
/// Its `max-size`, bytes per value.
pub const USER_VALUES_MAX_SIZE: u32 = 1024;
/// `max-message-size` of the configurations `ca init` writes, bytes. Messages carry
/// certificate chains (about 0.9 KB per certificate) and 256-byte RSA signatures, so the
/// RFC's default of 5,000 is too small for a replica Store or a FetchAns of one whole
/// USER-VALUES resource: 32 values of 1,024 bytes, each with its signature, and the
/// certificates of their signers fit in 64 KiB.
pub const MAX_MESSAGE_SIZE: u32 = 65_536;

/// RSA modulus length of every key made here (RFC 6940 §6.3.4's RSA-2048).
pub const RSA_BITS: usize = 2048;
/// How long certificates made here are valid, days.
pub const VALID_DAYS: i64 = 3650;

/// What `ca init` wrote.
#[derive(Clone, Debug)]
pub struct CaFiles {
    /// The root certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The configuration document trusting it.
    pub config: PathBuf,
}

/// What `ca issue` or `ca self-signed` wrote.
#[derive(Clone, Debug)]
pub struct NodeFiles {
    /// The Node-ID in the certificate.
    pub node_id: NodeId,
    /// The user name (rfc822Name).
    pub user: String,
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

fn pki(what: &str) -> impl FnOnce(rcgen::Error) -> PkiError + '_ {
    move |e| PkiError::Generate(format!("{what}: {e}"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |e| PkiError::File {
        path: path.display().to_string(),
        source: e,
    }
}

/// A new RSA-2048 key pair for signing with PKCS#1 v1.5 SHA-256.
pub fn generate_key() -> Result<KeyPair, PkiError> {
    let mut rng = rsa::rand_core::UnwrapErr(getrandom::SysRng);
    let key = rsa::PrivateKey::new(&mut rng, RSA_BITS)
        .map_err(|e| PkiError::Generate(format!("RSA key: {e}")))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| PkiError::Generate(format!("RSA key encoding: {e}")))?;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).map_err(pki("RSA key"))
}

/// Refuses an overlay name that is not a DNS name (§6.3.2).
fn check_overlay(overlay: &str) -> Result<(), PkiError> {
    crate::proto::config::check_overlay_name(overlay)
        .map_err(|e| PkiError::Generate(format!("overlay name {overlay:?}: {e}")))
}

fn validity(params: &mut CertificateParams) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(VALID_DAYS);
}

fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    std::fs::write(path, bytes).map_err(io(path))
}

/// The configuration `ca init` writes for `overlay`: the RFC defaults, `bootstrap` as its
/// bootstrap nodes, `root` as its root certificate, the standard Kinds and
/// [`USER_VALUES`].
pub fn overlay_config(
    overlay: &str,
    bootstrap: &[SocketAddr],
    root: &[u8],
    self_signed_permitted: bool,
) -> Result<OverlayConfig, PkiError> {
    check_overlay(overlay)?;
    let mut cfg = OverlayConfig::new(overlay);
    cfg.bootstrap_nodes = bootstrap.to_vec();
    cfg.root_certs = vec![root.to_vec()];
    cfg.self_signed_permitted = self_signed_permitted;
    cfg.max_message_size = MAX_MESSAGE_SIZE as usize;
    cfg.kinds
        .insert(KindDef::new(
            USER_VALUES,
            USER_VALUES_NAME,
            DataModel::Dictionary,
            AccessPolicy::UserMatch,
            USER_VALUES_MAX_COUNT,
            USER_VALUES_MAX_SIZE,
        ))
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok(cfg)
}

/// `ca init`: a root CA for `overlay` in `out` (created if missing) and the
/// configuration document trusting it, with `bootstrap` as its bootstrap nodes.
pub fn init(
    overlay: &str,
    bootstrap: &[SocketAddr],
    self_signed_permitted: bool,
    out: &Path,
) -> Result<CaFiles, PkiError> {
    check_overlay(overlay)?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let key = generate_key()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{overlay} enrollment CA"));
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params);
    let cert = params.self_signed(&key).map_err(pki("root certificate"))?;
    let files = CaFiles {
        cert: out.join("ca.pem"),
        key: out.join("ca.key"),
        config: out.join("overlay.xml"),
    };
    let cfg = overlay_config(overlay, bootstrap, cert.der(), self_signed_permitted)?;
    write_private(&files.key, &key.serialize_pem())?;
    write_file(&files.cert, cert.pem().as_bytes())?;
    write_file(&files.config, config_doc::write(&cfg).bytes())?;
    Ok(files)
}

/// A Node-ID from the operating system's random source: neither all zeros nor all
/// ones (§14.15 reserves them).
pub fn random_node_id() -> Result<NodeId, PkiError> {
    loop {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| PkiError::Generate(format!("random: {e}")))?;
        let id = NodeId(u128::from_be_bytes(b));
        if id.0 != 0 && id.0 != u128::MAX {
            return Ok(id);
        }
    }
}

/// The rfc822Name for `user` in `overlay`: `user` itself if it has an `@`, else
/// `user@overlay`.
pub fn user_name(user: &str, overlay: &str) -> String {
    if user.contains('@') {
        user.to_string()
    } else {
        format!("{user}@{overlay}")
    }
}

fn node_params(ids: &[NodeId], user: &str, overlay: &str) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    // §11.3: the subject MUST be empty; the names are in subjectAltName.
    params.distinguished_name = DistinguishedName::new();
    let ia5 = |s: String| {
        rcgen::string::Ia5String::try_from(s.clone())
            .map_err(|_| PkiError::Generate(format!("{s:?} is not ASCII")))
    };
    for id in ids {
        params
            .subject_alt_names
            .push(SanType::URI(ia5(node_uri(*id, overlay))?));
    }
    params
        .subject_alt_names
        .push(SanType::Rfc822Name(ia5(user.to_string())?));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    // Links are TLS with mutual authentication: each end is both client and server.
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    validity(&mut params);
    Ok(params)
}

/// The overlay name of the configuration in the CA folder `ca`.
fn ca_overlay(ca: &Path) -> Result<String, PkiError> {
    let path = ca.join("overlay.xml");
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    config_doc::first_instance_name(&bytes)
        .map_err(|e| PkiError::Certificate(format!("{}: {e}", path.display())))
}

/// `ca issue`: a certificate for `user` signed by the CA in `ca`, with `node_id` (random
/// if `None`), written to `out` (created if missing).
pub fn issue(
    ca: &Path,
    user: &str,
    node_id: Option<NodeId>,
    out: &Path,
) -> Result<NodeFiles, PkiError> {
    let overlay = ca_overlay(ca)?;
    let cert_path = ca.join("ca.pem");
    let key_path = ca.join("ca.key");
    let ca_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
    let ca_key = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
    let ca_key =
        KeyPair::from_pem_and_sign_algo(&ca_key, &rcgen::PKCS_RSA_SHA256).map_err(pki("CA key"))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key).map_err(pki("CA certificate"))?;
    let node_id = match node_id {
        Some(id) => id,
        None => random_node_id()?,
    };
    let user = user_name(user, &overlay);
    std::fs::create_dir_all(out).map_err(io(out))?;
    let key = generate_key()?;
    let cert = node_params(&[node_id], &user, &overlay)?
        .signed_by(&key, &issuer)
        .map_err(pki("node certificate"))?;
    write_node(out, node_id, user, &key, &cert)
}

/// Writes `out/node.pem` and `out/node.key`.
fn write_node(
    out: &Path,
    node_id: NodeId,
    user: String,
    key: &KeyPair,
    cert: &rcgen::Certificate,
) -> Result<NodeFiles, PkiError> {
    let files = NodeFiles {
        node_id,
        user,
        cert: out.join("node.pem"),
        key: out.join("node.key"),
    };
    write_private(&files.key, &key.serialize_pem())?;
    write_file(&files.cert, cert.pem().as_bytes())?;
    Ok(files)
}

/// `ca self-signed`: a self-signed certificate for `user` in `overlay` whose Node-ID is
/// the first 16 bytes of SHA-1 of its SubjectPublicKeyInfo (§11.3.1, digest `sha1`).
pub fn self_signed(overlay: &str, user: &str, out: &Path) -> Result<NodeFiles, PkiError> {
    check_overlay(overlay)?;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let key = generate_key()?;
    let node_id = self_signed_node_id(&rcgen::PublicKeyData::subject_public_key_info(&key));
    let user = user_name(user, overlay);
    let cert = node_params(&[node_id], &user, overlay)?
        .self_signed(&key)
        .map_err(pki("self-signed certificate"))?;
    write_node(out, node_id, user, &key, &cert)
}

/// `reload-sim ca` commands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Make a root CA for an overlay and a configuration document (overlay.xml) that
    /// trusts it and defines the USER-VALUES dictionary Kind.
    Init {
        /// The overlay name (a DNS name, §6.3.2).
        #[arg(long, value_name = "NAME")]
        overlay: String,
        /// Where to write ca.pem, ca.key and overlay.xml.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A bootstrap node of the configuration (repeatable).
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:6084")]
        bootstrap: Vec<SocketAddr>,
        /// Let peers join with self-signed certificates (§11.3.1).
        #[arg(long)]
        self_signed_permitted: bool,
    },
    /// Issue a node certificate signed by a CA folder made by `ca init`.
    Issue {
        /// The CA folder.
        #[arg(long, value_name = "DIR")]
        ca: PathBuf,
        /// The user name (rfc822Name); `NAME@<overlay>` unless it has an `@`.
        #[arg(long, value_name = "NAME")]
        user: String,
        /// The Node-ID, 32 hex digits [default: random].
        #[arg(long, value_name = "HEX", value_parser = crate::io::peer::parse_node_id)]
        node_id: Option<NodeId>,
        /// Where to write node.pem and node.key.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Make a self-signed node certificate whose Node-ID is the SHA-1 digest of its
    /// public key (§11.3.1), for overlays that permit it.
    SelfSigned {
        /// The overlay name.
        #[arg(long, value_name = "NAME")]
        overlay: String,
        /// The user name (rfc822Name).
        #[arg(long, value_name = "NAME")]
        user: String,
        /// Where to write node.pem and node.key.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs a `ca` command; the text to print.
pub fn run(cmd: &CaCommand) -> Result<String, PkiError> {
    match cmd {
        CaCommand::Init {
            overlay,
            out,
            bootstrap,
            self_signed_permitted,
        } => {
            let f = init(overlay, bootstrap, *self_signed_permitted, out)?;
            Ok(format!(
                "root certificate  {}\nroot key          {}\nconfiguration     {}\n",
                f.cert.display(),
                f.key.display(),
                f.config.display()
            ))
        }
        CaCommand::Issue {
            ca,
            user,
            node_id,
            out,
        } => {
            let f = issue(ca, user, *node_id, out)?;
            Ok(node_report(&f))
        }
        CaCommand::SelfSigned { overlay, user, out } => {
            let f = self_signed(overlay, user, out)?;
            Ok(node_report(&f))
        }
    }
}

fn node_report(f: &NodeFiles) -> String {
    format!(
        "node-id      {}\nuser         {}\ncertificate  {}\nkey          {}\n",
        f.node_id,
        f.user,
        f.cert.display(),
        f.key.display()
    )
}
