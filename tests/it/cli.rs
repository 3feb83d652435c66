//! `reload-sim decode` as a user runs it: hex, raw files, pcap captures, JSON, and errors.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Output};

use reload_sim::pcap::PcapWriter;
use reload_sim::proto::wire::codec::hex;
use reload_sim::proto::wire::examples::{all_messages, routed_fetch};
use reload_sim::proto::wire::framing::Frame;
use reload_sim::time::Time;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reload-sim"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("reload-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn decodes_hex_as_text_and_json() {
    let bytes = routed_fetch(5).to_bytes().unwrap();
    let o = run(&["decode", "--hex", &hex(&bytes)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = stdout(&o);
    assert!(
        text.contains("fetch_req (0x0009) txid=1111222233334444"),
        "{text}"
    );
    assert!(text.contains("via_list: (5 entries)"), "{text}");

    let o = run(&["decode", "--json", "--hex", &hex(&bytes)]);
    assert!(o.status.success());
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["message"]["method"], "fetch_req");
    assert_eq!(
        v["message"]["header"]["via_list"].as_array().unwrap().len(),
        5
    );
    assert_eq!(
        v["message"]["body"]["resource"],
        "0c51a942f50c828aef82a5af83e8ed59"
    );
    assert_eq!(v["length"], bytes.len());
}

#[test]
fn decodes_raw_files_with_frames() {
    let mut stream = Vec::new();
    for (i, (_, m)) in all_messages().iter().enumerate().take(4) {
        Frame::Data {
            sequence: i as u32,
            message: &m.to_bytes().unwrap(),
        }
        .encode(&mut stream)
        .unwrap();
    }
    Frame::Ack {
        ack_sequence: 3,
        received: 0x7,
    }
    .encode(&mut stream)
    .unwrap();
    let path = temp("frames.bin");
    std::fs::write(&path, &stream).unwrap();
    let o = run(&["decode", "--json", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[3]["frame"]["sequence"], 3);
    assert_eq!(lines[4]["frame"]["type"], "ack");
}

#[test]
fn decodes_every_frame_of_a_pcap() {
    let path = temp("all.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6084);
    let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 6084);
    let messages = all_messages();
    for (i, (_, m)) in messages.iter().enumerate() {
        let mut f = Vec::new();
        Frame::Data {
            sequence: i as u32,
            message: &m.to_bytes().unwrap(),
        }
        .encode(&mut f)
        .unwrap();
        w.write_udp(Time(i as u64), a, b, &f).unwrap();
    }
    w.finish().unwrap();
    let o = run(&["decode", "--json", "--pcap", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let methods: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["message"]["method"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let want: Vec<String> = messages
        .iter()
        .map(|(n, _)| {
            if *n == "unknown_code" {
                "unknown".to_owned()
            } else {
                n.to_string()
            }
        })
        .collect();
    assert_eq!(methods, want);
}

#[test]
fn malformed_input_reports_the_decode_error_and_fails() {
    let bytes = routed_fetch(2).to_bytes().unwrap();
    let cut = &bytes[..bytes.len() - 3];
    let o = run(&["decode", "--hex", &hex(cut)]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("DECODE ERROR: ForwardingHeader.length at byte 16"),
        "{text}"
    );

    let o = run(&["decode", "--json", "--hex", "d2454c4f00"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["error"]["what"], "ForwardingHeader.overlay");
    assert_eq!(v["error"]["offset"], 4);

    let o = run(&["decode", "--hex", "0102"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("neither a RELOAD message"));
    let o = run(&["decode", "/nonexistent/file"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["decode", "--kind", "7=tree", "--hex", &hex(&bytes)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown data model"));
}

#[test]
fn private_kinds_need_a_model() {
    use reload_sim::proto::wire::storage::{
        DataValue, FetchAns, FetchKindResponse, KindId, StoredData, StoredDataValue,
    };
    use reload_sim::proto::wire::{Body, examples};
    let value = StoredData {
        storage_time: 1,
        lifetime: 2,
        value: StoredDataValue::Single(DataValue {
            exists: true,
            value: vec![1],
        }),
        signature: examples::signature(1),
    };
    let body = Body::FetchAns(FetchAns {
        kind_responses: vec![FetchKindResponse {
            kind: KindId(0xf000_0001),
            generation: 1,
            values: vec![value],
        }],
    });
    let m = examples::message(
        1,
        vec![],
        vec![reload_sim::proto::wire::Destination::Node(examples::peer(
            1,
        ))],
        body,
    );
    let h = hex(&m.to_bytes().unwrap());
    let o = run(&["decode", "--hex", &h]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("unknown data model for Kind 0xf0000001"));
    let o = run(&["decode", "--kind", "0xf0000001=single", "--hex", &h]);
    assert!(o.status.success(), "{}", stdout(&o));
}

#[test]
fn shipped_capture_is_current_and_decodes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read(root.join("captures/all-messages.pcap")).unwrap();
    let mut fresh = Vec::new();
    reload_sim::pcap::write_example_capture(&mut fresh).unwrap();
    assert!(
        shipped == fresh,
        "captures/all-messages.pcap is stale: cargo run --example write_examples_pcap -- captures/all-messages.pcap"
    );
    let o = run(&[
        "decode",
        "--pcap",
        root.join("captures/all-messages.pcap").to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with('#')).count(),
        60
    );
}

#[test]
fn a_truncated_capture_decodes_its_complete_packets_then_reports_the_cut() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read(root.join("captures/all-messages.pcap")).unwrap();
    // Record boundaries: a 24-byte file header, then 16-byte record headers (little-endian,
    // as PcapWriter writes) each followed by incl_len bytes.
    let mut starts = Vec::new();
    let mut at = 24;
    while at < shipped.len() {
        starts.push(at);
        let incl = u32::from_le_bytes(shipped[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
    }
    assert_eq!(at, shipped.len());
    let k = 30;
    let whole_prefix = temp("prefix.pcap");
    std::fs::write(&whole_prefix, &shipped[..starts[k]]).unwrap();
    let expected = run(&["decode", "--pcap", whole_prefix.to_str().unwrap()]);
    assert!(expected.status.success());
    // Cut in the middle of packet k + 1's data.
    let cut = starts[k] + 16 + 20;
    assert!(cut < starts[k + 1]);
    let path = temp("truncated.pcap");
    std::fs::write(&path, &shipped[..cut]).unwrap();
    let o = run(&["decode", "--pcap", path.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    let messages = text.lines().filter(|l| l.starts_with('#')).count();
    assert!(messages >= k, "{text}");
    assert_eq!(text, stdout(&expected));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(path.to_str().unwrap())
            && err.contains(&format!("truncated at byte {}", starts[k]))
            && err.contains(&format!("packet {}", k + 1)),
        "{err}"
    );
    // JSON too: every complete packet's messages, then the same report.
    let o = run(&["decode", "--json", "--pcap", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o).lines().count(), messages);
}

/// `run` re-executes itself with the heap on transparent huge pages unless told not to;
/// the outputs are the same either way.
#[test]
fn huge_pages_do_not_change_a_run() {
    let outputs: Vec<(String, Vec<u8>)> = [false, true]
        .iter()
        .map(|&plain| {
            let out = temp(if plain { "hp-off" } else { "hp-on" });
            let _ = std::fs::remove_dir_all(&out);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_reload-sim"));
            cmd.args(["run", "scenarios/quickstart.toml", "--no-plots", "--quiet"])
                .args(["--set", "peers.count=40", "--set", "scenario.duration_s=90"])
                .arg("--out")
                .arg(&out)
                .env_remove("GLIBC_TUNABLES");
            if plain {
                cmd.env("RELOAD_SIM_NO_HUGE_PAGES", "1");
            } else {
                cmd.env_remove("RELOAD_SIM_NO_HUGE_PAGES");
            }
            let o = cmd.output().expect("binary runs");
            assert!(
                o.status.code().is_some_and(|c| c == 0 || c == 3),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let summary: Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                    .unwrap();
            let digest = summary["trace_digest"].as_str().unwrap().to_string();
            (digest, std::fs::read(out.join("lookups.csv")).unwrap())
        })
        .collect();
    assert_eq!(outputs[0], outputs[1]);
    assert!(!outputs[0].1.is_empty());
}
