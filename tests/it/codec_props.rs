//! Property tests for the wire codec.
//!
//! Strategies build arbitrary *valid* values of every message body, the forwarding header
//! (every `Destination` form, anywhere in either list), message extensions and security
//! blocks (every `SignerIdentity` form). Values of StoreReq, FetchAns and StatAns use only
//! Kinds whose data model `StandardKinds` knows, with a value of that model. Collections
//! hold 0..4 elements and byte strings are short, so each case is cheap.
//!
//! Properties: whole messages round-trip and `encoded_len` is exact; every strict prefix is
//! rejected; single-byte corruption and random input never panic (and whatever the decoder
//! accepts re-encodes to the same bytes); the `HeaderView::forward_into` fast path agrees
//! with editing the typed header; and individual `Wire` structures round-trip on their own.

use std::fmt::Debug;
use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use reload_sim::proto::id::{NodeId, RESOURCE_ID_MAX, ResourceId, TransactionId};
use reload_sim::proto::wire::attach::{
    AppAttachReqAns, AttachReqAns, CandType, IceCandidate, IceExtension, IpAddressPort,
};
use reload_sim::proto::wire::chord::{
    ChordLeaveData, ChordRouteQueryAns, ChordUpdate, ChordUpdateKind,
};
use reload_sim::proto::wire::diagnostics::{
    DiagnosticExtension, DiagnosticInfo, DiagnosticsRequest, DiagnosticsResponse, PathTrackAns,
    PathTrackReq, SelfTuningData,
};
use reload_sim::proto::wire::error_response::ErrorResponse;
use reload_sim::proto::wire::examples::all_messages;
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::header::{
    FIXED_HEADER_LEN, ForwardingOption, UNFRAGMENTED, VERSION, VERSION_DRAFT,
};
use reload_sim::proto::wire::message::{code, code_name};
use reload_sim::proto::wire::security::{
    GenericCertificate, Signature, SignatureAndHashAlgorithm, SignerIdentity,
};
use reload_sim::proto::wire::sip::SipRegistration;
use reload_sim::proto::wire::storage::{
    ArrayRange, DataModel, DataValue, DictionaryKey, FetchAns, FetchKindResponse, FetchReq,
    FindAns, FindKindData, FindReq, KindId, KindModels, MetaData, MetaDataValue, SpecifierIndices,
    StandardKinds, StatAns, StatKindResponse, StoreAns, StoreKindData, StoreKindResponse, StoreReq,
    StoredData, StoredDataSpecifier, StoredDataValue, StoredMetaData,
};
use reload_sim::proto::wire::topology::{
    ConfigUpdateReq, JoinAns, JoinReq, KindDescription, LeaveReq, PingAns, PingReq, ProbeAns,
    ProbeInformation, ProbeReq, RouteQueryReq,
};
use reload_sim::proto::wire::{
    Body, Destination, ForwardEdit, ForwardingHeader, HeaderView, Message, MessageContents,
    MessageExtension, SecurityBlock, Wire,
};

/// `strat! { Path { field: strategy, .. } }` is a strategy for that struct (or struct
/// variant), each field drawn from its strategy. Brace syntax keeps rustfmt from spreading
/// every literal over one line per field.
macro_rules! strat {
    ($($ty:ident)::+ { $($f:ident : $s:expr),+ $(,)? }) => {
        ($($s,)+).prop_map(|($($f,)+)| $($ty)::+ { $($f),+ })
    };
}

// ----- Primitive strategies -----

/// A short byte string (0..=max bytes).
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> + Clone {
    vec(any::<u8>(), 0..=max)
}

/// A small collection (0..4 elements).
fn small<S: Strategy>(s: S) -> impl Strategy<Value = Vec<S::Value>> {
    vec(s, 0..4)
}

fn node_id() -> impl Strategy<Value = NodeId> + Clone {
    any::<u128>().prop_map(NodeId)
}

fn resource_id() -> impl Strategy<Value = ResourceId> + Clone {
    prop_oneof![
        node_id().prop_map(ResourceId::from_ring),
        vec(any::<u8>(), 0..=RESOURCE_ID_MAX).prop_map(|b| ResourceId::from_slice(&b).unwrap()),
    ]
}

/// Every `Destination` form. Resource entries may appear anywhere: "only last" is a
/// protocol rule, not a codec rule.
fn destination() -> impl Strategy<Value = Destination> + Clone {
    prop_oneof![
        node_id().prop_map(Destination::Node),
        resource_id().prop_map(Destination::Resource),
        bytes(8).prop_map(Destination::Opaque),
        (0x8000u16..=0xffff).prop_map(Destination::Compressed),
        strat! { Destination::Unknown { dest_type: 4u8..=127, data: bytes(8) } },
    ]
}

fn kind_id() -> impl Strategy<Value = KindId> {
    any::<u32>().prop_map(KindId)
}

/// The Kinds `StandardKinds` has a data model for.
const MODELLED: &[(KindId, DataModel)] = &[
    (KindId::SIP_REGISTRATION, DataModel::Dictionary),
    (KindId::TURN_SERVICE, DataModel::Single),
    (KindId::CERTIFICATE_BY_NODE, DataModel::Array),
    (KindId::CERTIFICATE_BY_USER, DataModel::Array),
    (KindId::REDIR, DataModel::Dictionary),
];

fn modelled_kind() -> impl Strategy<Value = (KindId, DataModel)> {
    select(MODELLED)
}

fn unmodelled_kind() -> impl Strategy<Value = KindId> {
    kind_id().prop_filter("no model", |k| StandardKinds.model(*k).is_none())
}

// ----- Security -----

fn signer_identity() -> impl Strategy<Value = SignerIdentity> {
    prop_oneof![
        strat! { SignerIdentity::CertHash { hash_alg: any::<u8>(), hash: bytes(32) } },
        strat! { SignerIdentity::CertHashNodeId { hash_alg: any::<u8>(), hash: bytes(32) } },
        Just(SignerIdentity::None),
    ]
}

fn signature() -> impl Strategy<Value = Signature> {
    let algorithm =
        strat! { SignatureAndHashAlgorithm { hash: any::<u8>(), signature: any::<u8>() } };
    strat! { Signature { algorithm: algorithm, identity: signer_identity(), value: bytes(16) } }
}

fn security_block() -> impl Strategy<Value = SecurityBlock> {
    let cert = strat! { GenericCertificate { cert_type: any::<u8>(), certificate: bytes(16) } };
    strat! { SecurityBlock { certificates: small(cert), signature: signature() } }
}

// ----- Storage -----

fn data_value() -> impl Strategy<Value = DataValue> {
    strat! { DataValue { exists: any::<bool>(), value: bytes(8) } }
}

/// A StoredDataValue of `model`.
fn stored_value(model: DataModel) -> BoxedStrategy<StoredDataValue> {
    match model {
        DataModel::Single => data_value().prop_map(StoredDataValue::Single).boxed(),
        DataModel::Array => {
            strat! { StoredDataValue::Array { index: any::<u32>(), value: data_value() } }.boxed()
        }
        DataModel::Dictionary => {
            strat! { StoredDataValue::Dictionary { key: bytes(8), value: data_value() } }.boxed()
        }
    }
}

fn stored_data(model: DataModel) -> impl Strategy<Value = StoredData> {
    strat! { StoredData {
        storage_time: any::<u64>(),
        lifetime: any::<u32>(),
        value: stored_value(model),
        signature: signature(),
    } }
}

fn store_req() -> impl Strategy<Value = StoreReq> {
    let kd = modelled_kind().prop_flat_map(|(kind, model)| {
        strat! { StoreKindData {
            kind: Just(kind),
            generation_counter: any::<u64>(),
            values: small(stored_data(model)),
        } }
    });
    let replica = any::<u8>();
    strat! { StoreReq { resource: resource_id(), replica_number: replica, kind_data: small(kd) } }
}

fn store_ans() -> impl Strategy<Value = StoreAns> {
    let resp = strat! { StoreKindResponse {
        kind: kind_id(),
        generation_counter: any::<u64>(),
        replicas: small(node_id()),
    } };
    strat! { StoreAns { kind_responses: small(resp) } }
}

/// Indices of the Kind's model, or raw bytes for a Kind with no known model.
fn specifier() -> impl Strategy<Value = StoredDataSpecifier> {
    let modelled = modelled_kind().prop_flat_map(|(kind, model)| {
        let indices = match model {
            DataModel::Single => Just(SpecifierIndices::Single).boxed(),
            DataModel::Array => {
                let range = strat! { ArrayRange { first: any::<u32>(), last: any::<u32>() } };
                small(range).prop_map(SpecifierIndices::Array).boxed()
            }
            DataModel::Dictionary => small(bytes(8).prop_map(DictionaryKey))
                .prop_map(SpecifierIndices::Dictionary)
                .boxed(),
        };
        strat! { StoredDataSpecifier {
            kind: Just(kind),
            generation: any::<u64>(),
            indices: indices,
        } }
    });
    let unmodelled = strat! { StoredDataSpecifier {
        kind: unmodelled_kind(),
        generation: any::<u64>(),
        indices: bytes(8).prop_map(SpecifierIndices::Unknown),
    } };
    prop_oneof![modelled, unmodelled]
}

fn fetch_req() -> impl Strategy<Value = FetchReq> {
    strat! { FetchReq { resource: resource_id(), specifiers: small(specifier()) } }
}

fn fetch_ans() -> impl Strategy<Value = FetchAns> {
    let resp = modelled_kind().prop_flat_map(|(kind, model)| {
        strat! { FetchKindResponse {
            kind: Just(kind),
            generation: any::<u64>(),
            values: small(stored_data(model)),
        } }
    });
    strat! { FetchAns { kind_responses: small(resp) } }
}

fn meta_data() -> impl Strategy<Value = MetaData> {
    strat! { MetaData {
        exists: any::<bool>(),
        value_length: any::<u32>(),
        hash_algorithm: any::<u8>(),
        hash_value: bytes(32),
    } }
}

/// Metadata of a value of `model`.
fn stored_meta(model: DataModel) -> impl Strategy<Value = StoredMetaData> {
    let metadata = match model {
        DataModel::Single => meta_data().prop_map(MetaDataValue::Single).boxed(),
        DataModel::Array => {
            strat! { MetaDataValue::Array { index: any::<u32>(), value: meta_data() } }.boxed()
        }
        DataModel::Dictionary => {
            strat! { MetaDataValue::Dictionary { key: bytes(8), value: meta_data() } }.boxed()
        }
    };
    let (storage_time, lifetime) = (any::<u64>(), any::<u32>());
    strat! { StoredMetaData { storage_time: storage_time, lifetime: lifetime, metadata: metadata } }
}

fn stat_ans() -> impl Strategy<Value = StatAns> {
    let resp = modelled_kind().prop_flat_map(|(kind, model)| {
        strat! { StatKindResponse {
            kind: Just(kind),
            generation: any::<u64>(),
            values: small(stored_meta(model)),
        } }
    });
    strat! { StatAns { kind_responses: small(resp) } }
}

fn find_req() -> impl Strategy<Value = FindReq> {
    strat! { FindReq { resource: resource_id(), kinds: small(kind_id()) } }
}

fn find_ans() -> impl Strategy<Value = FindAns> {
    let data = strat! { FindKindData { kind: kind_id(), closest: resource_id() } };
    strat! { FindAns { results: small(data) } }
}

// ----- Attach, topology, diagnostics, SIP -----

fn ip_address_port() -> impl Strategy<Value = IpAddressPort> + Clone {
    prop_oneof![
        (any::<u32>(), any::<u16>()).prop_map(|(a, p)| IpAddressPort::V4(Ipv4Addr::from(a), p)),
        (any::<u128>(), any::<u16>()).prop_map(|(a, p)| IpAddressPort::V6(Ipv6Addr::from(a), p)),
        strat! { IpAddressPort::Unknown { addr_type: 3u8..=255, data: bytes(8) } },
    ]
}

fn ice_candidate() -> impl Strategy<Value = IceCandidate> {
    let cand_type = prop_oneof![
        Just(CandType::Host),
        ip_address_port().prop_map(CandType::ServerReflexive),
        ip_address_port().prop_map(CandType::Relay),
    ];
    strat! { IceCandidate {
        addr_port: ip_address_port(),
        overlay_link: any::<u8>(),
        foundation: bytes(8),
        priority: any::<u32>(),
        cand_type: cand_type,
        extensions: small(strat! { IceExtension { name: bytes(8), value: bytes(8) } }),
    } }
}

fn attach() -> impl Strategy<Value = AttachReqAns> {
    strat! { AttachReqAns {
        ufrag: bytes(8),
        password: bytes(8),
        role: bytes(8),
        candidates: small(ice_candidate()),
        send_update: any::<bool>(),
    } }
}

fn app_attach() -> impl Strategy<Value = AppAttachReqAns> {
    strat! { AppAttachReqAns {
        ufrag: bytes(8),
        password: bytes(8),
        application: any::<u16>(),
        role: bytes(8),
        candidates: small(ice_candidate()),
    } }
}

/// All three `ChordUpdateKind`s.
fn chord_update() -> impl Strategy<Value = ChordUpdate> {
    let ids = || small(node_id());
    let kind = prop_oneof![
        Just(ChordUpdateKind::PeerReady),
        strat! { ChordUpdateKind::Neighbors { predecessors: ids(), successors: ids() } },
        strat! { ChordUpdateKind::Full { predecessors: ids(), successors: ids(), fingers: ids() } },
    ];
    strat! { ChordUpdate { uptime: any::<u32>(), kind: kind } }
}

fn leave_data() -> impl Strategy<Value = ChordLeaveData> {
    prop_oneof![
        small(node_id()).prop_map(ChordLeaveData::FromSuccessor),
        small(node_id()).prop_map(ChordLeaveData::FromPredecessor),
    ]
}

fn probe_info() -> impl Strategy<Value = ProbeInformation> {
    prop_oneof![
        any::<u32>().prop_map(ProbeInformation::ResponsiblePpb),
        any::<u32>().prop_map(ProbeInformation::NumResources),
        any::<u32>().prop_map(ProbeInformation::Uptime),
        strat! { ProbeInformation::Unknown { info_type: 4u8..=255, value: bytes(8) } },
    ]
}

/// Every `ConfigUpdateReq` form.
fn config_update() -> impl Strategy<Value = ConfigUpdateReq> {
    prop_oneof![
        bytes(16).prop_map(ConfigUpdateReq::Config),
        small(bytes(8).prop_map(KindDescription)).prop_map(ConfigUpdateReq::Kinds),
        strat! { ConfigUpdateReq::Unknown { update_type: 3u8..=255, data: bytes(8) } },
    ]
}

fn diagnostics_request() -> impl Strategy<Value = DiagnosticsRequest> {
    let ext = strat! { DiagnosticExtension { kind: any::<u16>(), contents: bytes(8) } };
    strat! { DiagnosticsRequest {
        expiration: any::<u64>(),
        timestamp_initiated: any::<u64>(),
        dm_flags: any::<u64>(),
        extensions: small(ext),
    } }
}

fn diagnostics_response() -> impl Strategy<Value = DiagnosticsResponse> {
    let info = strat! { DiagnosticInfo { kind: any::<u16>(), contents: bytes(8) } };
    strat! { DiagnosticsResponse {
        expiration: any::<u64>(),
        timestamp_initiated: any::<u64>(),
        timestamp_received: any::<u64>(),
        hop_counter: any::<u8>(),
        info: small(info),
    } }
}

fn sip_registration() -> impl Strategy<Value = SipRegistration> {
    let route = vec(destination(), 1..4).prop_filter("at least 3 bytes", |l| {
        l.iter().map(Wire::encoded_len).sum::<usize>() >= 3
    });
    prop_oneof![
        bytes(16).prop_map(SipRegistration::Uri),
        strat! { SipRegistration::Route { contact_prefs: bytes(16), destination_list: route } },
        strat! { SipRegistration::Unknown { reg_type: 3u8..=255, data: bytes(8) } },
    ]
}

// ----- Bodies and messages -----

/// Every code with a typed `Body` variant.
#[rustfmt::skip]
const TYPED_CODES: &[u16] = &[
    code::PROBE_REQ, code::PROBE_ANS, code::ATTACH_REQ, code::ATTACH_ANS,
    code::STORE_REQ, code::STORE_ANS, code::FETCH_REQ, code::FETCH_ANS,
    code::FIND_REQ, code::FIND_ANS, code::JOIN_REQ, code::JOIN_ANS,
    code::LEAVE_REQ, code::LEAVE_ANS, code::UPDATE_REQ, code::UPDATE_ANS,
    code::ROUTE_QUERY_REQ, code::ROUTE_QUERY_ANS, code::PING_REQ, code::PING_ANS,
    code::STAT_REQ, code::STAT_ANS, code::APP_ATTACH_REQ, code::APP_ATTACH_ANS,
    code::CONFIG_UPDATE_REQ, code::CONFIG_UPDATE_ANS, code::PATH_TRACK_REQ,
    code::PATH_TRACK_ANS, code::ERROR,
];

/// One arm per `Body` variant.
fn body() -> impl Strategy<Value = Body> {
    // Unassigned codes only (also not exp_a/exp_b, which have names but no body type).
    let unknown_code = (1u16..0x8000).prop_filter("unassigned", |c| code_name(*c).is_none());
    let join = strat! { JoinReq { joining_peer_id: node_id(), overlay_specific_data: bytes(8) } };
    let leave = strat! { LeaveReq {
        leaving_peer_id: node_id(),
        chord: proptest::option::of(leave_data()),
    } };
    let route_query = strat! { RouteQueryReq {
        send_update: any::<bool>(),
        destination: destination(),
        overlay_specific_data: bytes(8),
    } };
    let path_req =
        strat! { PathTrackReq { destination: destination(), request: diagnostics_request() } };
    let path_ans =
        strat! { PathTrackAns { next_hop: destination(), response: diagnostics_response() } };
    prop_oneof![
        strat! { ProbeReq { requested_info: bytes(4) } }.prop_map(Body::ProbeReq),
        strat! { ProbeAns { probe_info: small(probe_info()) } }.prop_map(Body::ProbeAns),
        attach().prop_map(Body::AttachReq),
        attach().prop_map(Body::AttachAns),
        store_req().prop_map(Body::StoreReq),
        store_ans().prop_map(Body::StoreAns),
        fetch_req().prop_map(Body::FetchReq),
        fetch_ans().prop_map(Body::FetchAns),
        find_req().prop_map(Body::FindReq),
        find_ans().prop_map(Body::FindAns),
        join.prop_map(Body::JoinReq),
        strat! { JoinAns { overlay_specific_data: bytes(8) } }.prop_map(Body::JoinAns),
        leave.prop_map(Body::LeaveReq),
        Just(Body::LeaveAns),
        chord_update().prop_map(Body::UpdateReq),
        Just(Body::UpdateAns),
        route_query.prop_map(Body::RouteQueryReq),
        strat! { ChordRouteQueryAns { next_peer: node_id() } }.prop_map(Body::RouteQueryAns),
        strat! { PingReq { padding: bytes(16) } }.prop_map(Body::PingReq),
        strat! { PingAns { response_id: any::<u64>(), time: any::<u64>() } }
            .prop_map(Body::PingAns),
        fetch_req().prop_map(Body::StatReq),
        stat_ans().prop_map(Body::StatAns),
        app_attach().prop_map(Body::AppAttachReq),
        app_attach().prop_map(Body::AppAttachAns),
        config_update().prop_map(Body::ConfigUpdateReq),
        Just(Body::ConfigUpdateAns),
        path_req.prop_map(Body::PathTrackReq),
        path_ans.prop_map(Body::PathTrackAns),
        strat! { ErrorResponse { code: any::<u16>(), info: bytes(16) } }.prop_map(Body::Error),
        strat! { Body::Unknown { code: unknown_code, body: bytes(16) } },
    ]
}

fn forwarding_option() -> impl Strategy<Value = ForwardingOption> {
    strat! { ForwardingOption { option_type: any::<u8>(), flags: any::<u8>(), value: bytes(8) } }
}

/// A header of a whole (unfragmented) message, reserved fragment bits included; `length`
/// is left for the caller to set.
fn forwarding_header() -> impl Strategy<Value = ForwardingHeader> {
    strat! { ForwardingHeader {
        overlay: any::<u32>(),
        configuration_sequence: any::<u16>(),
        version: prop_oneof![Just(VERSION), Just(VERSION_DRAFT)],
        ttl: any::<u8>(),
        fragment: (0u32..64).prop_map(|reserved| UNFRAGMENTED | reserved << 24),
        length: Just(0),
        transaction_id: any::<u64>().prop_map(TransactionId),
        max_response_length: any::<u32>(),
        via_list: small(destination()),
        destination_list: small(destination()),
        options: small(forwarding_option()),
    } }
}

fn message_extension() -> impl Strategy<Value = MessageExtension> {
    let (ext_type, critical) = (any::<u16>(), any::<bool>());
    strat! { MessageExtension { ext_type: ext_type, critical: critical, contents: bytes(16) } }
}

/// A valid message with `header.length` equal to its encoded size.
fn message() -> impl Strategy<Value = Message> {
    let contents =
        strat! { MessageContents { body: body(), extensions: small(message_extension()) } };
    let (header, security) = (forwarding_header(), security_block());
    strat! { Message { header: header, contents: contents, security: security } }.prop_map(
        |mut m| {
            m.header.length = m.encoded_len() as u32;
            m
        },
    )
}

// ----- Helpers -----

fn config() -> ProptestConfig {
    // No regression files: this test must not write into the source tree.
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    }
}

/// Round trip of one `Wire` value, exact `encoded_len`, and rejection of every prefix.
fn wire_round_trip<T: Wire + PartialEq + Clone + Debug>(v: &T) -> Result<(), TestCaseError> {
    let b = v.to_bytes().expect("valid value encodes");
    prop_assert_eq!(b.len(), v.encoded_len());
    prop_assert_eq!(T::from_bytes(&b), Ok(v.clone()));
    let prefix_ok = (0..b.len()).find(|&i| T::from_bytes(&b[..i]).is_ok());
    prop_assert_eq!(prefix_ok, None, "a strict prefix of {:?} decodes", v);
    Ok(())
}

/// `wire_round_trip` on each value.
macro_rules! round_trip_each {
    ($($v:expr),+) => { $(wire_round_trip(&$v)?;)+ };
}

/// Pop `pop` destinations, append `push` to the Via List, decrement the TTL.
fn edit(pop: usize, push: &Destination) -> ForwardEdit<'_> {
    let mut e = ForwardEdit::default();
    (e.pop_destinations, e.push_via, e.decrement_ttl) = (pop, Some(push), true);
    e
}

/// Uses every accessor of a view and forwards it; none may panic.
fn exercise_view(view: &HeaderView<'_>, pop: usize, push: &Destination) {
    let _ = (view.header_len(), view.payload(), view.options_bytes());
    let _ = (view.options(), view.destination_count(), view.via_count());
    let _ = (view.first_destination(), view.via_list());
    let _ = view.destination_list();
    let mut out = Vec::new();
    if view.forward_into(edit(pop, push), &mut out).is_ok() {
        let _ = (Message::decode(&out), HeaderView::parse(&out).is_ok());
    }
}

/// Decodes `bytes` with every entry point; none may panic. Accepted messages must
/// re-encode to exactly `bytes` (the encoding is canonical).
fn decode_everything(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(m) = Message::decode(bytes) {
        let again = m.to_bytes().ok();
        prop_assert_eq!(again.as_deref(), Some(bytes), "non-canonical: {:?}", m);
    }
    let _ = Frame::decode(bytes);
    if let Ok(v) = HeaderView::parse(bytes) {
        exercise_view(&v, 1, &Destination::Compressed(0x8001));
    }
    Ok(())
}

/// A valid 38-byte fixed header announcing `total` bytes and the given list lengths.
fn fixed_header(ttl: u8, total: usize, via: usize, dest: usize, opts: usize) -> Vec<u8> {
    let mut h = ForwardingHeader::new(0x9aa3_2b8d, 22, TransactionId(7), Vec::new());
    h.ttl = ttl;
    let mut b = Vec::new();
    h.encode_with_body_len(total - FIXED_HEADER_LEN, &mut b)
        .unwrap();
    let lens: Vec<u8> = [via, dest, opts]
        .iter()
        .flat_map(|&n| (n as u16).to_be_bytes())
        .collect();
    b[32..38].copy_from_slice(&lens);
    b
}

// ----- Properties -----

proptest! {
    #![proptest_config(config())]

    #[test]
    fn message_round_trips(m in message()) {
        let b = m.to_bytes().expect("valid message encodes");
        prop_assert_eq!(b.len(), m.encoded_len());
        prop_assert_eq!(Message::decode(&b), Ok(m));
    }

    /// Every strict prefix is rejected, also with `length` patched to the prefix's size so
    /// that decoding gets past the length check into the lists, body and security block.
    #[test]
    fn every_strict_prefix_is_rejected(m in message()) {
        let b = m.to_bytes().expect("valid message encodes");
        for i in 0..b.len() {
            prop_assert!(Message::decode(&b[..i]).is_err(), "{}-byte prefix accepted", i);
            prop_assert!(HeaderView::parse(&b[..i]).is_err());
            if i >= 20 {
                let mut p = b[..i].to_vec();
                p[16..20].copy_from_slice(&(i as u32).to_be_bytes());
                prop_assert!(Message::decode(&p).is_err(), "patched {}-byte prefix accepted", i);
            }
        }
    }

    #[test]
    fn single_byte_corruption_never_panics(m in message(), mask in 1u8..=255) {
        let mut b = m.to_bytes().expect("valid message encodes");
        for i in 0..b.len() {
            b[i] ^= mask;
            decode_everything(&b)?;
            b[i] ^= mask;
        }
    }

    #[test]
    fn random_bytes_never_panic(b in vec(any::<u8>(), 0..512)) {
        decode_everything(&b)?;
    }

    /// Random bytes after a valid fixed header whose lengths fit the input.
    #[test]
    fn random_bytes_after_a_valid_fixed_header_never_panic(
        tail in vec(any::<u8>(), 0..512),
        split in any::<(Index, Index, Index)>(),
        ttl in any::<u8>(),
        pop in 0usize..4,
        push in destination(),
    ) {
        let n = tail.len();
        let via = split.0.index(n + 1);
        let dest = split.1.index(n - via + 1);
        let opts = split.2.index(n - via - dest + 1);
        let mut b = fixed_header(ttl, FIXED_HEADER_LEN + n, via, dest, opts);
        b.extend_from_slice(&tail);
        decode_everything(&b)?;
        if let Ok(v) = HeaderView::parse(&b) {
            exercise_view(&v, pop, &push);
        }
        let mut framed = vec![0x80, 0, 0, 0, 7];
        framed.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        framed.extend_from_slice(&b);
        prop_assert_eq!(Frame::decode(&framed), Ok(Frame::Data { sequence: 7, message: &b }));
        for i in 0..framed.len() {
            prop_assert!(Frame::decode(&framed[..i]).is_err());
        }
    }

    /// Random body bytes under every typed message code, in an otherwise valid message.
    #[test]
    fn random_body_under_every_code_never_panics(
        h in forwarding_header(),
        c in select(TYPED_CODES),
        body in vec(any::<u8>(), 0..128),
        sec in security_block(),
    ) {
        let mut rest = c.to_be_bytes().to_vec();
        rest.extend_from_slice(&(body.len() as u32).to_be_bytes());
        rest.extend_from_slice(&body);
        rest.extend_from_slice(&0u32.to_be_bytes());
        sec.encode(&mut rest).expect("valid security block");
        let mut b = Vec::new();
        h.encode_with_body_len(rest.len(), &mut b).expect("valid header");
        b.extend_from_slice(&rest);
        decode_everything(&b)?;
    }

    /// `forward_into` (pop some destinations, push a via entry, decrement TTL) gives the
    /// same bytes as editing the typed header and re-encoding.
    #[test]
    fn forward_fast_path_matches_typed_edit(
        m in message(),
        prev in prop_oneof![node_id().prop_map(Destination::Node), destination()],
        pop in any::<Index>(),
    ) {
        let b = m.to_bytes().expect("valid message encodes");
        let view = HeaderView::parse(&b).expect("valid message parses");
        prop_assert_eq!(view.ttl, m.header.ttl);
        prop_assert_eq!(view.header_len(), m.header.encoded_len());
        prop_assert_eq!(view.via_list(), Ok(m.header.via_list.clone()));
        prop_assert_eq!(view.destination_list(), Ok(m.header.destination_list.clone()));
        prop_assert_eq!(view.options(), Ok(m.header.options.clone()));
        prop_assert_eq!(view.destination_count(), m.header.destination_list.len());
        prop_assert_eq!(view.via_count(), m.header.via_list.len());
        prop_assert_eq!(view.first_destination(), Ok(m.header.destination_list.first().cloned()));

        let pop = pop.index(m.header.destination_list.len() + 1);
        let mut out = Vec::new();
        view.forward_into(edit(pop, &prev), &mut out).expect("forwardable");

        let mut want = m.clone();
        want.header.ttl = m.header.ttl.saturating_sub(1);
        want.header.destination_list.drain(..pop);
        want.header.via_list.push(prev.clone());
        want.header.length = want.encoded_len() as u32;
        prop_assert_eq!(Message::decode(&out), Ok(want.clone()));
        prop_assert_eq!(out, want.to_bytes().expect("encodes"));

        // Popping past the end is an error, not a panic.
        let too_many = edit(m.header.destination_list.len() + 1, &prev);
        prop_assert!(view.forward_into(too_many, &mut Vec::new()).is_err());
    }

    #[test]
    fn wire_structs_round_trip_alone(
        d in destination(),
        cu in chord_update(),
        sip in sip_registration(),
        fr in fetch_req(),
        spec in specifier(),
        ic in ice_candidate(),
        ip in ip_address_port(),
        si in signer_identity(),
        sb in security_block(),
        ext in message_extension(),
    ) {
        round_trip_each!(d, cu, sip, fr, spec, ic, ip, si, sb, ext);
    }

    #[test]
    fn more_wire_structs_round_trip_alone(
        (h, extra) in (forwarding_header(), 0u32..1000),
        ld in leave_data(),
        pi in probe_info(),
        cfg in config_update(),
        dreq in diagnostics_request(),
        dresp in diagnostics_response(),
        single in stored_data(DataModel::Single),
        stat in stat_ans(),
        fetch in fetch_ans(),
        store in store_req(),
        st in any::<(u32, u32, u32)>(),
    ) {
        let mut h = h;
        h.length = (h.encoded_len() as u32).saturating_add(extra);
        let (network_size, join_rate, leave_rate) = st;
        let tuning = SelfTuningData { network_size, join_rate, leave_rate };
        round_trip_each!(h, ld, pi, cfg, dreq, dresp, single, stat, fetch, store, tuning);
    }

    /// Random bytes into the structure decoders that the message tests reach only
    /// through a valid length prefix.
    #[test]
    fn wire_decoders_never_panic_on_random_bytes(b in vec(any::<u8>(), 0..128)) {
        let _ = (Destination::from_bytes(&b), ChordUpdate::from_bytes(&b));
        let _ = (SipRegistration::from_bytes(&b), FetchReq::from_bytes(&b));
        let _ = (IceCandidate::from_bytes(&b), ForwardingHeader::from_bytes(&b));
        let _ = (SecurityBlock::from_bytes(&b), StoreReq::from_bytes(&b), FetchAns::from_bytes(&b));
        let _ = (StatAns::from_bytes(&b), ConfigUpdateReq::from_bytes(&b));
        let _ = (LeaveReq::from_bytes(&b), ProbeAns::from_bytes(&b));
        let _ = (PathTrackReq::from_bytes(&b), PathTrackAns::from_bytes(&b));
    }
}

/// A `Body`'s code with the index of its `ChordUpdateKind` or `ConfigUpdateReq` form;
/// every unknown code maps to `(0, 0)`.
fn variant(b: &Body) -> (u16, usize) {
    let form = match b {
        Body::UpdateReq(u) => match u.kind {
            ChordUpdateKind::PeerReady => 0,
            ChordUpdateKind::Neighbors { .. } => 1,
            ChordUpdateKind::Full { .. } => 2,
        },
        Body::ConfigUpdateReq(c) => match c {
            ConfigUpdateReq::Config(_) => 0,
            ConfigUpdateReq::Kinds(_) => 1,
            ConfigUpdateReq::Unknown { .. } => 2,
        },
        Body::Unknown { .. } => return (0, 0),
        _ => 0,
    };
    (b.code(), form)
}

/// The body strategy reaches every typed code, unknown codes, every form of ChordUpdate
/// and ConfigUpdateReq, and everything `examples::all_messages()` holds.
#[test]
fn body_strategy_covers_every_variant() {
    let mut runner = TestRunner::deterministic();
    let strategy = body();
    let seen: Vec<_> = (0..4000)
        .map(|_| variant(&strategy.new_tree(&mut runner).unwrap().current()))
        .collect();
    let extra = [(code::UPDATE_REQ, 1), (code::UPDATE_REQ, 2), (0, 0)];
    let extra = extra
        .into_iter()
        .chain([(code::CONFIG_UPDATE_REQ, 1), (code::CONFIG_UPDATE_REQ, 2)]);
    let examples = all_messages()
        .into_iter()
        .map(|(_, m)| variant(&m.contents.body));
    for v in TYPED_CODES
        .iter()
        .map(|&c| (c, 0))
        .chain(extra)
        .chain(examples)
    {
        assert!(seen.contains(&v), "{v:x?} never generated");
    }
}

proptest! {
    #![proptest_config(config())]

    /// A stream link's bytes (§6.6.2 over TCP): framed messages cut at any read boundaries
    /// come out as the same frames, and any bytes at all give frames or an error, never a
    /// panic; every frame cut from random bytes is one the frame decoder accepts or refuses
    /// with a typed error.
    #[test]
    fn stream_bytes_split_into_the_frames_sent(
        messages in vec(vec(any::<u8>(), 0..300), 0..8),
        cuts in vec(1usize..64, 1..16),
        junk in vec(any::<u8>(), 0..256),
    ) {
        use reload_sim::io::stream::FrameSplitter;
        use reload_sim::proto::wire::framing::Frame;
        let mut stream = Vec::new();
        let mut sent = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let mut f = Vec::new();
            Frame::Data { sequence: i as u32, message: m }.encode(&mut f).unwrap();
            stream.extend_from_slice(&f);
            sent.push(f);
        }
        let mut s = FrameSplitter::new(300);
        let mut got = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + c).min(stream.len());
            s.push(&stream[at..end]);
            at = end;
            while let Some(f) = s.next_frame().unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(got, sent);
        let mut s = FrameSplitter::new(300);
        s.push(&junk);
        while let Ok(Some(f)) = s.next_frame() {
            let _ = Frame::decode(&f);
        }
    }
}
