//! The real peer refuses, over real TLS links between processes on 127.0.0.1, whom its
//! overlay's trust does not vouch for: a peer whose certificate comes from a foreign CA
//! never joins while a peer of the overlay's CA does; a connection whose certificate
//! names one Node-ID and whose messages are signed as another is closed, while the same
//! message on a connection certified for its signer is answered; a self-signed
//! certificate (RFC 6940 §11.3.1) joins where the configuration permits it and is refused
//! where it does not. Every wait is bounded; every process is killed at the end.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reload_sim::io::pki::ca;
use reload_sim::io::pki::sign::RsaCrypto;
use reload_sim::io::pki::tls::{Credentials, TlsContext, Trust};
use reload_sim::io::stream::FrameSplitter;
use reload_sim::proto::config::OverlayConfig;
use reload_sim::proto::id::NodeId;
use reload_sim::proto::link::LinkTransport;
use reload_sim::proto::node::{Identity, Node};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::time::Time;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::peers::{Ring, ca_config, ctl, free_port, issue, user};

const OVERLAY: &str = "ring.test.example";

/// An empty ring in a fresh directory.
fn ring(name: &str) -> Ring {
    let dir = std::env::temp_dir().join(format!("reload-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Ring {
        dir,
        peers: Vec::new(),
    }
}

fn status(ring: &Ring, i: usize) -> Option<Value> {
    ctl(&ring.peers[i].control, &["status"])
}

/// Waits (up to `limit`) until `ok` holds of the statuses of peers `of`.
fn wait_until(
    ring: &Ring,
    of: &[usize],
    limit: Duration,
    ok: impl Fn(&[Value]) -> bool,
) -> Result<Vec<Value>, String> {
    let start = Instant::now();
    let mut last = Vec::new();
    while start.elapsed() < limit {
        let s: Option<Vec<Value>> = of.iter().map(|&i| status(ring, i)).collect();
        if let Some(s) = s {
            if ok(&s) {
                return Ok(s);
            }
            last = s;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(format!(
        "not reached after {limit:?}: {last:?}\n{}",
        ring.logs()
    ))
}

fn id_list(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Node-IDs of the peers a status's links are bound to.
fn link_peers(v: &Value) -> Vec<String> {
    v["links"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["peer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `--cert` and `--key` for files `ca` wrote.
fn cert_args(f: &ca::NodeFiles) -> Vec<String> {
    vec![
        "--cert".into(),
        f.cert.display().to_string(),
        "--key".into(),
        f.key.display().to_string(),
    ]
}

#[test]
fn a_peer_with_a_certificate_from_a_foreign_ca_cannot_join() {
    let mut ring = ring("foreign-ca");
    let dir = ring.dir.clone();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let cfg = ca_config(&dir, ports[0], false);
    let ids = [NodeId(1 << 120), NodeId(5 << 120), NodeId(9 << 120)];
    let boot = issue(&dir, &dir.join("ca"), "n0", &user(0), ids[0]);
    ring.spawn(&cfg, ports[0], boot, Some(ids[0]), Some(&user(0)));
    std::thread::sleep(Duration::from_millis(300));
    // Another CA for an overlay of the same name: its certificates are well formed and
    // name a Node-ID, but nothing chains them to the configuration's root-cert.
    ca::init(OVERLAY, &[], false, &dir.join("foreign")).unwrap();
    let foreign = issue(&dir, &dir.join("foreign"), "n1", &user(1), ids[1]);
    let intruder = ring.spawn(&cfg, ports[1], foreign, Some(ids[1]), Some(&user(1)));
    // An honest peer that arrives after the intruder joins.
    let honest_cert = issue(&dir, &dir.join("ca"), "n2", &user(2), ids[2]);
    let honest = ring.spawn(&cfg, ports[2], honest_cert, Some(ids[2]), Some(&user(2)));
    let (a, c) = (ids[0].to_string(), ids[2].to_string());
    let s = wait_until(&ring, &[0, honest], Duration::from_secs(60), |s| {
        s.iter().all(|s| s["state"] == "Joined")
            && id_list(&s[0], "successors").first() == Some(&c)
            && id_list(&s[1], "successors").first() == Some(&a)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    // The intruder had longer than the honest peer and is still outside.
    let i = status(&ring, intruder).expect("the intruder serves its control socket");
    assert_ne!(i["state"], "Joined", "{i}");
    assert!(link_peers(&i).is_empty(), "{i}");
    let x = ids[1].to_string();
    for s in &s {
        for field in ["successors", "predecessors", "fingers"] {
            assert!(!id_list(s, field).contains(&x), "{field}: {s}");
        }
        assert!(!link_peers(s).contains(&x), "{s}");
    }
    let log = ring.log(0);
    assert!(log.contains("TLS handshake refused"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_self_signed_peer_joins_only_where_the_configuration_permits_it() {
    for permitted in [true, false] {
        let name = format!("self-signed-{permitted}");
        let mut ring = ring(&name);
        let dir = ring.dir.clone();
        let ports: Vec<u16> = (0..2).map(|_| free_port()).collect();
        let cfg = ca_config(&dir, ports[0], permitted);
        let boot_id = NodeId(3 << 120);
        let boot = issue(&dir, &dir.join("ca"), "n0", &user(0), boot_id);
        ring.spawn(&cfg, ports[0], boot, Some(boot_id), Some(&user(0)));
        std::thread::sleep(Duration::from_millis(300));
        let own = ca::self_signed(OVERLAY, "selfie", &dir.join("selfie")).unwrap();
        let selfie = ring.spawn(&cfg, ports[1], cert_args(&own), None, None);
        let me = own.node_id.to_string();
        let b = boot_id.to_string();
        // Where it is refused, 10 s is many join attempts (the honest peers of these
        // tests join in under a second).
        let limit = Duration::from_secs(if permitted { 30 } else { 10 });
        let joined = wait_until(&ring, &[0, selfie], limit, |s| {
            s[1]["node_id"] == me.as_str()
                && s.iter().all(|s| s["state"] == "Joined")
                && id_list(&s[0], "successors").first() == Some(&me)
                && id_list(&s[1], "successors").first() == Some(&b)
        });
        if permitted {
            let s = joined.unwrap_or_else(|e| panic!("self-signed permitted: {e}"));
            assert!(link_peers(&s[0]).contains(&me), "{}", s[0]);
        } else {
            assert!(
                joined.is_err(),
                "a self-signed peer joined where not permitted"
            );
            let s = status(&ring, selfie).expect("status");
            assert_ne!(s["state"], "Joined", "{s}");
            let log = ring.log(0);
            assert!(log.contains("TLS handshake refused"), "{log}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What came back on a connection within `limit`: the number of data frames (answers)
/// and of acks, and whether the other end closed it.
struct Heard {
    data: usize,
    acks: usize,
    closed: bool,
}

/// Connects to `to` over TLS presenting `creds`, writes `hello`, and listens for `limit`
/// (or until the other end closes).
async fn say(
    to: SocketAddr,
    creds: &Credentials,
    trust: Trust,
    hello: &[u8],
    limit: Duration,
) -> Heard {
    let ctx = TlsContext::new(creds, trust).unwrap();
    let tcp = tokio::net::TcpStream::connect(to).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(to.ip().into());
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&ctx.client));
    let mut tls = tokio::time::timeout(limit, connector.connect(name, tcp))
        .await
        .expect("handshake in time")
        .expect("the TLS handshake succeeds: the certificate is the overlay's");
    tls.write_all(hello).await.unwrap();
    tls.flush().await.unwrap();
    let mut splitter = FrameSplitter::new(1 << 16);
    let mut heard = Heard {
        data: 0,
        acks: 0,
        closed: false,
    };
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout_at(deadline, tls.read(&mut buf)).await {
            Err(_) => break,
            Ok(Ok(0)) | Ok(Err(_)) => {
                heard.closed = true;
                break;
            }
            Ok(Ok(n)) => {
                splitter.push(&buf[..n]);
                while let Ok(Some(f)) = splitter.next_frame() {
                    match Frame::decode(&f) {
                        Ok(Frame::Data { .. }) => heard.data += 1,
                        Ok(Frame::Ack { .. }) => heard.acks += 1,
                        Err(e) => panic!("not a frame: {e}"),
                    }
                }
            }
        }
        if heard.data > 0 {
            break;
        }
    }
    heard
}

fn load(dir: &Path, name: &str) -> (PathBuf, Credentials) {
    let d = dir.join(name);
    let creds = Credentials::load(&d.join("node.pem"), &d.join("node.key")).unwrap();
    (d, creds)
}

#[test]
fn a_connection_whose_messages_claim_a_node_id_its_certificate_does_not_name_is_closed() {
    let mut ring = ring("claim");
    let dir = ring.dir.clone();
    let port = free_port();
    let cfg = ca_config(&dir, port, false);
    let boot_id = NodeId(2 << 120);
    let boot = issue(&dir, &dir.join("ca"), "n0", &user(0), boot_id);
    ring.spawn(&cfg, port, boot, Some(boot_id), Some(&user(0)));
    let bootstrap: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // Two certificates of the overlay's CA: X, whose key signs the message, and Y, which
    // the connection presents.
    let (x, y) = (NodeId(6 << 120), NodeId(10 << 120));
    issue(&dir, &dir.join("ca"), "x", &user(1), x);
    issue(&dir, &dir.join("ca"), "y", &user(2), y);
    let (_, creds_x) = load(&dir, "x");
    let (_, creds_y) = load(&dir, "y");
    let mut config =
        OverlayConfig::from_document(&std::fs::read(&cfg).unwrap(), None).expect("overlay.xml");
    config.link_transport = LinkTransport::Stream;
    let trust = Trust::new(&config.root_certs, false).unwrap();
    // X's join begins with a handshake Ping signed with X's key, X's certificate in its
    // SecurityBlock (§10.5, §6.3.4).
    let crypto = RsaCrypto::new(&creds_x, x, trust.clone()).unwrap();
    let mut node = Node::new(
        Arc::new(config),
        Identity::new(x, &user(1)),
        format!("127.0.0.1:{}", free_port()).parse().unwrap(),
        Time::ZERO,
        7,
    )
    .with_crypto(Arc::new(crypto));
    node.join(Time::ZERO, &[bootstrap]).unwrap();
    let hello = node.poll_transmit().expect("the handshake frame").bytes;

    let stat = |field: &str| {
        ctl(&ring.peers[0].control, &["stat"]).map(|s| s["stats"][field].as_u64().unwrap_or(0))
    };
    wait_until(&ring, &[0], Duration::from_secs(10), |s| {
        s[0]["state"] == "Joined"
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let dropped = stat("dropped").expect("stat");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let limit = Duration::from_secs(10);
    // On a connection certified for Y, the message signed as X is not answered and the
    // link is closed.
    let liar = rt.block_on(say(bootstrap, &creds_y, trust.clone(), &hello, limit));
    assert!(liar.closed, "the link stays up");
    assert_eq!(liar.data, 0, "answered");
    assert_eq!(stat("dropped"), Some(dropped + 1));
    let log = ring.log(0);
    assert!(log.contains("closing link"), "{log}");
    // The same bytes on a connection certified for X are answered.
    let honest = rt.block_on(say(bootstrap, &creds_x, trust, &hello, limit));
    assert!(
        honest.data > 0 && !honest.closed,
        "not answered (closed: {}, acks: {})\n{}",
        honest.closed,
        honest.acks,
        ring.logs()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
