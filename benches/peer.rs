//! Figures of the real peer on loopback (not a criterion bench: one run, printed).
//!
//! `cargo bench --bench peer` makes a CA with `reload-sim ca`, starts `PEER_BENCH_N`
//! (default 8) `reload-sim peer` processes on 127.0.0.1 over TLS links (RSA-2048
//! certificates, RSA-2048 message signatures; `PEER_BENCH_CLEAR=1` for clear-text links
//! and stand-in signatures) and prints:
//! 1. how long each peer took from its start to being joined (process start, its links'
//!    TLS handshakes, the join of §10.5), as measured through its control socket;
//! 2. the TLS handshake with one peer as its connecting side sees it (TCP connect and the
//!    mutual TLS handshake with a certificate of the overlay's CA), 200 times;
//! 3. routed Pings from one peer, one at a time over one control connection, to names
//!    spread over the ring, and their round trip;
//! 4. a forwarding load: 8 control connections spread over the peers ping names for 15 s;
//!    per peer the messages it forwarded and delivered per second and the CPU it used;
//! 5. each peer's resident memory and the CPU it used while idle for 10 s.
//!
//! `PEER_BENCH_SOAK_S=600` then soaks the ring: every 30 s one peer (in turn, never the
//! bootstrap peer) is killed with SIGKILL and restarted, 200 routed Pings cross the ring,
//! and every peer's resident memory is printed with the number of peers joined.
//!
//! Every wait is bounded; the peers are killed at the end.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reload_sim::io::pki::tls::{Credentials, TlsContext, Trust};
use reload_sim::proto::config::OverlayConfig;

const OVERLAY: &str = "bench.example.org";

/// The peers of the bench, with what it takes to restart each; killed when dropped.
struct Peers {
    cfg: PathBuf,
    dir: PathBuf,
    ports: Vec<u16>,
    clear: bool,
    children: Vec<Option<Child>>,
}

impl Drop for Peers {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Peers {
    fn control(&self, i: usize) -> PathBuf {
        self.dir.join(format!("p{i}.sock"))
    }

    fn start(&mut self, i: usize) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_reload-sim"));
        cmd.args(["peer", "--config"]).arg(&self.cfg);
        if self.clear {
            cmd.arg("--clear-text");
        } else {
            let d = self.dir.join(format!("n{i}"));
            cmd.arg("--cert")
                .arg(d.join("node.pem"))
                .arg("--key")
                .arg(d.join("node.key"));
        }
        let child = cmd
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[i])])
            .arg("--control")
            .arg(self.control(i))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("peer starts");
        self.children[i] = Some(child);
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn pid(&self, i: usize) -> Option<u32> {
        self.children[i].as_ref().map(Child::id)
    }

    /// Waits (up to `limit`) for peer `i` to be joined; how long it took.
    fn wait_joined(&self, i: usize, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(mut c) = connect(&self.control(i)) {
                if ask(&mut c, r#"{"cmd":"status"}"#)["state"] == "Joined" {
                    return Some(started.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    fn stat(&self, i: usize, field: &str) -> u64 {
        connect(&self.control(i))
            .map(|mut c| ask(&mut c, r#"{"cmd":"stat"}"#)["stats"][field].as_u64())
            .and_then(|v| v)
            .unwrap_or(0)
    }

    fn joined_count(&self) -> usize {
        (0..self.ports.len())
            .filter(|&i| {
                connect(&self.control(i))
                    .is_some_and(|mut c| ask(&mut c, r#"{"cmd":"status"}"#)["state"] == "Joined")
            })
            .count()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn ask(conn: &mut BufReader<UnixStream>, line: &str) -> serde_json::Value {
    if conn.get_mut().write_all(line.as_bytes()).is_err()
        || conn.get_mut().write_all(b"\n").is_err()
    {
        return serde_json::Value::Null;
    }
    let mut answer = String::new();
    let _ = conn.read_line(&mut answer);
    serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null)
}

fn connect(path: &Path) -> Option<BufReader<UnixStream>> {
    let s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    Some(BufReader::new(s))
}

fn proc_field(pid: u32, file: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_kib(pid: Option<u32>) -> u64 {
    pid.map_or(0, |p| proc_field(p, "status", "VmRSS:"))
}

/// utime + stime of `pid`, in clock ticks (1/100 s).
fn cpu_ticks(pid: Option<u32>) -> u64 {
    let Some(pid) = pid else { return 0 };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn cli(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(args)
        .output()
        .expect("reload-sim runs");
    assert!(
        out.status.success(),
        "reload-sim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The overlay's configuration (with the bench's Chord intervals) and, on TLS links, a
/// CA and one certificate per peer.
fn setup(dir: &Path, ports: &[u16], clear: bool) -> PathBuf {
    let cfg = dir.join("overlay.xml");
    if clear {
        std::fs::write(
            &cfg,
            format!(
                r#"<overlay xmlns="urn:ietf:params:xml:ns:p2p:config-base" xmlns:chord="urn:ietf:params:xml:ns:p2p:config-chord">
<configuration instance-name="{OVERLAY}" sequence="1">
<bootstrap-node address="127.0.0.1" port="{}"/>
<chord:chord-update-interval>30</chord:chord-update-interval>
<chord:chord-ping-interval>60</chord:chord-ping-interval>
</configuration></overlay>"#,
                ports[0]
            ),
        )
        .unwrap();
        return cfg;
    }
    let ca = dir.join("ca");
    let ca_s = ca.display().to_string();
    let boot = format!("127.0.0.1:{}", ports[0]);
    cli(&[
        "ca",
        "init",
        "--overlay",
        OVERLAY,
        "--bootstrap",
        &boot,
        "--out",
        &ca_s,
    ]);
    let xml = std::fs::read_to_string(ca.join("overlay.xml")).unwrap();
    let xml = xml
        .replace(
            "<chord:chord-update-interval>600<",
            "<chord:chord-update-interval>30<",
        )
        .replace(
            "<chord:chord-ping-interval>3600<",
            "<chord:chord-ping-interval>60<",
        );
    std::fs::write(&cfg, xml).unwrap();
    for i in 0..ports.len() {
        let out = dir.join(format!("n{i}")).display().to_string();
        cli(&[
            "ca",
            "issue",
            "--ca",
            &ca_s,
            "--user",
            &format!("peer{i}"),
            "--out",
            &out,
        ]);
    }
    cfg
}

/// TCP connect and the mutual TLS handshake with `port`, `count` times; sorted, in ms.
fn handshakes(dir: &Path, cfg: &Path, port: u16, count: usize) -> Vec<f64> {
    let config = OverlayConfig::from_document(&std::fs::read(cfg).unwrap(), None).unwrap();
    let trust = Trust::new(&config.root_certs, false).unwrap();
    // The bench's own certificate from the overlay's CA (a peer that never joins).
    let out = dir.join("bench-client").display().to_string();
    let ca = dir.join("ca").display().to_string();
    cli(&["ca", "issue", "--ca", &ca, "--user", "bench", "--out", &out]);
    let creds = Credentials::load(
        &dir.join("bench-client/node.pem"),
        &dir.join("bench-client/node.key"),
    )
    .unwrap();
    let ctx = TlsContext::new(&creds, trust).unwrap();
    let mut ms = Vec::with_capacity(count.min(10_000));
    for _ in 0..count {
        let start = Instant::now();
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let name = rustls::pki_types::ServerName::IpAddress(
            std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST).into(),
        );
        let mut tls = rustls::ClientConnection::new(Arc::clone(&ctx.client), name).unwrap();
        while tls.is_handshaking() {
            tls.complete_io(&mut tcp).expect("the handshake completes");
        }
        ms.push(start.elapsed().as_secs_f64() * 1e3);
        tls.send_close_notify();
        let _ = tls.complete_io(&mut tcp);
    }
    ms.sort_by(f64::total_cmp);
    ms
}

/// Routed Pings to `count` names from peer `from`, one at a time, for at most `limit`;
/// the round trips the peer measured, in ms.
fn pings(peers: &Peers, from: usize, tag: &str, count: usize, limit: Duration) -> Vec<f64> {
    let control = peers.control(from);
    let Some(mut c) = connect(&control) else {
        return Vec::new();
    };
    let start = Instant::now();
    let mut rtts = Vec::with_capacity(count.min(10_000));
    for k in 0..count {
        // A control connection answers at most 1,000 requests (control.rs).
        if k > 0 && k % 1_000 == 0 {
            match connect(&control) {
                Some(n) => c = n,
                None => break,
            }
        }
        let a = ask(&mut c, &format!(r#"{{"cmd":"ping","target":"{tag}-{k}"}}"#));
        if let Some(ms) = a["rtt_ms"].as_f64() {
            rtts.push(ms);
        }
        if start.elapsed() > limit {
            break;
        }
    }
    rtts
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

fn forwarding_load(peers: &Peers, n: usize) {
    let secs = 15;
    let before: Vec<(u64, u64, u64)> = (0..n)
        .map(|i| {
            (
                peers.stat(i, "forwarded"),
                peers.stat(i, "delivered"),
                cpu_ticks(peers.pid(i)),
            )
        })
        .collect();
    let start = Instant::now();
    let answered: usize = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || {
                    pings(
                        peers,
                        t % n,
                        &format!("load{t}"),
                        usize::MAX,
                        Duration::from_secs(secs),
                    )
                    .len()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
    });
    let wall = start.elapsed().as_secs_f64();
    println!(
        "forwarding load: 8 control connections pinging names for {wall:.1} s: {answered} answered = {:.0}/s",
        answered as f64 / wall
    );
    let mut busiest = (0, 0.0, 0.0, 0.0);
    for (i, (f0, d0, c0)) in before.iter().enumerate() {
        let fwd = (peers.stat(i, "forwarded") - f0) as f64 / wall;
        let del = (peers.stat(i, "delivered") - d0) as f64 / wall;
        let cpu = (cpu_ticks(peers.pid(i)) - c0) as f64 / 100.0 / wall;
        println!(
            "  peer {i}: forwarded {fwd:.0}/s, delivered {del:.0}/s, CPU {:.0}% of a core",
            cpu * 100.0
        );
        if fwd > busiest.1 {
            busiest = (i, fwd, del, cpu);
        }
    }
    let (i, fwd, del, cpu) = busiest;
    println!(
        "  busiest forwarder: peer {i}, {fwd:.0} forwarded/s; {:.0} µs of CPU per message it forwarded or delivered",
        cpu * 1e6 / (fwd + del).max(1.0)
    );
}

fn soak(peers: &mut Peers, n: usize, secs: u64) {
    let rounds = secs / 30;
    println!(
        "soak: {rounds} rounds of 30 s; each kills one peer with SIGKILL and restarts it; RSS in KiB"
    );
    let start = Instant::now();
    let mut first_rss: Option<u64> = None;
    let mut last_rss = 0;
    for round in 0..rounds {
        let victim = 1 + (round as usize) % (n - 1);
        peers.kill(victim);
        peers.start(victim);
        let rejoined = peers.wait_joined(victim, Duration::from_secs(20));
        let answered = pings(
            peers,
            0,
            &format!("soak{round}"),
            200,
            Duration::from_secs(10),
        )
        .len();
        let deadline = start + Duration::from_secs(30 * (round + 1));
        if let Some(rest) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(rest);
        }
        let rss: Vec<u64> = (0..n).map(|i| rss_kib(peers.pid(i))).collect();
        println!(
            "  {:>4} s: restarted peer {victim} (joined in {}), {answered}/200 pings answered, {} of {n} joined, RSS {rss:?}",
            start.elapsed().as_secs(),
            rejoined.map_or("-".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3)),
            peers.joined_count(),
        );
        // The bootstrap peer runs throughout: its memory over the soak, after a minute.
        if round == 1 {
            first_rss = Some(rss[0]);
        }
        last_rss = rss[0];
    }
    if let Some(first) = first_rss {
        println!(
            "  bootstrap peer RSS: {first} KiB at 60 s, {last_rss} KiB at the end ({:+} KiB)",
            last_rss as i64 - first as i64
        );
    }
}

fn main() {
    let n: usize = std::env::var("PEER_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .max(2);
    let clear = std::env::var("PEER_BENCH_CLEAR").is_ok_and(|v| v == "1");
    let soak_s: u64 = std::env::var("PEER_BENCH_SOAK_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("reload-sim-peer-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let cfg = setup(&dir, &ports, clear);
    println!(
        "{n} peers on {} links",
        if clear { "clear-text" } else { "TLS" }
    );
    let mut peers = Peers {
        cfg: cfg.clone(),
        dir: dir.clone(),
        ports: ports.clone(),
        clear,
        children: (0..n).map(|_| None).collect(),
    };
    let mut join_ms = Vec::new();
    for i in 0..n {
        peers.start(i);
        let t = peers
            .wait_joined(i, Duration::from_secs(10))
            .expect("the peer joins within 10 s");
        join_ms.push(t.as_secs_f64() * 1e3);
    }
    join_ms.sort_by(f64::total_cmp);
    println!(
        "start to joined: {:.1} ms median, {:.1} ms max (process start included)",
        join_ms[n / 2],
        join_ms[n - 1]
    );
    if !clear {
        let hs = handshakes(&dir, &cfg, ports[0], 200);
        println!(
            "TLS handshake (TCP connect + mutual TLS with RSA-2048 certificates), {} times: p50 {:.2} ms, p99 {:.2} ms",
            hs.len(),
            pct(&hs, 50),
            pct(&hs, 99)
        );
    }
    // Let the tables settle, then ping names from peer 1, one at a time.
    std::thread::sleep(Duration::from_secs(2));
    let start = Instant::now();
    let mut rtts = pings(&peers, 1, "name", 5_000, Duration::from_secs(60));
    let wall = start.elapsed().as_secs_f64();
    rtts.sort_by(f64::total_cmp);
    println!(
        "routed pings, one at a time: {} answered in {wall:.2} s = {:.0}/s; round trip in the peer p50 {:.3} ms, p99 {:.3} ms",
        rtts.len(),
        rtts.len() as f64 / wall,
        pct(&rtts, 50),
        pct(&rtts, 99),
    );
    forwarding_load(&peers, n);
    let before: Vec<u64> = (0..n).map(|i| cpu_ticks(peers.pid(i))).collect();
    std::thread::sleep(Duration::from_secs(10));
    for (i, b) in before.iter().enumerate() {
        println!(
            "peer {i}: RSS {} KiB, idle CPU {} ms in 10 s",
            rss_kib(peers.pid(i)),
            (cpu_ticks(peers.pid(i)) - b) * 10
        );
    }
    if soak_s >= 60 {
        soak(&mut peers, n, soak_s);
    }
    drop(peers);
    let _ = std::fs::remove_dir_all(&dir);
}
