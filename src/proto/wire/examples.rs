//! One well-formed example message of every type, for tests, benchmarks, fuzz seeds and
//! `reload-sim decode` demonstrations. Values are realistic: 16-byte ids, SHA-256-sized
//! certificate hashes and 256-byte RSA-sized signatures.

use std::net::Ipv4Addr;

use crate::proto::id::{NodeId, ResourceId, TransactionId, overlay_hash};

use super::Wire;
use super::attach::{
    AppAttachReqAns, AttachReqAns, CandType, IceCandidate, IceExtension, IpAddressPort,
    application, overlay_link,
};
use super::chord::{ChordLeaveData, ChordRouteQueryAns, ChordUpdate, ChordUpdateKind};
use super::destination::Destination;
use super::diagnostics::{
    DiagnosticExtension, DiagnosticInfo, DiagnosticsRequest, DiagnosticsResponse, PathTrackAns,
    PathTrackReq,
};
use super::error_response::{ErrorResponse, error_code};
use super::header::ForwardingHeader;
use super::message::{Body, Message, MessageContents, MessageExtension, extension_type};
use super::security::{
    GenericCertificate, HASH_SHA256, SecurityBlock, Signature, SignatureAndHashAlgorithm,
    SignerIdentity,
};
use super::sip::SipRegistration;
use super::storage::{
    ArrayRange, DataValue, DictionaryKey, FetchAns, FetchKindResponse, FetchReq, FindAns,
    FindKindData, FindReq, KindId, MetaData, MetaDataValue, SpecifierIndices, StatAns,
    StatKindResponse, StoreAns, StoreKindData, StoreKindResponse, StoreReq, StoredData,
    StoredDataSpecifier, StoredDataValue, StoredMetaData,
};
use super::topology::{
    ConfigUpdateReq, JoinAns, JoinReq, KindDescription, LeaveReq, PingAns, PingReq, ProbeAns,
    ProbeInformation, ProbeReq, RouteQueryReq, probe_type,
};

/// A real self-signed X.509 certificate (DER, EC P-256) with a RELOAD Node-ID URI and an
/// rfc822Name in its subjectAltName, as enrollment would issue (§11.3).
pub const EXAMPLE_CERT_DER: &[u8] = include_bytes!("example_cert.der");

/// The overlay name used by the examples.
pub const OVERLAY: &str = "overlay.example.org";

/// A deterministic Node-ID for example peer `n`.
pub fn peer(n: u8) -> NodeId {
    NodeId(u128::from_be_bytes([n; 16]) ^ 0x0f0f_0000_0000_0000_0000_0000_0000_0001)
}

/// A cert_hash signature of RSA size (256 bytes) by example peer `n`.
pub fn signature(n: u8) -> Signature {
    Signature {
        algorithm: SignatureAndHashAlgorithm::RSA_SHA256,
        identity: SignerIdentity::CertHash {
            hash_alg: HASH_SHA256,
            hash: vec![n; 32],
        },
        value: vec![n ^ 0x5a; 256],
    }
}

/// A SecurityBlock with one certificate-sized blob and a signature by peer `n`.
pub fn security(n: u8, with_cert: bool) -> SecurityBlock {
    let certificates = if with_cert {
        vec![GenericCertificate {
            cert_type: 0,
            certificate: EXAMPLE_CERT_DER.to_vec(),
        }]
    } else {
        Vec::new()
    };
    SecurityBlock {
        certificates,
        signature: signature(n),
    }
}

/// A routed request or answer carrying `body`, with the given lists.
pub fn message(txid: u64, via: Vec<Destination>, dest: Vec<Destination>, body: Body) -> Message {
    let mut header = ForwardingHeader::new(overlay_hash(OVERLAY), 22, TransactionId(txid), dest);
    header.via_list = via;
    Message {
        header,
        contents: MessageContents::new(body),
        security: security(1, false),
    }
}

/// A Fetch for a SIP registration, routed through `via_hops` peers.
pub fn routed_fetch(via_hops: u8) -> Message {
    let via = (1..=via_hops).map(|i| Destination::Node(peer(i))).collect();
    let resource = ResourceId::hash(b"alice@dht.example.com");
    let body = Body::FetchReq(FetchReq {
        resource,
        specifiers: vec![StoredDataSpecifier {
            kind: KindId::SIP_REGISTRATION,
            generation: 0,
            indices: SpecifierIndices::Dictionary(vec![]),
        }],
    });
    message(
        0x1111_2222_3333_4444,
        via,
        vec![Destination::Resource(resource)],
        body,
    )
}

/// A full Update with 3 predecessors, 3 successors and 16 fingers.
pub fn full_update() -> Message {
    let ids = |from: u8, n: u8| (from..from + n).map(peer).collect::<Vec<_>>();
    let mut fingers = ids(20, 16);
    fingers.sort();
    let body = Body::UpdateReq(ChordUpdate {
        uptime: 3600,
        kind: ChordUpdateKind::Full {
            predecessors: ids(2, 3),
            successors: ids(5, 3),
            fingers,
        },
    });
    message(
        0x5555_6666_7777_8888,
        vec![],
        vec![Destination::Node(peer(2))],
        body,
    )
}

fn candidate(port: u16, cand_type: CandType) -> IceCandidate {
    IceCandidate {
        addr_port: IpAddressPort::V4(Ipv4Addr::new(192, 0, 2, 1), port),
        overlay_link: overlay_link::TLS_TCP_FH_NO_ICE,
        foundation: b"f1".to_vec(),
        priority: 0x7e00_01ff,
        cand_type,
        extensions: vec![IceExtension {
            name: b"tcptype".to_vec(),
            value: b"passive".to_vec(),
        }],
    }
}

fn stored(value: StoredDataValue) -> StoredData {
    StoredData {
        storage_time: 1_700_000_000_000,
        lifetime: 3600,
        value,
        signature: signature(3),
    }
}

fn registration() -> Vec<u8> {
    SipRegistration::Route {
        contact_prefs: b"(sip.schemes=SIPS)".to_vec(),
        destination_list: vec![Destination::Node(peer(3))],
    }
    .to_bytes()
    .expect("encodable")
}

fn meta() -> MetaData {
    MetaData {
        exists: true,
        value_length: 40,
        hash_algorithm: HASH_SHA256,
        hash_value: vec![0xcd; 32],
    }
}

/// `(name, message)` for every message code this codec knows, plus one unknown code.
pub fn all_messages() -> Vec<(&'static str, Message)> {
    let alice = ResourceId::hash(b"alice@dht.example.com");
    let to = |n| vec![Destination::Node(peer(n))];
    let via2 = vec![Destination::Node(peer(8)), Destination::Node(peer(9))];
    let attach = AttachReqAns {
        ufrag: b"ufrag".to_vec(),
        password: b"password".to_vec(),
        role: b"passive".to_vec(),
        candidates: vec![
            candidate(6084, CandType::Host),
            candidate(
                6085,
                CandType::ServerReflexive(IpAddressPort::V4(Ipv4Addr::new(10, 0, 0, 1), 6084)),
            ),
        ],
        send_update: true,
    };
    let app_attach = AppAttachReqAns {
        ufrag: b"u".to_vec(),
        password: b"p".to_vec(),
        application: application::SIP,
        role: b"active".to_vec(),
        candidates: vec![candidate(
            5060,
            CandType::Relay(IpAddressPort::V4(Ipv4Addr::new(198, 51, 100, 7), 3478)),
        )],
    };
    let sip_value = stored(StoredDataValue::Dictionary {
        key: peer(3).octets().to_vec(),
        value: DataValue {
            exists: true,
            value: registration(),
        },
    });
    let cert_value = stored(StoredDataValue::Array {
        index: 0,
        value: DataValue {
            exists: true,
            value: EXAMPLE_CERT_DER.to_vec(),
        },
    });
    let turn_value = stored(StoredDataValue::Single(DataValue {
        exists: true,
        value: vec![1, 1, 6, 192, 0, 2, 9, 0x0d, 0x96],
    }));
    let diag_req = DiagnosticsRequest {
        expiration: 1_700_000_060_000,
        timestamp_initiated: 1_700_000_000_000,
        dm_flags: 0x6,
        extensions: vec![DiagnosticExtension {
            kind: 0xf001,
            contents: vec![1, 2],
        }],
    };
    let mut ping_diag = message(0x10, vec![], to(4), Body::PingReq(PingReq::default()));
    ping_diag.contents.extensions.push(MessageExtension {
        ext_type: extension_type::DIAGNOSTIC_PING,
        critical: false,
        contents: diag_req.to_bytes().expect("encodable"),
    });
    let mut leave = message(
        0x11,
        vec![],
        to(5),
        Body::LeaveReq(LeaveReq {
            leaving_peer_id: peer(1),
            chord: Some(ChordLeaveData::FromPredecessor(vec![peer(6), peer(7)])),
        }),
    );
    leave.header.ttl = 1;
    let mut with_cert = message(
        0x12,
        via2.clone(),
        to(6),
        Body::JoinReq(JoinReq {
            joining_peer_id: peer(1),
            overlay_specific_data: vec![],
        }),
    );
    with_cert.security = security(1, true);

    vec![
        (
            "probe_req",
            message(
                0x01,
                vec![],
                vec![Destination::Resource(alice)],
                Body::ProbeReq(ProbeReq {
                    requested_info: vec![
                        probe_type::RESPONSIBLE_SET,
                        probe_type::NUM_RESOURCES,
                        probe_type::UPTIME,
                    ],
                }),
            ),
        ),
        (
            "probe_ans",
            message(
                0x01,
                vec![],
                via2.clone(),
                Body::ProbeAns(ProbeAns {
                    probe_info: vec![
                        ProbeInformation::ResponsiblePpb(250_000_000),
                        ProbeInformation::NumResources(12),
                        ProbeInformation::Uptime(3600),
                    ],
                }),
            ),
        ),
        (
            "attach_req",
            message(
                0x03,
                vec![],
                vec![Destination::Resource(
                    peer(1).wrapping_add(1).to_resource_id(),
                )],
                Body::AttachReq(attach.clone()),
            ),
        ),
        (
            "attach_ans",
            message(
                0x03,
                vec![],
                to(1),
                Body::AttachAns(AttachReqAns {
                    role: b"active".to_vec(),
                    send_update: false,
                    ..attach
                }),
            ),
        ),
        (
            "store_req",
            message(
                0x07,
                via2.clone(),
                vec![Destination::Resource(alice)],
                Body::StoreReq(StoreReq {
                    resource: alice,
                    replica_number: 0,
                    kind_data: vec![StoreKindData {
                        kind: KindId::SIP_REGISTRATION,
                        generation_counter: 0,
                        values: vec![sip_value.clone()],
                    }],
                }),
            ),
        ),
        (
            "store_ans",
            message(
                0x07,
                vec![],
                via2.clone(),
                Body::StoreAns(StoreAns {
                    kind_responses: vec![StoreKindResponse {
                        kind: KindId::SIP_REGISTRATION,
                        generation_counter: 1,
                        replicas: vec![peer(5), peer(6)],
                    }],
                }),
            ),
        ),
        (
            "fetch_req",
            message(
                0x09,
                vec![],
                vec![Destination::Resource(alice)],
                Body::FetchReq(FetchReq {
                    resource: alice,
                    specifiers: vec![
                        StoredDataSpecifier {
                            kind: KindId::SIP_REGISTRATION,
                            generation: 0,
                            indices: SpecifierIndices::Dictionary(vec![DictionaryKey(
                                peer(3).octets().to_vec(),
                            )]),
                        },
                        StoredDataSpecifier {
                            kind: KindId::CERTIFICATE_BY_USER,
                            generation: 0,
                            indices: SpecifierIndices::Array(vec![ArrayRange {
                                first: 0,
                                last: 0xffff_ffff,
                            }]),
                        },
                        StoredDataSpecifier {
                            kind: KindId::TURN_SERVICE,
                            generation: 7,
                            indices: SpecifierIndices::Single,
                        },
                    ],
                }),
            ),
        ),
        (
            "fetch_ans",
            message(
                0x09,
                vec![],
                to(1),
                Body::FetchAns(FetchAns {
                    kind_responses: vec![
                        FetchKindResponse {
                            kind: KindId::SIP_REGISTRATION,
                            generation: 4,
                            values: vec![sip_value],
                        },
                        FetchKindResponse {
                            kind: KindId::CERTIFICATE_BY_USER,
                            generation: 2,
                            values: vec![cert_value],
                        },
                        FetchKindResponse {
                            kind: KindId::TURN_SERVICE,
                            generation: 9,
                            values: vec![turn_value],
                        },
                    ],
                }),
            ),
        ),
        (
            "find_req",
            message(
                0x0d,
                vec![],
                vec![Destination::Resource(alice)],
                Body::FindReq(FindReq {
                    resource: alice,
                    kinds: vec![KindId::TURN_SERVICE, KindId::SIP_REGISTRATION],
                }),
            ),
        ),
        (
            "find_ans",
            message(
                0x0d,
                vec![],
                to(1),
                Body::FindAns(FindAns {
                    results: vec![FindKindData {
                        kind: KindId::TURN_SERVICE,
                        closest: alice,
                    }],
                }),
            ),
        ),
        ("join_req", with_cert),
        (
            "join_ans",
            message(0x12, vec![], to(1), Body::JoinAns(JoinAns::default())),
        ),
        ("leave_req", leave),
        ("leave_ans", message(0x11, vec![], to(1), Body::LeaveAns)),
        ("update_req", full_update()),
        (
            "update_ans",
            message(0x5555_6666_7777_8888, vec![], to(1), Body::UpdateAns),
        ),
        (
            "route_query_req",
            message(
                0x15,
                vec![],
                to(2),
                Body::RouteQueryReq(RouteQueryReq {
                    send_update: true,
                    destination: Destination::Node(peer(9)),
                    overlay_specific_data: vec![],
                }),
            ),
        ),
        (
            "route_query_ans",
            message(
                0x15,
                vec![],
                to(1),
                Body::RouteQueryAns(ChordRouteQueryAns { next_peer: peer(7) }),
            ),
        ),
        ("ping_req", ping_diag),
        (
            "ping_ans",
            message(
                0x10,
                vec![],
                to(1),
                Body::PingAns(PingAns {
                    response_id: 0xfeed,
                    time: 1_700_000_000_123,
                }),
            ),
        ),
        (
            "stat_req",
            message(
                0x19,
                vec![],
                vec![Destination::Resource(alice)],
                Body::StatReq(FetchReq {
                    resource: alice,
                    specifiers: vec![StoredDataSpecifier {
                        kind: KindId::SIP_REGISTRATION,
                        generation: 0,
                        indices: SpecifierIndices::Dictionary(vec![]),
                    }],
                }),
            ),
        ),
        (
            "stat_ans",
            message(
                0x19,
                vec![],
                to(1),
                Body::StatAns(StatAns {
                    kind_responses: vec![
                        StatKindResponse {
                            kind: KindId::SIP_REGISTRATION,
                            generation: 4,
                            values: vec![StoredMetaData {
                                storage_time: 1_700_000_000_000,
                                lifetime: 3600,
                                metadata: MetaDataValue::Dictionary {
                                    key: peer(3).octets().to_vec(),
                                    value: meta(),
                                },
                            }],
                        },
                        StatKindResponse {
                            kind: KindId::TURN_SERVICE,
                            generation: 1,
                            values: vec![StoredMetaData {
                                storage_time: 1_700_000_000_000,
                                lifetime: 60,
                                metadata: MetaDataValue::Single(meta()),
                            }],
                        },
                    ],
                }),
            ),
        ),
        (
            "app_attach_req",
            message(0x1d, vec![], to(3), Body::AppAttachReq(app_attach.clone())),
        ),
        (
            "app_attach_ans",
            message(0x1d, vec![], to(1), Body::AppAttachAns(app_attach)),
        ),
        (
            "config_update_req",
            message(
                0x21,
                vec![],
                to(2),
                Body::ConfigUpdateReq(ConfigUpdateReq::Kinds(vec![KindDescription(
                    b"<kind-block/>".to_vec(),
                )])),
            ),
        ),
        (
            "config_update_ans",
            message(0x21, vec![], to(1), Body::ConfigUpdateAns),
        ),
        (
            "path_track_req",
            message(
                0x27,
                vec![],
                to(2),
                Body::PathTrackReq(PathTrackReq {
                    destination: Destination::Node(peer(9)),
                    request: diag_req,
                }),
            ),
        ),
        (
            "path_track_ans",
            message(
                0x27,
                vec![],
                to(1),
                Body::PathTrackAns(PathTrackAns {
                    next_hop: Destination::Node(peer(4)),
                    response: DiagnosticsResponse {
                        expiration: 1_700_000_060_000,
                        timestamp_initiated: 1_700_000_000_000,
                        timestamp_received: 1_700_000_000_020,
                        hop_counter: 98,
                        info: vec![DiagnosticInfo {
                            kind: 0x2,
                            contents: vec![0, 0, 0, 40],
                        }],
                    },
                }),
            ),
        ),
        (
            "error",
            message(
                0x07,
                vec![],
                via2,
                Body::Error(ErrorResponse::new(
                    error_code::FORBIDDEN,
                    "signer not authorized",
                )),
            ),
        ),
        (
            "unknown_code",
            message(
                0x31,
                vec![],
                to(2),
                Body::Unknown {
                    code: 0x31,
                    body: vec![1, 2, 3],
                },
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::message::code_name;

    #[test]
    fn every_example_round_trips() {
        for (name, m) in all_messages() {
            let bytes = m.to_bytes().unwrap();
            assert_eq!(bytes.len(), m.encoded_len(), "{name}");
            let back = Message::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut want = m.clone();
            want.header.length = bytes.len() as u32;
            assert_eq!(back, want, "{name}");
            if name != "unknown_code" {
                assert_eq!(code_name(m.contents.body.code()), Some(name), "{name}");
            }
        }
    }
}
