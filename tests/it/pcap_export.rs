//! `reload-sim run --pcap`: the capture of a run dissects cleanly in Wireshark with the
//! run's own message counts, is byte-deterministic, honours `--pcap-nodes`, and reads back
//! with `reload-sim decode --pcap`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reload_sim::pcap::{Packet, read_packets};
use reload_sim::runner::{self, RunRequest};
use reload_sim::sim::NodeIndex;
use reload_sim::sim::capture::{NodeSet, PcapOptions};
use reload_sim::sim::frame::known_codes;
use serde_json::Value;

use crate::tshark::tshark_present;

/// Wireshark's severity value of error-level expert info.
const EXPERT_ERROR: &str = "8388608";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reload-sim-pcap-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml")
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Runs quickstart for `duration_s` simulated seconds through the library.
fn run_with_pcap(dir: &Path, name: &str, duration_s: u32, nodes: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    let req = RunRequest {
        scenario: quickstart(),
        out: Some(dir.join(format!("{name}.out"))),
        sets: vec![format!("scenario.duration_s={duration_s}")],
        pcap: Some(PcapOptions {
            path: path.clone(),
            nodes: nodes.map(|s| NodeSet::parse(s).unwrap()),
        }),
        ..RunRequest::default()
    };
    let done = runner::run(&req).unwrap();
    let report = done.output.capture.expect("capture report");
    assert_eq!(report.error, None);
    assert_eq!(report.skipped, 0);
    assert_eq!(report.bytes, std::fs::metadata(&path).unwrap().len());
    path
}

/// The whole quickstart run (120 s simulated, about 209,000 frames and 58 MB; tshark reads
/// it in about 3 s), through the command line, then dissected by tshark.
#[test]
fn wireshark_sees_every_message_of_a_run() {
    if !tshark_present() {
        return;
    }
    let dir = temp_dir("tshark");
    let pcap = dir.join("quickstart.pcap");
    let out = dir.join("out");
    let o = cli(&[
        "run",
        quickstart().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("capture "), "{stdout}");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let traffic = &summary["traffic"];

    let t = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args([
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "reload_framing.type",
            "-e",
            "reload.message.code",
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
            "-e",
            "_ws.expert.message",
        ])
        .output()
        .expect("tshark runs");
    assert!(
        t.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&t.stderr)
    );
    std::fs::remove_file(&pcap).unwrap();
    let text = String::from_utf8(t.stdout).unwrap();
    let (mut data, mut acks, mut packets) = (0u64, 0u64, 0u64);
    let mut codes: BTreeMap<u16, u64> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        packets += 1;
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "packet {}: {line:?}", n + 1);
        assert!(f[2].is_empty(), "packet {}: malformed: {line:?}", n + 1);
        assert!(
            !f[3].split(',').any(|s| s == EXPERT_ERROR),
            "packet {}: error-level expert info: {}",
            n + 1,
            f[4]
        );
        match f[0] {
            "128" => {
                data += 1;
                let code = f[1].parse().unwrap_or_else(|_| {
                    panic!("packet {}: no RELOAD message code: {line:?}", n + 1)
                });
                *codes.entry(code).or_default() += 1;
            }
            "129" => acks += 1,
            other => panic!("packet {}: not RELOAD framing ({other:?})", n + 1),
        }
    }
    assert_eq!(data, traffic["messages"].as_u64().unwrap());
    assert_eq!(acks, traffic["acks"].as_u64().unwrap());
    assert_eq!(packets, data + acks);
    assert!(data > 50_000, "{data} data frames");

    // Every message type: tshark's count equals the run's counter.
    let by_method = &traffic["by_method"];
    let names = reload_sim::sim::metrics::Metrics::new()
        .method_names()
        .to_vec();
    for (code, name) in known_codes().into_iter().zip(names) {
        let run = by_method[name]["messages"].as_u64().unwrap();
        assert_eq!(
            codes.remove(&code).unwrap_or(0),
            run,
            "{name} ({code:#06x})"
        );
    }
    assert!(codes.is_empty(), "codes the run did not count: {codes:?}");
    for name in ["attach_req", "update_req", "join_req", "ping_ans"] {
        assert!(by_method[name]["messages"].as_u64().unwrap() > 0, "{name}");
    }
}

fn slot(a: std::net::SocketAddr) -> NodeIndex {
    NodeIndex::from_addr(a).expect("a simulated address")
}

/// Same scenario and seed, same bytes; a subset capture is exactly the full capture's
/// frames to or from the chosen slots; it decodes with `reload-sim decode --pcap`.
#[test]
fn captures_are_deterministic_and_subsets_are_exact() {
    let dir = temp_dir("subset");
    let a = run_with_pcap(&dir, "a.pcap", 30, None);
    let b = run_with_pcap(&dir, "b.pcap", 30, None);
    let spec = "0-9,42";
    let sub = run_with_pcap(&dir, "sub.pcap", 30, Some(spec));
    let full = std::fs::read(&a).unwrap();
    assert!(
        full == std::fs::read(&b).unwrap(),
        "same seed, different pcap"
    );

    let set = NodeSet::parse(spec).unwrap();
    let strip = |p: Packet| (p.timestamp_ns, p.src, p.dst, p.payload);
    let all = read_packets(&full, 6084).unwrap();
    assert!(
        all.windows(2)
            .all(|w| w[0].timestamp_ns <= w[1].timestamp_ns)
    );
    assert!(all[0].timestamp_ns < 1_000_000_000, "simulated time from 0");
    let want: Vec<_> = all
        .into_iter()
        .filter(|p| set.contains(slot(p.src)) || set.contains(slot(p.dst)))
        .map(strip)
        .collect();
    let got: Vec<_> = read_packets(&std::fs::read(&sub).unwrap(), 6084)
        .unwrap()
        .into_iter()
        .map(strip)
        .collect();
    assert!(got.len() > 1000, "{} frames in the subset", got.len());
    assert!(got == want, "the subset is not the filtered full capture");
    assert!(got.iter().any(|(_, s, _, _)| slot(*s) == NodeIndex(42)));

    let o = cli(&["decode", "--json", "--pcap", sub.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let decoded = String::from_utf8(o.stdout).unwrap();
    assert_eq!(decoded.lines().count(), got.len());
    assert!(!decoded.contains("\"error\":"));
    for f in [a, b, sub] {
        std::fs::remove_file(f).unwrap();
    }
}

#[test]
fn bad_slot_lists_fail_before_the_run() {
    let dir = temp_dir("bad");
    let pcap = dir.join("x.pcap");
    let out = dir.join("out");
    let args = |spec: &'static str| {
        vec![
            "run".to_owned(),
            quickstart().display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--pcap".into(),
            pcap.display().to_string(),
            "--pcap-nodes".into(),
            spec.into(),
        ]
    };
    for (spec, why) in [
        ("9-0", "range 9-0 runs backwards"),
        ("0,,3", "\"\" is not a slot index"),
        ("x", "\"x\" is not a slot index"),
        (
            "300",
            "slot 300 does not exist (the run has 300 slots, 0-299)",
        ),
    ] {
        let a = args(spec);
        let o = cli(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(2), "{spec}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(why), "{spec}: {stderr}");
        assert!(!out.exists() && !pcap.exists(), "{spec}: the run started");
    }
    let o = cli(&["run", "x.toml", "--pcap-nodes", "1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_failing_capture_still_writes_the_results() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let out = temp_dir("full").join("out");
    let o = cli(&[
        "run",
        quickstart().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "scenario.duration_s=5",
        "--pcap",
        "/dev/full",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("capture /dev/full: write failed"),
        "{stderr}"
    );
    assert!(out.join("summary.json").exists());
}
