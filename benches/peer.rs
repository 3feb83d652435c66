//! Figures of the real peer on loopback (not a criterion bench: one run, printed).
//!
//! `cargo bench --bench peer` starts `PEER_BENCH_N` (default 8) `reload-sim peer` processes
//! on 127.0.0.1 (clear text) and prints:
//! 1. how long each peer took from its start to being joined (its links' set-up, the
//!    join of §10.5), as measured through its control socket;
//! 2. routed Pings per second from one peer, one at a time over one control connection,
//!    to names spread over the ring (most go through other peers), and their round trip;
//! 3. each peer's resident memory and the CPU it used while idle for 10 s.
//!
//! Every wait is bounded; the peers are killed at the end.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Peers(Vec<Child>);

impl Drop for Peers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn ask(conn: &mut BufReader<UnixStream>, line: &str) -> serde_json::Value {
    conn.get_mut().write_all(line.as_bytes()).expect("write");
    conn.get_mut().write_all(b"\n").expect("write");
    let mut answer = String::new();
    conn.read_line(&mut answer).expect("read");
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

/// utime + stime of `pid`, in clock ticks (1/100 s).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn main() {
    let n: usize = std::env::var("PEER_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let dir = std::env::temp_dir().join(format!("reload-sim-peer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let cfg = dir.join("overlay.xml");
    std::fs::write(
        &cfg,
        format!(
            r#"<overlay xmlns="urn:ietf:params:xml:ns:p2p:config-base" xmlns:chord="urn:ietf:params:xml:ns:p2p:config-chord">
<configuration instance-name="bench.example.org" sequence="1">
<bootstrap-node address="127.0.0.1" port="{}"/>
<chord:chord-update-interval>30</chord:chord-update-interval>
<chord:chord-ping-interval>60</chord:chord-ping-interval>
</configuration></overlay>"#,
            ports[0]
        ),
    )
    .unwrap();
    let controls: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("p{i}.sock"))).collect();
    let mut peers = Peers(Vec::new());
    let mut join_ms = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_reload-sim"))
            .args(["peer", "--clear-text", "--config"])
            .arg(&cfg)
            .args(["--listen", &format!("127.0.0.1:{}", ports[i])])
            .arg("--control")
            .arg(&controls[i])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("peer starts");
        peers.0.push(child);
        // Joined within 10 s, polled every millisecond.
        let mut joined = None;
        while started.elapsed() < Duration::from_secs(10) {
            if let Some(mut c) = connect(&controls[i]) {
                if ask(&mut c, r#"{"cmd":"status"}"#)["state"] == "Joined" {
                    joined = Some(started.elapsed());
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let t = joined.expect("the peer joins within 10 s");
        join_ms.push(t.as_secs_f64() * 1e3);
    }
    join_ms.sort_by(f64::total_cmp);
    println!(
        "{n} peers: start to joined {:.1} ms median, {:.1} ms max (process start included)",
        join_ms[n / 2],
        join_ms[n - 1]
    );
    // Let the tables settle, then ping names from peer 1, one at a time.
    std::thread::sleep(Duration::from_secs(2));
    let control = &controls[1.min(n - 1)];
    let mut c = connect(control).expect("control socket");
    let pings = 5_000;
    let start = Instant::now();
    let mut rtts = Vec::with_capacity(pings);
    for k in 0..pings {
        // A control connection answers at most 1,000 requests (control.rs).
        if k > 0 && k % 1_000 == 0 {
            c = connect(control).expect("control socket");
        }
        let a = ask(&mut c, &format!(r#"{{"cmd":"ping","target":"name-{k}"}}"#));
        if let Some(ms) = a["rtt_ms"].as_f64() {
            rtts.push(ms);
        }
        if start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    rtts.sort_by(f64::total_cmp);
    println!(
        "routed pings, one at a time: {} answered in {wall:.2} s = {:.0}/s; round trip in the peer p50 {:.3} ms, p99 {:.3} ms",
        rtts.len(),
        rtts.len() as f64 / wall,
        rtts.get(rtts.len() / 2).copied().unwrap_or(f64::NAN),
        rtts.get(rtts.len() * 99 / 100).copied().unwrap_or(f64::NAN),
    );
    let pids: Vec<u32> = peers.0.iter().map(Child::id).collect();
    let before: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p)).collect();
    std::thread::sleep(Duration::from_secs(10));
    for (i, pid) in pids.iter().enumerate() {
        println!(
            "peer {i}: RSS {} KiB, idle CPU {} ms in 10 s",
            proc_field(*pid, "status", "VmRSS:"),
            (cpu_ticks(*pid) - before[i]) * 10
        );
    }
    drop(peers);
    let _ = std::fs::remove_dir_all(&dir);
}
