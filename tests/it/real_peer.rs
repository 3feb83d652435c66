//! The real peer: `reload-sim peer` processes on 127.0.0.1 form a RELOAD ring over TLS
//! links with certificates from `reload-sim ca` (or clear-text framing where a test reads
//! the bytes), answer `reload-sim ctl`, repair the ring after `kill -9`, leave on a
//! command or SIGTERM, and refuse peers their certificates do not vouch for. Every wait
//! is bounded; every process is killed at the end, whatever the outcome.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reload_sim::io::control::{Place, Request};
use reload_sim::proto::id::{NodeId, ResourceId};
use reload_sim::proto::wire::message::code_name;

use crate::peers::{Killed, Links, Ring, config, ctl, free_port, request, user};

#[test]
fn twelve_peer_processes_form_the_true_ring_and_repair_it() {
    let mut ring = Ring::start("ring", 12);
    let statuses = ring
        .wait_correct(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    for s in &statuses {
        assert_eq!(s["overlay"], "ring.test.example");
        assert!(s["links"].as_array().is_some_and(|l| !l.is_empty()));
    }

    // Every peer finds the same responsible peer for a name: the first Node-ID at or
    // after H(name) (CHORD-RELOAD §10.1).
    let key = ResourceId::hash(b"alice@ring.test.example")
        .ring_position()
        .unwrap();
    let mut ids: Vec<NodeId> = ring.live().map(|p| p.id).collect();
    ids.sort();
    let owner = ids.iter().copied().find(|id| *id >= key).unwrap_or(ids[0]);
    for p in ring.live() {
        let a = ctl(&p.control, &["find", "alice@ring.test.example"])
            .unwrap_or_else(|| panic!("find from {}\n{}", p.id, ring.logs()));
        assert_eq!(a["ok"], true, "{a}");
        assert_eq!(a["responder"], owner.to_string(), "find from {}", p.id);
    }

    // Each peer's user stores 10 values under its own name (USER-MATCH); a store under
    // another user's name is refused and changes nothing.
    for (i, p) in ring.peers.iter().enumerate() {
        for j in 0..10 {
            let req = Request::Store {
                at: Place {
                    key: Some(format!("k{j}")),
                    ..Place::default()
                },
                lifetime_s: 600,
                value: format!("u{i}-v{j}"),
            };
            request(&p.control, &req).unwrap_or_else(|e| panic!("store by {}: {e}", user(i)));
        }
    }
    let forged = Request::Store {
        at: Place {
            resource: Some(user(0)),
            key: Some("k0".into()),
            ..Place::default()
        },
        lifetime_s: 600,
        value: "forged".into(),
    };
    let e = request(&ring.peers[1].control, &forged).unwrap_err();
    assert!(e.contains("Error_Forbidden"), "{e}");
    ring.check_values(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));

    // kill -9 two peers: the others see their links end and repair the ring.
    for i in [3, 7] {
        let c = ring.peers[i].child.as_mut().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
        ring.peers[i].child = None;
    }
    ring.wait_correct(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("after kill -9: {e}"));
    // Every value is still there: replicas took over (§10.7.1).
    ring.check_values(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("after kill -9: {e}"));

    // A peer told to leave, and one sent SIGTERM, leave the overlay and exit 0.
    let a = ctl(&ring.peers[5].control, &["leave"]).expect("leave answer");
    assert_eq!(a["ok"], true, "{a}");
    let status = ring
        .wait_exit(5, Duration::from_secs(10))
        .expect("exits after leave");
    assert!(status.success(), "{status}");
    let pid = ring.peers[9].child.as_ref().unwrap().id();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = ring
        .wait_exit(9, Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status}");
    ring.wait_correct(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("after leaving: {e}"));
    // The leaving peers handed their data over (§10.9).
    ring.check_values(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("after leaving: {e}"));
    let _ = std::fs::remove_dir_all(&ring.dir);
}

#[test]
fn a_bad_configuration_names_the_element_and_the_peer_does_not_start() {
    let dir = std::env::temp_dir().join(format!("reload-sim-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.xml");
    std::fs::write(
        &cfg,
        r#"<overlay xmlns="urn:ietf:params:xml:ns:p2p:config-base">
<configuration instance-name="x.example" sequence="1">
<bootstrap-node address="not-an-address" port="6084"/>
</configuration></overlay>"#,
    )
    .unwrap();
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(["peer", "--clear-text", "--config"])
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.xml") && err.contains("bootstrap-node address"),
        "{err}"
    );
    // Without --clear-text a peer needs its certificate and key.
    let out = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(["peer", "--config"])
        .arg(&cfg)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--cert") && err.contains("--key"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--pcap`: the bootstrap peer's own capture of a join, stores, fetches, pings and its
/// leave dissects in Wireshark as RELOAD framing over TCP, with no malformed packet and
/// every frame a RELOAD frame.
#[test]
fn the_peer_capture_dissects_as_reload_in_tshark() {
    if !crate::tshark::tshark_present() {
        return;
    }
    let mut ring = Ring::start_with("pcap", 4, Links::ClearText, |dir| {
        vec!["--pcap".into(), dir.join("p0.pcap").display().to_string()]
    });
    ring.wait_correct(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    let port = ring.port(0);
    for (i, p) in ring.peers.iter().enumerate() {
        let store = Request::Store {
            at: Place {
                key: Some("k".into()),
                ..Place::default()
            },
            lifetime_s: 600,
            value: format!("v{i}"),
        };
        request(&p.control, &store).unwrap_or_else(|e| panic!("store: {e}"));
        let fetch = Request::Fetch {
            at: Place {
                resource: Some(user((i + 1) % 4)),
                ..Place::default()
            },
        };
        let _ = request(&ring.peers[0].control, &fetch);
    }
    let _ = ctl(&ring.peers[0].control, &["ping", "somewhere"]);
    let _ = ctl(&ring.peers[0].control, &["leave"]);
    assert!(
        ring.wait_exit(0, Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    let pcap = ring.dir.join("p0.pcap");
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-d", &format!("tcp.port=={port},reload-framing")])
        .args([
            "-T",
            "fields",
            "-e",
            "frame.protocols",
            "-e",
            "_ws.malformed",
            "-e",
            "reload.message.code",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 50, "{} packets", lines.len());
    for l in &lines {
        let cols: Vec<&str> = l.split('\t').collect();
        assert!(
            cols[0].ends_with("tcp:reload-framing")
                || cols[0].ends_with("tcp:reload-framing:reload"),
            "{l}"
        );
        assert!(cols.get(1).is_none_or(|m| m.is_empty()), "malformed: {l}");
    }
    // The message codes tshark read (RFC 6940 §14.8), by our names.
    let methods: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| l.split('\t').nth(2)?.parse::<u16>().ok())
        .filter_map(code_name)
        .collect();
    for want in [
        "attach_req",
        "attach_ans",
        "join_req",
        "join_ans",
        "update_req",
        "update_ans",
        "store_req",
        "store_ans",
        "fetch_req",
        "fetch_ans",
        "ping_req",
        "ping_ans",
        "leave_req",
        "leave_ans",
    ] {
        assert!(methods.contains(want), "no {want} in {methods:?}");
    }
}

/// Garbage on a link never stops a peer. A stranger's frame that is not a handshake is
/// dropped without an ack (the Node's rule for unknown addresses); on a link that came up
/// with a signed handshake Ping, a frame whose message is not RELOAD is acked (the frame
/// was fine), counted as malformed and dropped; bytes that are no frame at all end the
/// connection. The peer goes on serving its control socket and its ring.
#[test]
fn malformed_frames_on_a_link_are_counted_and_dropped() {
    use std::io::{Read, Write};

    use reload_sim::io::stream::FrameSplitter;
    use reload_sim::proto::config::OverlayConfig;
    use reload_sim::proto::wire::framing::Frame;
    use reload_sim::proto::wire::{Body, Destination};

    let ring = Ring::start_with("garbage", 2, Links::ClearText, |_| Vec::new());
    ring.wait_correct(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    let port = ring.port(0);
    let stats = |field: &str| {
        let s = ctl(&ring.peers[0].control, &["stat"]).expect("stat");
        s["stats"][field].as_u64().unwrap()
    };
    let before = stats("malformed");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut frames = FrameSplitter::new(1 << 16);
    let mut next_frame = |s: &mut std::net::TcpStream| -> Vec<u8> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(f) = frames.next_frame().unwrap() {
                return f;
            }
            let n = s.read(&mut buf).expect("the peer answers");
            assert!(n > 0, "connection closed early");
            frames.push(&buf[..n]);
        }
    };
    let cfg = OverlayConfig::new("ring.test.example");
    let mut me = crate::scripted::Peer::new(0x5eed_u128 << 100, 1);
    // The handshake: a signed Ping straight to the wildcard, answered over the new link.
    let (hello, _) = me.frame(
        &cfg,
        0x77,
        vec![],
        vec![Destination::Node(reload_sim::proto::id::NodeId::WILDCARD)],
        Body::PingReq(Default::default()),
    );
    s.write_all(&hello).unwrap();
    let mut got = [next_frame(&mut s), next_frame(&mut s)];
    got.sort();
    assert!(got.iter().any(|f| matches!(
        Frame::decode(f),
        Ok(Frame::Ack {
            ack_sequence: 0,
            ..
        })
    )));
    assert!(
        got.iter()
            .any(|f| matches!(Frame::decode(f), Ok(Frame::Data { .. })))
    );
    // A data frame on the link whose message is junk: acked, counted, dropped.
    let junk = me.frame_raw(&[1, 2, 3, 4, 5]);
    s.write_all(&junk).unwrap();
    let ack = next_frame(&mut s);
    assert!(matches!(
        Frame::decode(&ack),
        Ok(Frame::Ack {
            ack_sequence: 1,
            ..
        })
    ));
    assert_eq!(stats("malformed"), before + 1);
    // Bytes that are no frame type: the peer ends the connection.
    s.write_all(&[0x42; 64]).unwrap();
    let mut rest = Vec::new();
    assert!(s.read_to_end(&mut rest).is_ok(), "closed, not timed out");
    ring.wait_correct(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("after garbage: {e}"));
}

/// One Node, two drivers: a real peer with a given Node-ID, user, address and seed sends
/// its bootstrap peer the very bytes a simulated node with the same inputs sends (the
/// join's first frame, a signed handshake Ping, §10.5).
#[test]
fn the_real_peer_sends_the_bytes_the_simulated_node_sends() {
    use std::io::Read;
    use std::sync::Arc;

    use reload_sim::io::peer::{PeerOptions, load_config};
    use reload_sim::io::stream::FrameSplitter;
    use reload_sim::proto::node::{Identity, Node};
    use reload_sim::time::Time;

    let dir = std::env::temp_dir().join(format!("reload-sim-same-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A stand-in bootstrap node: a listener that reads what the joiner sends.
    let bootstrap = TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = config(&dir, bootstrap.local_addr().unwrap().port());
    let listen: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let id = NodeId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
    let opts = PeerOptions {
        config: cfg.clone(),
        overlay: None,
        listen,
        control: None,
        cert: None,
        key: None,
        clear_text: true,
        node_id: Some(id),
        user: Some(user(1)),
        pcap: None,
        seed: Some(42),
    };
    let child = Killed(
        Command::new(env!("CARGO_BIN_EXE_reload-sim"))
            .args(["peer", "--clear-text", "--config"])
            .arg(&cfg)
            .args(["--listen", &listen.to_string()])
            .args([
                "--node-id",
                &id.to_string(),
                "--user",
                &user(1),
                "--seed",
                "42",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Bounded: the peer connects within 10 s or the test fails.
    bootstrap.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let (mut s, from) = loop {
        match bootstrap.accept() {
            Ok(c) => break c,
            Err(_) if start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("the peer never connected: {e}"),
        }
    };
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut frames = FrameSplitter::new(1 << 16);
    let mut buf = [0u8; 4096];
    let real = loop {
        if let Some(f) = frames.next_frame().unwrap() {
            break f;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        frames.push(&buf[..n]);
    };
    drop(child);
    // The connection comes from the peer's listening address (links.rs).
    assert_eq!(from, listen);

    let config = Arc::new(load_config(&opts).unwrap());
    let mut node = Node::new(config, Identity::new(id, &user(1)), listen, Time::ZERO, 42);
    node.join(Time::ZERO, &[bootstrap.local_addr().unwrap()])
        .unwrap();
    let simulated = node.poll_transmit().expect("the join's first frame");
    assert_eq!(simulated.to, bootstrap.local_addr().unwrap());
    assert_eq!(real, simulated.bytes);
    let _ = std::fs::remove_dir_all(&dir);
}
