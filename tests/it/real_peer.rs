//! The real peer: `reload-sim peer` processes on 127.0.0.1 form a RELOAD ring over TLS
//! links with certificates from `reload-sim ca` (or clear-text framing where a test reads
//! the bytes), answer `reload-sim ctl`, repair the ring after `kill -9`, leave on a
//! command or SIGTERM, and refuse peers their certificates do not vouch for. Every wait
//! is bounded; every process is killed at the end, whatever the outcome.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reload_sim::io::control::{self, Place, Request};
use reload_sim::proto::id::{NodeId, ResourceId};
use reload_sim::proto::wire::message::code_name;
use serde_json::Value;

/// What a test's peers link over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Links {
    /// TLS with certificates from `reload-sim ca`.
    Tls,
    /// `--clear-text`: framed RELOAD on plain TCP, for tests that read the bytes.
    ClearText,
}

/// The peers of one test; kills them all when dropped.
struct Ring {
    dir: PathBuf,
    peers: Vec<Proc>,
}

struct Proc {
    id: NodeId,
    control: PathBuf,
    child: Option<Child>,
}

impl Drop for Ring {
    fn drop(&mut self) {
        for p in &mut self.peers {
            if let Some(c) = &mut p.child {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// A child process killed when dropped, whatever the test's outcome.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn config(dir: &Path, bootstrap_port: u16) -> PathBuf {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<overlay xmlns="urn:ietf:params:xml:ns:p2p:config-base" xmlns:chord="urn:ietf:params:xml:ns:p2p:config-chord">
<configuration instance-name="ring.test.example" sequence="1">
<topology-plugin>CHORD-RELOAD</topology-plugin>
<node-id-length>16</node-id-length>
<bootstrap-node address="127.0.0.1" port="{bootstrap_port}"/>
<chord:chord-update-interval>2</chord:chord-update-interval>
<chord:chord-ping-interval>4</chord:chord-ping-interval>
<chord:chord-reactive>true</chord:chord-reactive>
<required-kinds>
<kind-block><kind id="4026531841"><data-model>DICTIONARY</data-model><access-control>USER-MATCH</access-control><max-count>100</max-count><max-size>1000</max-size></kind></kind-block>
</required-kinds>
</configuration>
</overlay>
"#
    );
    let path = dir.join("overlay.xml");
    std::fs::write(&path, xml).unwrap();
    path
}

/// Runs `reload-sim` with `args`; its stdout, or a panic with its stderr.
fn cli(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(args)
        .output()
        .expect("reload-sim runs");
    assert!(
        out.status.success(),
        "reload-sim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ca init` for ring.test.example in `dir/ca`, bootstrapping at `bootstrap_port`; its
/// configuration document with the chord intervals of [`config`].
fn ca_config(dir: &Path, bootstrap_port: u16, self_signed: bool) -> PathBuf {
    let ca = dir.join("ca");
    let bootstrap = format!("127.0.0.1:{bootstrap_port}");
    let mut args = vec![
        "ca",
        "init",
        "--overlay",
        "ring.test.example",
        "--bootstrap",
        &bootstrap,
        "--out",
        ca.to_str().unwrap(),
    ];
    if self_signed {
        args.push("--self-signed-permitted");
    }
    cli(&args);
    let xml = std::fs::read_to_string(ca.join("overlay.xml")).unwrap();
    let fast = xml
        .replace(
            "<chord:chord-update-interval>600<",
            "<chord:chord-update-interval>2<",
        )
        .replace(
            "<chord:chord-ping-interval>3600<",
            "<chord:chord-ping-interval>4<",
        );
    assert_ne!(fast, xml, "the intervals of ca init's document");
    let path = dir.join("overlay.xml");
    std::fs::write(&path, fast).unwrap();
    path
}

/// `ca issue` of a certificate for `user` with `id` from the CA in `dir/ca`, into
/// `dir/<name>`; the `--cert` and `--key` arguments of a peer.
fn issue(dir: &Path, ca: &Path, name: &str, user: &str, id: NodeId) -> Vec<String> {
    let out = dir.join(name);
    let text = cli(&[
        "ca",
        "issue",
        "--ca",
        ca.to_str().unwrap(),
        "--user",
        user,
        "--node-id",
        &id.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(text.contains(&id.to_string()), "{text}");
    vec![
        "--cert".into(),
        out.join("node.pem").display().to_string(),
        "--key".into(),
        out.join("node.key").display().to_string(),
    ]
}

fn user(i: usize) -> String {
    format!("user{i}@ring.test.example")
}

/// One control request, answered `"ok": true` or the refusal as an error.
fn request(control: &Path, req: &Request) -> Result<Value, String> {
    control::call(control, req).map_err(|e| e.to_string())
}

fn ctl(control: &Path, args: &[&str]) -> Option<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .arg("ctl")
        .arg("--control")
        .arg(control)
        .arg("--json")
        .args(args)
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

impl Ring {
    /// `n` peers on TLS links with Node-IDs spread over the ring; the first is the
    /// bootstrap node.
    fn start(name: &str, n: usize) -> Ring {
        Ring::start_with(name, n, Links::Tls, |_| Vec::new())
    }

    /// The same on `links`, with `extra(dir)` added to the first peer's arguments.
    fn start_with(
        name: &str,
        n: usize,
        links: Links,
        extra: impl Fn(&Path) -> Vec<String>,
    ) -> Ring {
        let dir = std::env::temp_dir().join(format!("reload-sim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let cfg = match links {
            Links::Tls => ca_config(&dir, ports[0], false),
            Links::ClearText => config(&dir, ports[0]),
        };
        let mut ring = Ring {
            dir: dir.clone(),
            peers: Vec::new(),
        };
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for (i, port) in ports.iter().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = NodeId(u128::from(x) << 64 | u128::from(x.rotate_left(17)));
            let control = dir.join(format!("p{i}.sock"));
            let log = std::fs::File::create(dir.join(format!("p{i}.log"))).unwrap();
            let mut more = if i == 0 { extra(&dir) } else { Vec::new() };
            match links {
                Links::Tls => {
                    more.extend(issue(&dir, &dir.join("ca"), &format!("n{i}"), &user(i), id))
                }
                Links::ClearText => more.push("--clear-text".into()),
            }
            let child = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
                .args(["peer", "--config"])
                .arg(&cfg)
                .args(&more)
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .arg("--control")
                .arg(&control)
                .args(["--node-id", &id.to_string()])
                .args(["--user", &user(i)])
                .env("RUST_LOG", "debug")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("peer starts");
            ring.peers.push(Proc {
                id,
                control,
                child: Some(child),
            });
            // The bootstrap node first; then arrivals 100 ms apart.
            std::thread::sleep(Duration::from_millis(if i == 0 { 300 } else { 100 }));
        }
        ring
    }

    fn port(&self, i: usize) -> u16 {
        let s = ctl(&self.peers[i].control, &["status"]).expect("status");
        let addr: std::net::SocketAddr = s["address"].as_str().unwrap().parse().unwrap();
        addr.port()
    }

    fn live(&self) -> impl Iterator<Item = &Proc> {
        self.peers.iter().filter(|p| p.child.is_some())
    }

    /// The true ring of the live peers: each one's successor by sorted Node-ID.
    fn true_successor(&self, id: NodeId) -> NodeId {
        let mut ids: Vec<NodeId> = self.live().map(|p| p.id).collect();
        ids.sort();
        let i = ids.iter().position(|x| *x == id).unwrap();
        ids[(i + 1) % ids.len()]
    }

    /// Waits (up to `limit`) until every live peer is joined and its first successor and
    /// predecessor are the true ones; the statuses, or why not with the logs.
    fn wait_correct(&self, limit: Duration) -> Result<Vec<Value>, String> {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < limit {
            let statuses: Vec<Option<Value>> =
                self.live().map(|p| ctl(&p.control, &["status"])).collect();
            let wrong: Vec<String> = self
                .live()
                .zip(&statuses)
                .filter_map(|(p, s)| {
                    let s = s.as_ref()?;
                    let succ = s["successors"][0].as_str().unwrap_or("");
                    let want = self.true_successor(p.id).to_string();
                    (s["state"] != "Joined" || succ != want)
                        .then(|| format!("{}: {} successor {succ} want {want}", p.id, s["state"]))
                })
                .collect();
            if statuses.iter().all(Option::is_some) && wrong.is_empty() {
                return Ok(statuses.into_iter().flatten().collect());
            }
            last = format!(
                "{} unreachable, wrong: {wrong:?}",
                statuses.iter().filter(|s| s.is_none()).count()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(format!(
            "ring not correct after {limit:?}: {last}\n{}",
            self.logs()
        ))
    }

    /// Fetches the dictionary of every peer's user, each through another live peer, and
    /// checks all 10 values; retries (bounded) while the overlay repairs.
    fn check_values(&self, limit: Duration) -> Result<(), String> {
        let start = Instant::now();
        let live: Vec<&Proc> = self.live().collect();
        let mut last = String::new();
        while start.elapsed() < limit {
            let mut bad = Vec::new();
            for i in 0..self.peers.len() {
                let via = live[(i + 1) % live.len()];
                let req = Request::Fetch {
                    at: Place {
                        resource: Some(user(i)),
                        ..Place::default()
                    },
                };
                match request(&via.control, &req) {
                    Ok(a) => {
                        let mut got: Vec<String> = a["values"]
                            .as_array()
                            .map(|v| {
                                v.iter()
                                    .map(|x| {
                                        format!(
                                            "{}={}",
                                            x["key"].as_str().unwrap_or(""),
                                            x["value"].as_str().unwrap_or("")
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        got.sort();
                        let mut want: Vec<String> =
                            (0..10).map(|j| format!("k{j}=u{i}-v{j}")).collect();
                        want.sort();
                        if got != want {
                            bad.push(format!("{}: {got:?}", user(i)));
                        }
                    }
                    Err(e) => bad.push(format!("{}: {e}", user(i))),
                }
            }
            if bad.is_empty() {
                return Ok(());
            }
            last = format!("{bad:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(format!(
            "values not all fetched after {limit:?}: {last}\n{}",
            self.logs()
        ))
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for i in 0..self.peers.len() {
            let log =
                std::fs::read_to_string(self.dir.join(format!("p{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            s += &format!(
                "--- p{i}\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        s
    }

    /// Waits (bounded) for peer `i` to exit; its exit status.
    fn wait_exit(&mut self, i: usize, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        let child = self.peers[i].child.as_mut()?;
        while start.elapsed() < limit {
            if let Ok(Some(status)) = child.try_wait() {
                self.peers[i].child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

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
