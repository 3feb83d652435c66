//! Wireshark as an independent oracle: every example message, framed and sent over UDP to
//! port 6084, must dissect as RELOAD with no malformed packet and no error-level expert
//! info, and the dissected code, transaction id, destination ids and Kind-IDs must equal
//! what was encoded.
//!
//! Known Wireshark deviations from the RFCs are left out of the comparison (reload-spec.md
//! §15 items 12–14, 26): PathTrack bodies, extension code points, REDIR and error-body
//! lengths. Without tshark the test skips, except under `CI=true`, where it fails.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::Command;

use reload_sim::pcap::PcapWriter;
use reload_sim::proto::wire::examples::all_messages;
use reload_sim::proto::wire::framing::{Frame, received_mask};
use reload_sim::proto::wire::{Body, Destination, Message};
use reload_sim::time::Time;
use serde_json::Value;

pub(crate) fn tshark_present() -> bool {
    match Command::new("tshark").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("tshark is required in CI (apt-get install -y tshark)");
            }
            eprintln!("tshark not installed: skipping the Wireshark oracle test");
            false
        }
    }
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("reload-sim-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes data frames (and an ack after each) to a pcap; returns the path.
fn write_capture(messages: &[(&str, Message)], name: &str) -> std::path::PathBuf {
    let path = temp_dir().join(name);
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6084);
    let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 6084);
    for (i, (_, m)) in messages.iter().enumerate() {
        let seq = i as u32;
        let mut frame = Vec::new();
        Frame::Data {
            sequence: seq,
            message: &m.to_bytes().unwrap(),
        }
        .encode(&mut frame)
        .unwrap();
        w.write_udp(Time(2 * i as u64 * 1_000_000), a, b, &frame)
            .unwrap();
        let mut ack = Vec::new();
        Frame::Ack {
            ack_sequence: seq,
            received: received_mask(seq, 0..seq),
        }
        .encode(&mut ack)
        .unwrap();
        w.write_udp(Time((2 * i as u64 + 1) * 1_000_000), b, a, &ack)
            .unwrap();
    }
    w.finish().unwrap();
    path
}

fn dissect(path: &std::path::Path) -> Vec<Value> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-T", "json", "--no-duplicate-keys"])
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tshark JSON")
}

/// Every value stored under `key` anywhere below `v`, in document order.
fn find_all<'a>(v: &'a Value, key: &str, acc: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == key {
                    match x {
                        Value::Array(items) => acc.extend(items.iter()),
                        other => acc.push(other),
                    }
                }
                find_all(x, key, acc);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| find_all(x, key, acc)),
        _ => {}
    }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    let mut acc = Vec::new();
    find_all(v, key, &mut acc);
    acc.into_iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn destination_ids(list: &[Destination]) -> Vec<String> {
    list.iter()
        .map(|d| match d {
            Destination::Node(id) => colon_hex(&id.octets()),
            Destination::Resource(r) => colon_hex(r.as_bytes()),
            other => panic!("example uses an unexpected destination {other:?}"),
        })
        .collect()
}

fn expected_kinds(body: &Body) -> Vec<u32> {
    let mut k: Vec<u32> = match body {
        Body::StoreReq(r) => r.kind_data.iter().map(|d| d.kind.0).collect(),
        Body::StoreAns(a) => a.kind_responses.iter().map(|d| d.kind.0).collect(),
        Body::FetchReq(r) | Body::StatReq(r) => r.specifiers.iter().map(|s| s.kind.0).collect(),
        Body::FetchAns(a) => a.kind_responses.iter().map(|d| d.kind.0).collect(),
        Body::StatAns(a) => a.kind_responses.iter().map(|d| d.kind.0).collect(),
        Body::FindReq(r) => r.kinds.iter().map(|k| k.0).collect(),
        Body::FindAns(a) => a.results.iter().map(|d| d.kind.0).collect(),
        _ => Vec::new(),
    };
    k.sort_unstable();
    k
}

#[test]
fn wireshark_dissects_every_message_type() {
    if !tshark_present() {
        return;
    }
    let messages = all_messages();
    let path = temp_dir().join("all.pcap");
    reload_sim::pcap::write_example_capture(std::fs::File::create(&path).unwrap()).unwrap();
    let packets = dissect(&path);
    assert_eq!(packets.len(), 2 * messages.len());
    for (i, (name, m)) in messages.iter().enumerate() {
        for (j, packet) in packets[2 * i..2 * i + 2].iter().enumerate() {
            let layers = &packet["_source"]["layers"];
            assert!(
                layers.get("reload-framing").is_some(),
                "{name}: frame {j} not dissected as RELOAD framing"
            );
            let mut malformed = Vec::new();
            find_all(layers, "_ws.malformed", &mut malformed);
            assert!(
                malformed.is_empty(),
                "{name}: Wireshark reports a malformed packet: {malformed:?}"
            );
            let severities = strings(layers, "_ws.expert.severity");
            assert!(
                !severities.iter().any(|s| s == "8388608"),
                "{name}: error-level expert info: {:?}",
                strings(layers, "_ws.expert.message")
            );
        }
        let reload = &packets[2 * i]["_source"]["layers"]["reload"];
        assert!(reload.is_object(), "{name}: no RELOAD layer");
        let code = m.contents.body.code();
        assert_eq!(
            strings(reload, "reload.message.code"),
            vec![code.to_string()],
            "{name}: message code"
        );
        assert_eq!(
            strings(reload, "reload.forwarding.trans_id"),
            vec![format!("0x{:016x}", m.header.transaction_id.0)],
            "{name}: transaction id"
        );

        let mut lists = Vec::new();
        find_all(reload, "reload.forwarding.destination_list", &mut lists);
        let dest = lists.first().expect("destination list");
        let mut got = strings(dest, "reload.destination.data.nodeid");
        got.extend(strings(dest, "reload.opaque.data"));
        let mut want = destination_ids(&m.header.destination_list);
        got.sort();
        want.sort();
        assert_eq!(got, want, "{name}: destination ids");

        if !matches!(
            m.contents.body,
            Body::PathTrackReq(_) | Body::PathTrackAns(_)
        ) {
            let mut kinds: Vec<u32> = strings(reload, "reload.kinddata.kind")
                .into_iter()
                .chain(strings(reload, "reload.kindid"))
                .map(|s| s.parse().unwrap())
                .collect();
            kinds.sort_unstable();
            assert_eq!(kinds, expected_kinds(&m.contents.body), "{name}: Kind-IDs");
        }
    }
}

#[test]
fn wireshark_agrees_on_a_long_via_list() {
    if !tshark_present() {
        return;
    }
    let m = reload_sim::proto::wire::examples::routed_fetch(12);
    let path = write_capture(&[("fetch", m.clone())], "via.pcap");
    let packets = dissect(&path);
    let reload = &packets[0]["_source"]["layers"]["reload"];
    let mut vias = Vec::new();
    find_all(reload, "reload.forwarding.via_list", &mut vias);
    let got = strings(vias[0], "reload.destination.data.nodeid");
    assert_eq!(got, destination_ids(&m.header.via_list));
}
