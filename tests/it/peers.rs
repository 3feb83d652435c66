//! A harness of `reload-sim peer` processes on 127.0.0.1: configurations and
//! certificates made by `reload-sim ca`, peers started with bounded waits and killed when
//! the harness is dropped, and checks of their ring against the true one.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reload_sim::io::control::{self, Place, Request};
use reload_sim::proto::id::NodeId;
use serde_json::Value;

/// What a test's peers link over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    /// TLS with certificates from `reload-sim ca`.
    Tls,
    /// `--clear-text`: framed RELOAD on plain TCP, for tests that read the bytes.
    ClearText,
}

/// The peers of one test; kills them all when dropped.
pub(crate) struct Ring {
    pub(crate) dir: PathBuf,
    pub(crate) peers: Vec<Proc>,
}

pub(crate) struct Proc {
    pub(crate) id: NodeId,
    pub(crate) control: PathBuf,
    pub(crate) child: Option<Child>,
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
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port for a peer to listen on, below Linux's ephemeral range (32768–60999): a peer's
/// links go out from its listening port, and a port the kernel picks for some other
/// socket's connection could otherwise hold the very 4-tuple a peer's connect needs
/// (`EADDRNOTAVAIL`). Each call tries the next port of this process's window.
pub(crate) fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(97) % SPAN;
    for _ in 0..SPAN {
        let port = (LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) fn config(dir: &Path, bootstrap_port: u16) -> PathBuf {
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
pub(crate) fn cli(args: &[&str]) -> String {
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
pub(crate) fn ca_config(dir: &Path, bootstrap_port: u16, self_signed: bool) -> PathBuf {
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
pub(crate) fn issue(dir: &Path, ca: &Path, name: &str, user: &str, id: NodeId) -> Vec<String> {
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

pub(crate) fn user(i: usize) -> String {
    format!("user{i}@ring.test.example")
}

/// One control request, answered `"ok": true` or the refusal as an error.
pub(crate) fn request(control: &Path, req: &Request) -> Result<Value, String> {
    control::call(control, req).map_err(|e| e.to_string())
}

pub(crate) fn ctl(control: &Path, args: &[&str]) -> Option<Value> {
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
    pub(crate) fn start(name: &str, n: usize) -> Ring {
        Ring::start_with(name, n, Links::Tls, |_| Vec::new())
    }

    /// The same on `links`, with `extra(dir)` added to the first peer's arguments.
    pub(crate) fn start_with(
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
            let mut more = if i == 0 { extra(&dir) } else { Vec::new() };
            match links {
                Links::Tls => {
                    more.extend(issue(&dir, &dir.join("ca"), &format!("n{i}"), &user(i), id))
                }
                Links::ClearText => more.push("--clear-text".into()),
            }
            ring.spawn(&cfg, *port, more, Some(id), Some(&user(i)));
            // The bootstrap node first; then arrivals 100 ms apart.
            std::thread::sleep(Duration::from_millis(if i == 0 { 300 } else { 100 }));
        }
        ring
    }

    /// Starts peer number `self.peers.len()` on `cfg` at 127.0.0.1:`port` with the
    /// arguments `more` (its certificate, or `--clear-text`), logging to `p<i>.log`;
    /// `id` is the peer's Node-ID where the test knows it (else the certificate's).
    pub(crate) fn spawn(
        &mut self,
        cfg: &Path,
        port: u16,
        more: Vec<String>,
        id: Option<NodeId>,
        user: Option<&str>,
    ) -> usize {
        let i = self.peers.len();
        let control = self.dir.join(format!("p{i}.sock"));
        let log = std::fs::File::create(self.dir.join(format!("p{i}.log"))).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reload-sim"));
        cmd.args(["peer", "--config"])
            .arg(cfg)
            .args(&more)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--control")
            .arg(&control);
        if let Some(id) = id {
            cmd.args(["--node-id", &id.to_string()]);
        }
        if let Some(user) = user {
            cmd.args(["--user", user]);
        }
        let child = cmd
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("peer starts");
        self.peers.push(Proc {
            id: id.unwrap_or(NodeId(0)),
            control,
            child: Some(child),
        });
        i
    }

    /// The peer's log so far.
    pub(crate) fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("p{i}.log"))).unwrap_or_default()
    }

    pub(crate) fn port(&self, i: usize) -> u16 {
        let s = ctl(&self.peers[i].control, &["status"]).expect("status");
        let addr: std::net::SocketAddr = s["address"].as_str().unwrap().parse().unwrap();
        addr.port()
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = &Proc> {
        self.peers.iter().filter(|p| p.child.is_some())
    }

    /// The true ring of the live peers: each one's successor by sorted Node-ID.
    pub(crate) fn true_successor(&self, id: NodeId) -> NodeId {
        let mut ids: Vec<NodeId> = self.live().map(|p| p.id).collect();
        ids.sort();
        let i = ids.iter().position(|x| *x == id).unwrap();
        ids[(i + 1) % ids.len()]
    }

    /// Waits (up to `limit`) until every live peer is joined and its first successor and
    /// predecessor are the true ones; the statuses, or why not with the logs.
    pub(crate) fn wait_correct(&self, limit: Duration) -> Result<Vec<Value>, String> {
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
    pub(crate) fn check_values(&self, limit: Duration) -> Result<(), String> {
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

    pub(crate) fn logs(&self) -> String {
        let mut s = String::new();
        for i in 0..self.peers.len() {
            let log = self.log(i);
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            s += &format!(
                "--- p{i}\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        s
    }

    /// Waits (bounded) for peer `i` to exit; its exit status.
    pub(crate) fn wait_exit(
        &mut self,
        i: usize,
        limit: Duration,
    ) -> Option<std::process::ExitStatus> {
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
