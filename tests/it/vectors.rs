//! Hand-written RFC 6940 / RFC 7904 / RFC 7851 byte vectors.
//!
//! Every expected byte string below was written out by hand from the RFC layouts
//! (TLS presentation language, RFC 6940 §6.3.1: big-endian integers, vectors prefixed by a
//! byte count whose width follows from the range's maximum). None of them is produced by
//! the crate's encoder, so they check it independently. Each vector is spelled out one
//! field per line; a field's length prefix sits on the same line as its contents.
//!
//! For each vector the tests assert that (a) encoding the typed value gives exactly these
//! bytes and (b) decoding these bytes gives the typed value back. Body vectors are also
//! wrapped into `MessageContents` (message_code ‖ u32 body length ‖ body ‖ no extensions),
//! which checks the message code and the decoder's dispatch. The last tests feed
//! hand-made malformed bytes and check the `DecodeError` offset.

use std::fmt::Debug;
use std::net::{Ipv4Addr, Ipv6Addr};

use reload_sim::proto::id::{NodeId, ResourceId, TransactionId};
use reload_sim::proto::wire::attach::*;
use reload_sim::proto::wire::chord::*;
use reload_sim::proto::wire::codec::{hex, parse_hex};
use reload_sim::proto::wire::diagnostics::*;
use reload_sim::proto::wire::error_response::ErrorResponse;
use reload_sim::proto::wire::header::ForwardingOption;
use reload_sim::proto::wire::security::*;
use reload_sim::proto::wire::sip::SipRegistration;
use reload_sim::proto::wire::storage::*;
use reload_sim::proto::wire::topology::*;
use reload_sim::proto::wire::{
    Body, DecodeError, Destination, ForwardingHeader, Message, MessageContents, MessageExtension,
    Reader, SecurityBlock, Wire,
};

const A: NodeId = NodeId(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
const B: NodeId = NodeId(0x1021_3243_5465_7687_98a9_bacb_dced_fe0f);
const C: NodeId = NodeId(0xf0e1_d2c3_b4a5_9687_7869_5a4b_3c2d_1e0f);
const D: NodeId = NodeId(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
/// storage_time / timestamps used below: 0x18cf1e2d3c4 ms since 1970.
const T0: u64 = 0x0000_018c_f1e2_d3c4;
/// A 5-byte stand-in for a DER certificate (SEQUENCE { INTEGER 1 }).
const CERT: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x01];
/// SHA-256 of `CERT`.
const CERT_SHA256: &str = "1b65f68a522c858715f5dd951cd0402dc16691778814bf0759822b7a257421d0";
/// SHA-256 of Node-ID A ‖ `CERT` (a cert_hash_node_id).
const NODE_CERT_SHA256: &str = "47181b3d79c262f9ecbf05873bd3a59fbd3440ed5ecf9039c341f70cb7f8238e";
/// SHA-256 of the SipRegistration value below with its 4-byte length prefix (§7.4.3.2).
const VALUE_SHA256: &str = "9a992a06fa3e2e011820e80038ef81ac5df88c9bd7104b948aa05eb7c3378ae4";

fn hx(fields: &[&str]) -> Vec<u8> {
    parse_hex(&fields.concat()).expect("hand-written hex")
}

fn alice() -> ResourceId {
    // SHA-1("alice@dht.example.com")[0..16], the digest's test vector (reload-spec.md §2).
    let r = ResourceId::hash(b"alice@dht.example.com");
    assert_eq!(hex(r.as_bytes()), "0c51a942f50c828aef82a5af83e8ed59");
    r
}

/// (a) `value` encodes to exactly `fields`; (b) `fields` decode back to `value`.
fn check<T: Wire + PartialEq + Debug>(value: &T, fields: &[&str]) {
    let (want, got) = (hx(fields), value.to_bytes().unwrap());
    assert_eq!(hex(&got), hex(&want), "encode {value:?}");
    assert_eq!(&T::from_bytes(&want).unwrap(), value, "decode");
}

/// Checks a message body against `fields`, then as `MessageContents` with `code` (its
/// body length is counted from the hand-written bytes, not taken from the encoder).
fn check_body(body: Body, code: u16, fields: &[&str]) {
    let want = hx(fields);
    let mut got = Vec::new();
    body.encode(&mut got).unwrap();
    assert_eq!(hex(&got), hex(&want), "encode {body:?}");
    let mut contents = code.to_be_bytes().to_vec(); // message_code
    contents.extend_from_slice(&(want.len() as u32).to_be_bytes()); // message_body length
    contents.extend_from_slice(&want); // message_body
    contents.extend_from_slice(&[0, 0, 0, 0]); // extensions length = 0
    let mc = MessageContents::new(body);
    let mut got = Vec::new();
    mc.encode(&mut got).unwrap();
    assert_eq!(hex(&got), hex(&contents), "MessageContents");
    let mut r = Reader::new(&contents);
    assert_eq!(MessageContents::decode(&mut r, &StandardKinds).unwrap(), mc);
    assert!(r.is_empty());
}

fn v4(a: [u8; 4], port: u16) -> IpAddressPort {
    IpAddressPort::V4(Ipv4Addr::from(a), port)
}

/// An IceCandidate with no extensions; `link` is the OverlayLinkType.
fn cand(addr_port: IpAddressPort, link: u8, f: &str, priority: u32, t: CandType) -> IceCandidate {
    IceCandidate {
        addr_port,
        overlay_link: link,
        foundation: f.as_bytes().to_vec(),
        priority,
        cand_type: t,
        extensions: vec![],
    }
}

/// ufrag, password and role as bytes.
fn ice(strings: [&str; 3]) -> [Vec<u8>; 3] {
    strings.map(|s| s.as_bytes().to_vec())
}

/// An RSA-with-SHA-256 signature (`04 01`) by `identity`.
fn rsa(identity: SignerIdentity, value: &[u8]) -> Signature {
    let (algorithm, value) = (SignatureAndHashAlgorithm::RSA_SHA256, value.to_vec());
    Signature {
        algorithm,
        identity,
        value,
    }
}

/// A SHA-256 (hash_alg 4) `cert_hash`.
fn cert_hash() -> SignerIdentity {
    let hash = parse_hex(CERT_SHA256).unwrap();
    SignerIdentity::CertHash { hash_alg: 4, hash }
}

fn dv(exists: bool, value: &[u8]) -> DataValue {
    let value = value.to_vec();
    DataValue { exists, value }
}

fn stored(storage_time: u64, lifetime: u32, value: StoredDataValue, sig: Signature) -> StoredData {
    let signature = sig;
    StoredData {
        storage_time,
        lifetime,
        value,
        signature,
    }
}

#[test]
fn probe() {
    #[rustfmt::skip]
    check_body(Body::ProbeReq(ProbeReq { requested_info: vec![1, 2, 3] }), 0x0001, &[
        "03",             // requested_info length = 3 (ProbeInformationType<0..2^8-1>)
        "01",             // responsible_set
        "02",             // num_resources
        "03",             // uptime
    ]);
    let (info_type, value) = (4, vec![0xab, 0xcd]);
    let probe_info = vec![
        ProbeInformation::ResponsiblePpb(250_000_000),
        ProbeInformation::NumResources(42),
        ProbeInformation::Uptime(3600),
        ProbeInformation::Unknown { info_type, value },
    ];
    #[rustfmt::skip]
    check_body(Body::ProbeAns(ProbeAns { probe_info }), 0x0002, &[
        "0016",           // probe_info length = 22
        "01 04 0ee6b280", // type responsible_set, length 4, responsible_ppb = 250000000
        "02 04 0000002a", // type num_resources, length 4, num_resources = 42
        "03 04 00000e10", // type uptime, length 4, uptime = 3600 s
        "04 02 abcd",     // type 4 (exp-probe, unknown here), length 2, skipped value
    ]);
}

#[test]
fn attach() {
    let (lan, public) = (v4([192, 168, 0, 2], 6084), v4([203, 0, 113, 5], 54321));
    let mut host = cand(lan.clone(), 1, "1", 0x7e00_00ff, CandType::Host);
    let (name, value) = (b"generation".to_vec(), b"0".to_vec());
    host.extensions = vec![IceExtension { name, value }];
    let srflx = cand(public, 1, "2", 0x64ff_ffff, CandType::ServerReflexive(lan));
    let [ufrag, password, role] = ice(["abcd", "pass0123", "passive"]);
    let (candidates, send_update) = (vec![host, srflx], true);
    #[rustfmt::skip]
    check_body(Body::AttachReq(AttachReqAns { ufrag, password, role, candidates, send_update }), 0x0003, &[
        "04 61626364",                       // ufrag<0..2^8-1> = "abcd"
        "08 7061737330313233",               // password<0..2^8-1> = "pass0123"
        "07 70617373697665",                 // role<0..2^8-1> = "passive"
        "003b",                              // candidates length = 59
        // IceCandidate 1 (33 bytes)
        "01 06 c0a80002 17c4",               // addr_port: ipv4, length 6, 192.168.0.2:6084
        "01",                                // overlay_link = DTLS-UDP-SR
        "01 31",                             // foundation<0..255> = "1"
        "7e0000ff",                          // priority
        "01",                                // type = host (no rel_addr_port)
        "000f",                              // extensions length = 15
        "000a 67656e65726174696f6e",         // IceExtension.name = "generation"
        "0001 30",                           // IceExtension.value = "0"
        // IceCandidate 2 (26 bytes)
        "01 06 cb007105 d431",               // addr_port = 203.0.113.5:54321
        "01",                                // overlay_link = DTLS-UDP-SR
        "01 32",                             // foundation = "2"
        "64ffffff",                          // priority
        "02",                                // type = srflx
        "01 06 c0a80002 17c4",               // rel_addr_port = 192.168.0.2:6084
        "0000",                              // extensions length = 0
        "01",                                // send_update = True
    ]);
    let v6 = IpAddressPort::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 6084);
    let [ufrag, password, role] = ice(["efgh", "pass4567", "active"]);
    let (candidates, send_update) = (vec![cand(v6, 4, "a", 0x7eff_ffff, CandType::Host)], false);
    #[rustfmt::skip]
    check_body(Body::AttachAns(AttachReqAns { ufrag, password, role, candidates, send_update }), 0x0004, &[
        "04 65666768",                       // ufrag = "efgh"
        "08 7061737334353637",               // password = "pass4567"
        "06 616374697665",                   // role = "active"
        "001e",                              // candidates length = 30
        "02 12 20010db8000000000000000000000001 17c4", // ipv6, length 18, [2001:db8::1]:6084
        "04",                                // overlay_link = TLS-TCP-FH-NO-ICE
        "01 61",                             // foundation = "a"
        "7effffff",                          // priority
        "01",                                // type = host
        "0000",                              // extensions length = 0
        "00",                                // send_update = False
    ]);
}

#[test]
fn app_attach() {
    let relay = CandType::Relay(v4([203, 0, 113, 5], 54321));
    let relayed = v4([198, 51, 100, 7], 3478);
    let candidates = vec![cand(relayed, 1, "3", 0x00ff_ffff, relay)];
    let [ufrag, password, role] = ice(["abcd", "pass0123", "passive"]);
    let application = 5060;
    #[rustfmt::skip]
    check_body(Body::AppAttachReq(AppAttachReqAns { ufrag, password, application, role, candidates }), 0x001d, &[
        "04 61626364",                       // ufrag = "abcd"
        "08 7061737330313233",               // password = "pass0123"
        "13c4",                              // application = 5060 (SIP)
        "07 70617373697665",                 // role = "passive"
        "001a",                              // candidates length = 26
        "01 06 c6336407 0d96",               // addr_port = 198.51.100.7:3478
        "01",                                // overlay_link = DTLS-UDP-SR
        "01 33",                             // foundation = "3"
        "00ffffff",                          // priority
        "04",                                // type = relay
        "01 06 cb007105 d431",               // rel_addr_port = 203.0.113.5:54321
        "0000",                              // extensions length = 0
    ]);
    let rfc_addr = v4([192, 0, 2, 1], 6084);
    let candidates = vec![cand(rfc_addr, 1, "1", 0x7e00_00ff, CandType::Host)];
    let [ufrag, password, role] = ice(["efgh", "pass4567", "active"]);
    #[rustfmt::skip]
    check_body(Body::AppAttachAns(AppAttachReqAns { ufrag, password, application, role, candidates }), 0x001e, &[
        "04 65666768",                       // ufrag = "efgh"
        "08 7061737334353637",               // password = "pass4567"
        "13c4",                              // application = 5060
        "06 616374697665",                   // role = "active"
        "0012",                              // candidates length = 18
        "01 06 c0000201 17c4",               // addr_port = 192.0.2.1:6084 (RFC 6940 §6.3.1)
        "01",                                // overlay_link = DTLS-UDP-SR
        "01 31",                             // foundation = "1"
        "7e0000ff",                          // priority
        "01",                                // type = host
        "0000",                              // extensions length = 0
    ]);
}

#[test]
fn store() {
    // RFC 7904 §3.2: the DataValue of a SIP-REGISTRATION entry is a SipRegistration.
    let contact_prefs = b"(sip.schemes=SIP)".to_vec();
    let destination_list = vec![Destination::Node(A)];
    #[rustfmt::skip]
    let route_hex: &[&str] = &[
        "02",                                // type = sip_registration_route
        "0027",                              // length = 39
        "0011 287369702e736368656d65733d53495029", // contact_prefs = "(sip.schemes=SIP)"
        "0012",                              // destination_list length = 18
        "01 10 00112233445566778899aabbccddeeff", // Destination node A
    ];
    #[rustfmt::skip]
    check(&SipRegistration::Route { contact_prefs, destination_list }, route_hex);
    let (key, value) = (A.octets().to_vec(), dv(true, &hx(route_hex)));
    let entry = StoredDataValue::Dictionary { key, value };
    let values = vec![stored(T0, 3600, entry, rsa(cert_hash(), b"SIGNATUR"))];
    #[rustfmt::skip]
    let kind_data = vec![StoreKindData { kind: KindId(1), generation_counter: 0, values }];
    #[rustfmt::skip]
    let req = StoreReq { resource: alice(), replica_number: 0, kind_data };
    #[rustfmt::skip]
    check_body(Body::StoreReq(req), 0x0007, &[
        "10 0c51a942f50c828aef82a5af83e8ed59", // resource = H("alice@dht.example.com")
        "00",                                // replica_number = 0 (original store)
        "00000092",                          // kind_data length = 146
        "00000001",                          // kind = SIP-REGISTRATION
        "0000000000000000",                  // generation_counter = 0 (no check)
        "00000082",                          // values length = 130
        "0000007e",                          // StoredData.length = 126
        "0000018cf1e2d3c4",                  // storage_time (ms)
        "00000e10",                          // lifetime = 3600 s
        "0010 00112233445566778899aabbccddeeff", // DictionaryEntry.key = Node-ID A
        "01",                                // DataValue.exists = True
        "0000002a",                          // DataValue.value length = 42
        "02 0027",                           //   SipRegistration type route, length 39
        "0011 287369702e736368656d65733d53495029", // contact_prefs
        "0012 0110 00112233445566778899aabbccddeeff", // destination_list = [node A]
        "04 01",                             // Signature.algorithm = sha256, rsa
        "01 0022",                           // SignerIdentity: cert_hash, length 34
        "04 20",                             // hash_alg = sha256, certificate_hash length 32
        CERT_SHA256,                         // certificate_hash
        "0008 5349474e41545552",             // signature_value = "SIGNATUR"
    ]);
    let replicas = vec![B, C];
    #[rustfmt::skip]
    let ans = StoreKindResponse { kind: KindId(1), generation_counter: 7, replicas };
    #[rustfmt::skip]
    check_body(Body::StoreAns(StoreAns { kind_responses: vec![ans] }), 0x0008, &[
        "002e",                              // kind_responses length = 46
        "00000001",                          // kind = SIP-REGISTRATION
        "0000000000000007",                  // generation_counter = 7
        "0020",                              // replicas length = 32
        "102132435465768798a9bacbdcedfe0f",  // replica B
        "f0e1d2c3b4a5968778695a4b3c2d1e0f",  // replica C
    ]);
}

#[test]
fn fetch_and_stat() {
    #[rustfmt::skip]
    let spec = |kind, generation, indices| StoredDataSpecifier { kind, generation, indices };
    let keys = SpecifierIndices::Dictionary(vec![DictionaryKey(A.octets().to_vec())]);
    let ranges = SpecifierIndices::Array(vec![
        ArrayRange { first: 0, last: 2 },
        ArrayRange { first: 5, last: !0 },
    ]);
    let specifiers = vec![
        spec(KindId::SIP_REGISTRATION, 0, keys),
        spec(KindId::CERTIFICATE_BY_NODE, 2, ranges),
        spec(KindId::TURN_SERVICE, 0, SpecifierIndices::Single),
    ];
    #[rustfmt::skip]
    check_body(Body::FetchReq(FetchReq { resource: alice(), specifiers }), 0x0009, &[
        "10 0c51a942f50c828aef82a5af83e8ed59", // resource
        "0050",                              // specifiers length = 80
        "00000001",                          // kind = SIP-REGISTRATION (dictionary)
        "0000000000000000",                  // generation = 0
        "0014",                              // length = 20
        "0012",                              // keys length = 18
        "0010 00112233445566778899aabbccddeeff", // DictionaryKey = Node-ID A
        "00000003",                          // kind = CERTIFICATE_BY_NODE (array)
        "0000000000000002",                  // generation = 2
        "0012",                              // length = 18
        "0010",                              // indices length = 16
        "00000000 00000002",                 // ArrayRange first = 0, last = 2
        "00000005 ffffffff",                 // ArrayRange first = 5, last = "last"
        "00000002",                          // kind = TURN-SERVICE (single value)
        "0000000000000000",                  // generation = 0
        "0000",                              // length = 0 (no model_specifier)
    ]);
    let hash = parse_hex(NODE_CERT_SHA256).unwrap();
    let signer = SignerIdentity::CertHashNodeId { hash_alg: 4, hash };
    #[rustfmt::skip]
    let entry = StoredDataValue::Array { index: 0, value: dv(true, &CERT) };
    let cert = stored(T0, 86400, entry, rsa(signer, &[0xde, 0xad, 0xbe, 0xef]));
    let none = StoredDataValue::Single(dv(false, &[]));
    let synthesized = stored(0, 0, none, Signature::anonymous());
    #[rustfmt::skip]
    let kind_responses = vec![
        FetchKindResponse { kind: KindId(2), generation: 0, values: vec![synthesized] },
        FetchKindResponse { kind: KindId(3), generation: 2, values: vec![cert] },
    ];
    #[rustfmt::skip]
    check_body(Body::FetchAns(FetchAns { kind_responses }), 0x000a, &[
        "00000087",                          // kind_responses length = 135
        "00000002",                          // kind = TURN-SERVICE
        "0000000000000000",                  // generation = 0
        "0000001c",                          // values length = 28
        "00000018",                          // StoredData.length = 24
        "0000000000000000",                  // storage_time = 0
        "00000000",                          // lifetime = 0
        "00 00000000",                       // DataValue: exists = False, empty value
        "00 00",                             // algorithm = {none, anonymous}
        "03 0000",                           // SignerIdentity: none, length 0
        "0000",                              // signature_value: empty
        "00000003",                          // kind = CERTIFICATE_BY_NODE
        "0000000000000002",                  // generation = 2
        "0000004b",                          // values length = 75
        "00000047",                          // StoredData.length = 71
        "0000018cf1e2d3c4",                  // storage_time
        "00015180",                          // lifetime = 86400 s
        "00000000",                          // ArrayEntry.index = 0
        "01 00000005 3003020101",            // DataValue: exists, value = DER certificate
        "04 01",                             // algorithm = sha256, rsa
        "02 0022",                           // SignerIdentity: cert_hash_node_id, length 34
        "04 20",                             // hash_alg = sha256, length 32
        NODE_CERT_SHA256,                    // certificate_node_id_hash = H(A ‖ certificate)
        "0004 deadbeef",                     // signature_value
    ]);
    let wildcard = spec(KindId(1), 0, SpecifierIndices::Dictionary(vec![]));
    #[rustfmt::skip]
    let stat = FetchReq { resource: alice(), specifiers: vec![wildcard] };
    #[rustfmt::skip]
    check_body(Body::StatReq(stat), 0x0019, &[
        "10 0c51a942f50c828aef82a5af83e8ed59", // resource
        "0010",                              // specifiers length = 16
        "00000001 0000000000000000",         // kind = SIP-REGISTRATION, generation = 0
        "0002",                              // length = 2
        "0000",                              // keys length = 0: wildcard, every entry
    ]);
    let hash_value = parse_hex(VALUE_SHA256).unwrap();
    #[rustfmt::skip]
    let meta = MetaData { exists: true, value_length: 42, hash_algorithm: 4, hash_value };
    #[rustfmt::skip]
    let metadata = MetaDataValue::Dictionary { key: A.octets().to_vec(), value: meta };
    #[rustfmt::skip]
    let values = vec![StoredMetaData { storage_time: T0, lifetime: 3600, metadata }];
    #[rustfmt::skip]
    let kind_responses = vec![StatKindResponse { kind: KindId(1), generation: 7, values }];
    #[rustfmt::skip]
    check_body(Body::StatAns(StatAns { kind_responses }), 0x001a, &[
        "00000059",                          // kind_responses length = 89
        "00000001",                          // kind = SIP-REGISTRATION
        "0000000000000007",                  // generation = 7
        "00000049",                          // values length = 73
        "00000045",                          // StoredMetaData.value_length = 69: bytes after it (as StoredData.length)
        "0000018cf1e2d3c4",                  // storage_time
        "00000e10",                          // lifetime = 3600
        "0010 00112233445566778899aabbccddeeff", // DictionaryEntryMeta.key = A
        "01",                                // MetaData.exists = True
        "0000002a",                          // MetaData.value_length = 42
        "04",                                // hash_algorithm = sha256
        "20",                                // hash_value length = 32
        VALUE_SHA256,                        // hash_value = H(value with its length prefix)
    ]);
}

#[test]
fn find() {
    let kinds = vec![KindId::SIP_REGISTRATION, KindId::CERTIFICATE_BY_NODE];
    #[rustfmt::skip]
    check_body(Body::FindReq(FindReq { resource: alice(), kinds }), 0x000d, &[
        "10 0c51a942f50c828aef82a5af83e8ed59", // resource
        "08",                                // kinds length = 8 (KindId<0..2^8-1>)
        "00000001",                          // SIP-REGISTRATION
        "00000003",                          // CERTIFICATE_BY_NODE
    ]);
    let empty = ResourceId::from_slice(&[]).unwrap();
    #[rustfmt::skip]
    let results = vec![
        FindKindData { kind: KindId(1), closest: alice() },
        FindKindData { kind: KindId(0xf000_0001), closest: empty },
    ];
    #[rustfmt::skip]
    check_body(Body::FindAns(FindAns { results }), 0x000e, &[
        "001a",                              // results length = 26
        "00000001",                          // kind = SIP-REGISTRATION
        "10 0c51a942f50c828aef82a5af83e8ed59", // closest
        "f0000001",                          // kind = private, unknown here
        "00",                                // closest = 0 (empty ResourceId)
    ]);
}

#[test]
fn join_leave_route_query() {
    #[rustfmt::skip]
    let join = JoinReq { joining_peer_id: B, overlay_specific_data: vec![] };
    #[rustfmt::skip]
    check_body(Body::JoinReq(join), 0x000f, &[
        "102132435465768798a9bacbdcedfe0f",  // joining_peer_id = B
        "0000",                              // overlay_specific_data: empty for CHORD-RELOAD
    ]);
    #[rustfmt::skip]
    check_body(Body::JoinAns(JoinAns::default()), 0x0010, &[
        "0000",                              // overlay_specific_data length = 0
    ]);
    let chord = Some(ChordLeaveData::FromSuccessor(vec![C, D]));
    #[rustfmt::skip]
    check_body(Body::LeaveReq(LeaveReq { leaving_peer_id: B, chord }), 0x0011, &[
        "102132435465768798a9bacbdcedfe0f",  // leaving_peer_id = B
        "0023",                              // overlay_specific_data length = 35
        "01",                                // ChordLeaveData.type = from_succ
        "0020",                              // successors length = 32
        "f0e1d2c3b4a5968778695a4b3c2d1e0f",  // successor C
        "0123456789abcdeffedcba9876543210",  // successor D
    ]);
    check_body(Body::LeaveAns, 0x0012, &[]); // LeaveAns is empty
    let destination = Destination::Resource(alice());
    let (send_update, overlay_specific_data) = (true, vec![]);
    #[rustfmt::skip]
    check_body(Body::RouteQueryReq(RouteQueryReq { send_update, destination, overlay_specific_data }), 0x0015, &[
        "01",                                // send_update = True
        "02 11",                             // Destination type resource, length 17
        "10 0c51a942f50c828aef82a5af83e8ed59", // ResourceId with its own length byte
        "0000",                              // overlay_specific_data: none for CHORD-RELOAD
    ]);
    #[rustfmt::skip]
    check_body(Body::RouteQueryAns(ChordRouteQueryAns { next_peer: C }), 0x0016, &[
        "f0e1d2c3b4a5968778695a4b3c2d1e0f",  // ChordRouteQueryAns.next_peer = C
    ]);
}

#[test]
fn update() {
    let u = |uptime, kind| Body::UpdateReq(ChordUpdate { uptime, kind });
    #[rustfmt::skip]
    check_body(u(3600, ChordUpdateKind::PeerReady), 0x0013, &[
        "00000e10",                          // uptime = 3600 s
        "01",                                // type = peer_ready (no data)
    ]);
    let (predecessors, successors) = (vec![A], vec![C, D]);
    #[rustfmt::skip]
    check_body(u(60, ChordUpdateKind::Neighbors { predecessors, successors }), 0x0013, &[
        "0000003c",                          // uptime = 60 s
        "02",                                // type = neighbors
        "0010",                              // predecessors length = 16
        "00112233445566778899aabbccddeeff",  // A
        "0020",                              // successors length = 32
        "f0e1d2c3b4a5968778695a4b3c2d1e0f",  // C
        "0123456789abcdeffedcba9876543210",  // D
    ]);
    let (predecessors, successors, fingers) = (vec![A], vec![C], vec![D, B]);
    #[rustfmt::skip]
    check_body(u(86400, ChordUpdateKind::Full { predecessors, successors, fingers }), 0x0013, &[
        "00015180",                          // uptime = 86400 s
        "03",                                // type = full
        "0010 00112233445566778899aabbccddeeff", // predecessors = [A]
        "0010 f0e1d2c3b4a5968778695a4b3c2d1e0f", // successors = [C]
        "0020",                              // fingers length = 32
        "0123456789abcdeffedcba9876543210",  // D (fingers numerically ascending)
        "102132435465768798a9bacbdcedfe0f",  // B
    ]);
    check_body(Body::UpdateAns, 0x0014, &[]); // UpdateAns is empty
}

#[test]
fn ping_and_config_update() {
    #[rustfmt::skip]
    check_body(Body::PingReq(PingReq { padding: vec![0; 4] }), 0x0017, &[
        "0004 00000000",                     // padding<0..2^16-1> = 4 zero bytes
    ]);
    #[rustfmt::skip]
    let pong = PingAns { response_id: 0x1122_3344_5566_7788, time: T0 };
    #[rustfmt::skip]
    check_body(Body::PingAns(pong), 0x0018, &[
        "1122334455667788",                  // response_id
        "0000018cf1e2d3c4",                  // time (ms since 1970, like storage_time)
    ]);
    let config = ConfigUpdateReq::Config(b"<configuration/>".to_vec());
    #[rustfmt::skip]
    check_body(Body::ConfigUpdateReq(config), 0x0021, &[
        "01",                                // type = config
        "00000013",                          // length of the rest = 19
        "000010",                            // config_data length = 16 (opaque<0..2^24-1>)
        "3c636f6e66696775726174696f6e2f3e",  // "<configuration/>"
    ]);
    let kinds = ConfigUpdateReq::Kinds(vec![KindDescription(b"<kind-block/>".to_vec())]);
    #[rustfmt::skip]
    check_body(Body::ConfigUpdateReq(kinds), 0x0021, &[
        "02",                                // type = kind
        "00000012",                          // length of the rest = 18
        "00000f",                            // kinds length = 15 (KindDescription<0..2^24-1>)
        "000d 3c6b696e642d626c6f636b2f3e",   // KindDescription<0..2^16-1> = "<kind-block/>"
    ]);
    check_body(Body::ConfigUpdateAns, 0x0022, &[]); // ConfigUpdateAns is empty
}

#[test]
fn path_track_rfc7851() {
    #[rustfmt::skip]
    let extensions = vec![DiagnosticExtension { kind: 0xf001, contents: vec![0xab, 0xcd] }];
    let (expiration, timestamp_initiated, dm_flags) = (T0 + 60_000, T0, 0x6);
    #[rustfmt::skip]
    let request = DiagnosticsRequest { expiration, timestamp_initiated, dm_flags, extensions };
    let destination = Destination::Node(C);
    #[rustfmt::skip]
    check_body(Body::PathTrackReq(PathTrackReq { destination, request }), 0x0027, &[
        "01 10 f0e1d2c3b4a5968778695a4b3c2d1e0f", // destination = node C
        "0000018cf1e3be24",                  // expiration = T0 + 60 s
        "0000018cf1e2d3c4",                  // timestamp_initiated = T0
        "0000000000000006",                  // dMFlags = STATUS_INFO | ROUTING_TABLE_SIZE
        "00000008",                          // ext_length = 8 (the list's data)
        "00000008",                          // diagnostic_extensions_list<0..2^32-1> length
        "f001",                              // DiagnosticExtension.kind (local use)
        "00000002 abcd",                     // diagnostic_extension_contents<0..2^32-1>
    ]);
    #[rustfmt::skip]
    let info = vec![
        DiagnosticInfo { kind: 1, contents: vec![0] },
        DiagnosticInfo { kind: 4, contents: vec![0, 0, 0, 20] },
    ];
    let (timestamp_received, hop_counter) = (T0 + 100, 98);
    #[rustfmt::skip]
    let response = DiagnosticsResponse {
        expiration, timestamp_initiated, timestamp_received, hop_counter, info,
    };
    let next_hop = Destination::Node(D);
    #[rustfmt::skip]
    check_body(Body::PathTrackAns(PathTrackAns { next_hop, response }), 0x0028, &[
        "01 10 0123456789abcdeffedcba9876543210", // next_hop = node D
        "0000018cf1e3be24",                  // expiration
        "0000018cf1e2d3c4",                  // timestamp_initiated (copied)
        "0000018cf1e2d428",                  // timestamp_received = T0 + 100 ms
        "62",                                // hop_counter = 98 (TTL of the request)
        "0000000d",                          // ext_length = 13
        "0000000d",                          // diagnostic_info_list<0..2^32-1> length
        "0001 0001 00",                      // kind STATUS_INFO, contents<0..2^16-1> = 00
        "0004 0004 00000014",                // kind ROUTING_TABLE_SIZE, contents = 20
    ]);
}

#[test]
fn error_responses() {
    #[rustfmt::skip]
    check_body(Body::Error(ErrorResponse::new(0x03, "not found")), 0xffff, &[
        "0003",                              // error_code = Error_Not_Found
        "0009 6e6f7420666f756e64",           // error_info<0..2^16-1> = "not found"
    ]);
    let kinds = [KindId(0xf000_0001), KindId(0xf000_0002)];
    let unknown = ErrorResponse::unknown_kinds(&kinds).unwrap();
    #[rustfmt::skip]
    let unknown_hex: &[&str] = &[
        "000c",                              // error_code = Error_Unknown_Kind
        "0009",                              // error_info length = 9
        "08",                                // unknown_kinds length = 8 (KindId<0..2^8-1>)
        "f0000001",                          // KindId
        "f0000002",                          // KindId
    ];
    check(&unknown, unknown_hex);
    let decoded = ErrorResponse::from_bytes(&hx(unknown_hex)).unwrap();
    assert_eq!(decoded.parse_unknown_kinds().unwrap().unwrap(), kinds);
    check_body(Body::Error(unknown), 0xffff, unknown_hex);
    #[rustfmt::skip]
    let current = StoreKindResponse { kind: KindId(1), generation_counter: 9, replicas: vec![] };
    #[rustfmt::skip]
    let current = StoreAns { kind_responses: vec![current] };
    let too_low = ErrorResponse::generation_too_low(&current).unwrap();
    #[rustfmt::skip]
    check_body(Body::Error(too_low.clone()), 0xffff, &[
        "0005",                              // Error_Generation_Counter_Too_Low
        "0010",                              // error_info length = 16: a StoreAns
        "000e",                              // kind_responses length = 14
        "00000001 0000000000000009",         // kind = SIP-REGISTRATION, generation = 9
        "0000",                              // replicas: empty
    ]);
    assert_eq!(too_low.parse_store_ans().unwrap().unwrap(), current);
}

fn complete_message() -> Message {
    let txid = TransactionId(0x0102_0304_0506_0708);
    let dests = vec![Destination::Node(B), Destination::Resource(alice())];
    let mut header = ForwardingHeader::new(0x9aa3_2b8d, 22, txid, dests);
    header.ttl = 98;
    header.length = 191;
    header.max_response_length = 5000;
    header.via_list = vec![Destination::Node(A), Destination::Compressed(0x8123)];
    let (option_type, flags, value) = (1, 0x05, vec![0xbe, 0xef]);
    #[rustfmt::skip]
    let options = vec![ForwardingOption { option_type, flags, value }];
    header.options = options;
    #[rustfmt::skip]
    let tuning = SelfTuningData { network_size: 100, join_rate: 10, leave_rate: 5 };
    let (ext_type, critical, contents) = (3, false, tuning.to_bytes().unwrap());
    #[rustfmt::skip]
    let extensions = vec![MessageExtension { ext_type, critical, contents }];
    let body = Body::ProbeReq(ProbeReq {
        requested_info: vec![3],
    });
    #[rustfmt::skip]
    let certificates = vec![GenericCertificate { cert_type: 0, certificate: CERT.to_vec() }];
    let signature = rsa(cert_hash(), b"SIGNATUR");
    let (contents, security) = (
        MessageContents { body, extensions },
        SecurityBlock {
            certificates,
            signature,
        },
    );
    Message {
        header,
        contents,
        security,
    }
}

/// A whole message: ForwardingHeader ‖ MessageContents ‖ SecurityBlock (§6.3).
#[rustfmt::skip]
const COMPLETE: &[&str] = &[
    // ForwardingHeader (§6.3.2): 38 fixed bytes + 20 via + 37 destinations + 6 options
    "d2454c4f",                              // relo_token
    "9aa32b8d",                              // overlay = low 32 bits of SHA-1("overlay.example.org")
    "0016",                                  // configuration_sequence = 22
    "0a",                                    // version = 1.0
    "62",                                    // ttl = 98
    "c0000000",                              // fragment: always-set bit + last, offset 0
    "000000bf",                              // length = 191, whole message
    "0102030405060708",                      // transaction_id
    "00001388",                              // max_response_length = 5000
    "0014",                                  // via_list_length = 20
    "0025",                                  // destination_list_length = 37
    "0006",                                  // options_length = 6
    "01 10 00112233445566778899aabbccddeeff", // via[0]: node A
    "8123",                                  // via[1]: compressed opaque id (top bit set)
    "01 10 102132435465768798a9bacbdcedfe0f", // destination[0]: node B
    "02 11 10 0c51a942f50c828aef82a5af83e8ed59", // destination[1]: resource (last entry)
    "01",                                    // ForwardingOption.type = exp-forward
    "05",                                    // flags = FORWARD_CRITICAL | RESPONSE_COPY
    "0002 beef",                             // length = 2, option value
    // MessageContents (§6.3.3): 31 bytes
    "0001",                                  // message_code = probe_req
    "00000002",                              // message_body length = 2
    "01 03",                                 // ProbeReq.requested_info = [uptime]
    "00000013",                              // extensions length = 19
    "0003",                                  // MessageExtension.type = self_tuning_data
    "00",                                    // critical = False
    "0000000c",                              // extension_contents length = 12
    "00000064 0000000a 00000005",            // network_size 100, join_rate 10, leave_rate 5
    // SecurityBlock (§6.3.4): 59 bytes
    "0008",                                  // certificates length = 8
    "00 0005 3003020101",                    // GenericCertificate: X.509, DER bytes
    "04 01",                                 // Signature.algorithm = sha256, rsa
    "01 0022",                               // SignerIdentity: cert_hash, length 34
    "04 20",                                 // hash_alg = sha256, certificate_hash length 32
    CERT_SHA256,                             // certificate_hash = SHA-256(certificate)
    "0008 5349474e41545552",                 // signature_value
];

#[test]
fn complete_message_field_by_field() {
    let want = hx(COMPLETE);
    assert_eq!(want.len(), 191);
    let msg = complete_message();
    assert_eq!(hex(&msg.to_bytes().unwrap()), hex(&want));
    let decoded = Message::decode(&want).unwrap();
    assert_eq!(decoded, msg);
    let ext = &decoded.contents.extensions[0].contents;
    assert_eq!(SelfTuningData::from_bytes(ext).unwrap().network_size, 100);
}

fn offset_of(e: Result<impl Debug, DecodeError>) -> usize {
    e.expect_err("malformed input must not decode").offset
}

#[test]
fn malformed_messages_fail_at_the_right_offset() {
    let good = hx(COMPLETE);
    let mutate = |at: usize, v: u8| {
        let mut b = good.clone();
        b[at] = v;
        offset_of(Message::decode(&b))
    };
    assert_eq!(mutate(0, 0x52), 0); // relo_token without its high bit
    assert_eq!(mutate(10, 0x02), 10); // version 0.2: neither 1.0 nor the draft's 0.1
    assert_eq!(mutate(12, 0x40), 12); // fragment bit 31 clear
    assert_eq!(mutate(38, 0x00), 38); // via[0] type invalidDestinationType(0)
    assert_eq!(mutate(115, 0x02), 115); // MessageExtension.critical = 2: not a Boolean
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(offset_of(Message::decode(&longer)), 16); // length 191 but 192 bytes
}

#[test]
fn malformed_bodies_fail_at_the_right_offset() {
    #[rustfmt::skip]
    let bad_bool = hx(&[
        "00 00 00",                          // ufrag, password, role: empty
        "0000",                              // candidates: none
        "02",                                // send_update = 2: not a Boolean (offset 5)
    ]);
    assert_eq!(offset_of(AttachReqAns::from_bytes(&bad_bool)), 5);
    #[rustfmt::skip]
    let reserved_cand = hx(&[
        "01 06 c0000201 17c4",               // addr_port (offsets 0..8)
        "01 00 00000001",                    // overlay_link, empty foundation, priority
        "03",                                // type = RESERVED(3) (offset 14)
        "0000",                              // extensions
    ]);
    assert_eq!(offset_of(IceCandidate::from_bytes(&reserved_cand)), 14);
    #[rustfmt::skip]
    let truncated = hx(&[
        "000a",                              // probe_info length = 10
        "01 04 0ee6b280",                    // complete ProbeInformation
        "03 04 0000",                        // length 4 but 2 bytes left (value at offset 10)
    ]);
    assert_eq!(offset_of(ProbeAns::from_bytes(&truncated)), 10);
    let bad_update = hx(&["00000e10", "00"]); // ChordUpdate.type = invalid(0) at offset 4
    assert_eq!(offset_of(ChordUpdate::from_bytes(&bad_update)), 4);
    let bad_signer = hx(&["04 01", "00 0000", "0000"]); // SignerIdentityType invalid(0)
    assert_eq!(offset_of(Signature::from_bytes(&bad_signer)), 2);
    #[rustfmt::skip]
    let short_route = hx(&[
        "02 0006",                           // sip_registration_route, length 6
        "0000",                              // contact_prefs: empty
        "0002 8123",                         // destination_list<3..2^16-1> of 2 bytes (at 7)
    ]);
    assert_eq!(offset_of(SipRegistration::from_bytes(&short_route)), 7);
    #[rustfmt::skip]
    let trailing = hx(&[
        "0017",                              // message_code = ping_req
        "00000004",                          // message_body length = 4
        "0001 aa",                           // PingReq.padding = [aa]
        "bb",                                // a byte the body does not account for (offset 9)
        "00000000",                          // extensions: none
    ]);
    let mut r = Reader::new(&trailing);
    let e = MessageContents::decode(&mut r, &StandardKinds);
    assert_eq!(offset_of(e), 9);
}

/// The offset of a bad message_code should be the code's own offset (0), not the body's.
#[test]
fn reserved_message_code_fails_at_its_offset() {
    let b = hx(&["8000", "00000000", "00000000"]); // code 0x8000 (reserved), empty body
    let e = MessageContents::decode(&mut Reader::new(&b), &StandardKinds);
    assert_eq!(offset_of(e), 0);
}
