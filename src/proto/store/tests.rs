//! Datastore tests (Store side; Fetch/Stat/Find tests are in `query.rs`) and the shared
//! fixtures. Signatures are simulated: a signature value is
//! SHA-1(data signature input, array index zeroed) ‖ Node-ID ‖ user name, and the test
//! verifier recomputes the digest, so tampering with a value or a signer is detected.

use sha1::{Digest, Sha1};

use super::AccessPolicy;
use super::access::{SignerInfo, node_multiple_resource, node_resource};
use super::datastore::{ARRAY_END, DataStore, StoreContext};
use super::kinds::{KindConfig, KindDef};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::security::{
    HASH_SHA256, Signature, SignatureAndHashAlgorithm, SignerIdentity,
};
use crate::proto::wire::storage::{
    ArrayRange, DataModel, DataValue, FetchReq, FindReq, KindId, MetaDataValue, SpecifierIndices,
    StoreKindData, StoreReq, StoredData, StoredDataSpecifier, StoredDataValue,
    data_signature_input,
};
use crate::time::{Duration, Time};

pub(super) const SIP: KindId = KindId::SIP_REGISTRATION;
pub(super) const TURN: KindId = KindId::TURN_SERVICE;
pub(super) const CERT_NODE: KindId = KindId::CERTIFICATE_BY_NODE;
pub(super) const CERT_USER: KindId = KindId::CERTIFICATE_BY_USER;
pub(super) const T0: Time = Time(5_000_000_000);

pub(super) fn alice() -> SignerInfo {
    SignerInfo::new(NodeId(0xa1), "alice@dht.example.com")
}
pub(super) fn alice2() -> SignerInfo {
    SignerInfo::new(NodeId(0xa2), "alice@dht.example.com")
}
pub(super) fn bob() -> SignerInfo {
    SignerInfo::new(NodeId(0xb0), "bob@dht.example.com")
}

pub(super) fn digest(resource: &ResourceId, kind: KindId, d: &StoredData) -> Vec<u8> {
    let input = data_signature_input(
        resource,
        kind,
        d.storage_time,
        &d.value,
        &d.signature.identity,
    )
    .unwrap();
    Sha1::digest(&input).to_vec()
}

pub(super) fn verify(resource: &ResourceId, kind: KindId, d: &StoredData) -> Option<SignerInfo> {
    let v = &d.signature.value;
    if v.len() < 36 || v[..20] != digest(resource, kind, d)[..] {
        return None;
    }
    let node = NodeId::from_octets(v[20..36].try_into().ok()?);
    Some(SignerInfo {
        node_id: node,
        user: ResourceId::from_slice(&v[36..])?,
    })
}

pub(super) fn sd(
    resource: &ResourceId,
    kind: KindId,
    storage_time: u64,
    lifetime: u32,
    value: StoredDataValue,
    by: &SignerInfo,
) -> StoredData {
    let mut d = StoredData {
        storage_time,
        lifetime,
        value,
        signature: Signature {
            algorithm: SignatureAndHashAlgorithm::RSA_SHA256,
            identity: SignerIdentity::CertHash {
                hash_alg: HASH_SHA256,
                hash: by.node_id.octets().to_vec(),
            },
            value: Vec::new(),
        },
    };
    let mut sig = digest(resource, kind, &d);
    sig.extend_from_slice(&by.node_id.octets());
    sig.extend_from_slice(by.user.as_bytes());
    d.signature.value = sig;
    d
}

pub(super) fn dv(bytes: &[u8]) -> DataValue {
    DataValue {
        exists: true,
        value: bytes.to_vec(),
    }
}
pub(super) fn single(bytes: &[u8]) -> StoredDataValue {
    StoredDataValue::Single(dv(bytes))
}
pub(super) fn arr(index: u32, bytes: &[u8]) -> StoredDataValue {
    StoredDataValue::Array {
        index,
        value: dv(bytes),
    }
}
pub(super) fn dict(key: NodeId, bytes: &[u8]) -> StoredDataValue {
    StoredDataValue::Dictionary {
        key: key.octets().to_vec(),
        value: dv(bytes),
    }
}
pub(super) fn tombstone(key: NodeId) -> StoredDataValue {
    StoredDataValue::Dictionary {
        key: key.octets().to_vec(),
        value: DataValue {
            exists: false,
            value: Vec::new(),
        },
    }
}

pub(super) fn kd(kind: KindId, generation: u64, values: Vec<StoredData>) -> StoreKindData {
    StoreKindData {
        kind,
        generation_counter: generation,
        values,
    }
}
pub(super) fn req(
    resource: ResourceId,
    replica_number: u8,
    kind_data: Vec<StoreKindData>,
) -> StoreReq {
    StoreReq {
        resource,
        replica_number,
        kind_data,
    }
}
pub(super) fn ctx(kinds: &KindConfig, signer: Option<SignerInfo>) -> StoreContext<'_> {
    StoreContext {
        signer,
        verify: &verify,
        kinds,
        responsible: true,
        replicas: &[NodeId(7), NodeId(8)],
    }
}

pub(super) fn spec(
    kind: KindId,
    generation: u64,
    indices: SpecifierIndices,
) -> StoredDataSpecifier {
    StoredDataSpecifier {
        kind,
        generation,
        indices,
    }
}
pub(super) fn fetch_req(resource: ResourceId, specifiers: Vec<StoredDataSpecifier>) -> FetchReq {
    FetchReq {
        resource,
        specifiers,
    }
}
pub(super) fn all_keys() -> SpecifierIndices {
    SpecifierIndices::Dictionary(Vec::new())
}
pub(super) fn range(first: u32, last: u32) -> SpecifierIndices {
    SpecifierIndices::Array(vec![ArrayRange { first, last }])
}

/// Values of the first FetchKindResponse.
pub(super) fn fetched(
    s: &DataStore,
    now: Time,
    r: ResourceId,
    sp: StoredDataSpecifier,
) -> Vec<StoredData> {
    let k = KindConfig::standard();
    let mut ans = s.fetch(now, &fetch_req(r, vec![sp]), &k).unwrap();
    assert_eq!(ans.kind_responses.len(), 1);
    ans.kind_responses.remove(0).values
}

/// A store holding alice's registration under key a1 (generation 1).
pub(super) fn with_alice() -> (DataStore, KindConfig, ResourceId) {
    let k = KindConfig::standard();
    let r = alice().user;
    let mut s = DataStore::new();
    let v = sd(&r, SIP, 100, 60, dict(alice().node_id, b"route"), &alice());
    let ans = s
        .store(
            T0,
            &req(r, 0, vec![kd(SIP, 0, vec![v])]),
            &ctx(&k, Some(alice())),
        )
        .unwrap();
    assert_eq!(ans.kind_responses[0].generation_counter, 1);
    assert_eq!(ans.kind_responses[0].replicas, vec![NodeId(7), NodeId(8)]);
    (s, k, r)
}

pub(super) fn assert_code(
    e: Result<impl std::fmt::Debug, ErrorResponse>,
    code: u16,
) -> ErrorResponse {
    let e = e.unwrap_err();
    assert_eq!(e.code, code, "{e:?}");
    e
}

/// Everything observable about alice's registration is as `with_alice` left it.
pub(super) fn assert_alice_unchanged(s: &DataStore, r: ResourceId) {
    assert_eq!(s.len(), 1);
    assert_eq!(s.generation(&r, SIP), 1);
    let v = fetched(s, T0, r, spec(SIP, 0, all_keys()));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].storage_time, 100);
    assert_eq!(v[0].value.data().value, b"route");
}

#[test]
fn forged_signature_is_forbidden_and_changes_nothing() {
    let (mut s, k, r) = with_alice();
    let mut v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"evil"), &alice());
    v.value = dict(alice().node_id, b"evil!"); // signature no longer covers the value
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    );
    assert_code(e, error_code::FORBIDDEN);
    assert_alice_unchanged(&s, r);
    // Anonymous data may never be stored.
    let mut v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"x"), &alice());
    v.signature = Signature::anonymous();
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v.clone()])]),
        &ctx(&k, Some(alice())),
    );
    assert_code(e, error_code::FORBIDDEN);
    // Nor can a non-replica store go unsigned.
    let v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"x"), &alice());
    let e = s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v])]), &ctx(&k, None));
    assert_code(e, error_code::FORBIDDEN);
    assert_alice_unchanged(&s, r);
}

#[test]
fn user_node_match_needs_the_signers_node_id_as_key() {
    let (mut s, k, r) = with_alice();
    // alice signs, but under another device's key.
    let v = sd(&r, SIP, 200, 60, dict(alice2().node_id, b"x"), &alice());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    );
    assert_code(e, error_code::FORBIDDEN);
    // bob signs a value at alice's AOR under his own key.
    let v = sd(&r, SIP, 200, 60, dict(bob().node_id, b"x"), &bob());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(bob())),
    );
    assert_code(e, error_code::FORBIDDEN);
    // alice's value, but the StoreReq is signed by bob (non-replica: both must conform).
    let v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"x"), &alice());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(bob())),
    );
    assert_code(e, error_code::FORBIDDEN);
    assert_alice_unchanged(&s, r);
}

#[test]
fn node_match_and_node_multiple() {
    let k = KindConfig::standard();
    let mut s = DataStore::new();
    let r = node_resource(alice().node_id);
    let v = sd(&r, CERT_NODE, 1, 60, arr(ARRAY_END, b"cert"), &bob());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(CERT_NODE, 0, vec![v])]),
        &ctx(&k, Some(bob())),
    );
    assert_code(e, error_code::FORBIDDEN);
    assert!(s.is_empty());
    let v = sd(&r, CERT_NODE, 1, 60, arr(ARRAY_END, b"cert"), &alice());
    s.store(
        T0,
        &req(r, 0, vec![kd(CERT_NODE, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    )
    .unwrap();
    // TURN-SERVICE: i = 20 is allowed, 21 is not.
    for (i, ok) in [(20, true), (21, false)] {
        let r = node_multiple_resource(bob().node_id, i);
        let v = sd(&r, TURN, 1, 60, single(b"turn"), &bob());
        let res = s.store(
            T0,
            &req(r, 0, vec![kd(TURN, 0, vec![v])]),
            &ctx(&k, Some(bob())),
        );
        assert_eq!(res.is_ok(), ok, "{res:?}");
    }
    assert_eq!(s.len(), 2);
    assert_eq!(s.num_resources(), 2);
}

#[test]
fn placement_and_unknown_kinds() {
    let (mut s, k, r) = with_alice();
    let v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"x"), &alice());
    let mut c = ctx(&k, Some(alice()));
    c.responsible = false;
    let e = s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v.clone()])]), &c);
    assert_code(e, error_code::FORBIDDEN);
    let odd = sd(&r, KindId(0xf000_0009), 1, 60, single(b"?"), &alice());
    let e = s.store(
        T0,
        &req(
            r,
            0,
            vec![
                kd(SIP, 0, vec![v.clone()]),
                kd(KindId(0xf000_0009), 0, vec![odd]),
            ],
        ),
        &ctx(&k, Some(alice())),
    );
    let e = assert_code(e, error_code::UNKNOWN_KIND);
    assert_eq!(
        e.parse_unknown_kinds().unwrap().unwrap(),
        vec![KindId(0xf000_0009)]
    );
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v.clone()]), kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    );
    assert_code(e, error_code::INVALID_MESSAGE);
    let f = fetch_req(r, vec![spec(KindId(99), 0, SpecifierIndices::Single)]);
    assert_code(s.fetch(T0, &f, &k), error_code::UNKNOWN_KIND);
    assert_code(s.stat(T0, &f, &k), error_code::UNKNOWN_KIND);
    let f = fetch_req(r, vec![spec(SIP, 0, SpecifierIndices::Single)]);
    assert_code(s.fetch(T0, &f, &k), error_code::INVALID_MESSAGE);
    assert_alice_unchanged(&s, r);
}

#[test]
fn stale_generation_is_too_low_with_current_counters() {
    let (mut s, k, r) = with_alice();
    let v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"v2"), &alice());
    let ans = s
        .store(
            T0,
            &req(r, 0, vec![kd(SIP, 1, vec![v])]),
            &ctx(&k, Some(alice())),
        )
        .unwrap();
    assert_eq!(ans.kind_responses[0].generation_counter, 2);
    let v = sd(&r, SIP, 300, 60, dict(alice().node_id, b"v3"), &alice());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 1, vec![v])]),
        &ctx(&k, Some(alice())),
    );
    let e = assert_code(e, error_code::GENERATION_COUNTER_TOO_LOW);
    let current = e.parse_store_ans().unwrap().unwrap();
    assert_eq!(current.kind_responses.len(), 1);
    assert_eq!(current.kind_responses[0].kind, SIP);
    assert_eq!(current.kind_responses[0].generation_counter, 2);
    assert!(current.kind_responses[0].replicas.is_empty());
    assert_eq!(s.generation(&r, SIP), 2);
    assert_eq!(
        fetched(&s, T0, r, spec(SIP, 0, all_keys()))[0]
            .value
            .data()
            .value,
        b"v2"
    );
}

#[test]
fn older_storage_time_is_too_old() {
    let (mut s, k, r) = with_alice();
    for t in [99, 100] {
        let v = sd(&r, SIP, t, 60, dict(alice().node_id, b"old"), &alice());
        let e = s.store(
            T0,
            &req(r, 0, vec![kd(SIP, 0, vec![v])]),
            &ctx(&k, Some(alice())),
        );
        assert_code(e, error_code::DATA_TOO_OLD);
    }
    assert_alice_unchanged(&s, r);
    // The identical value again is an accepted no-op: no generation change.
    let v = sd(&r, SIP, 100, 60, dict(alice().node_id, b"route"), &alice());
    let ans = s
        .store(
            T0,
            &req(r, 0, vec![kd(SIP, 0, vec![v])]),
            &ctx(&k, Some(alice())),
        )
        .unwrap();
    assert_eq!(ans.kind_responses[0].generation_counter, 1);
    assert_alice_unchanged(&s, r);
}

#[test]
fn expiry_at_exactly_receipt_plus_lifetime() {
    let (mut s, _k, r) = with_alice();
    let end = T0 + Duration::from_secs(60);
    assert_eq!(s.next_expiry(), Some(end));
    let just_before = Time(end.0 - 1);
    let v = fetched(&s, just_before, r, spec(SIP, 0, all_keys()));
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].lifetime, 0, "under one second left");
    assert_eq!(
        fetched(
            &s,
            T0 + Duration::from_millis(500),
            r,
            spec(SIP, 0, all_keys())
        )[0]
        .lifetime,
        59
    );
    assert_eq!(s.expire(just_before), 0);
    assert_eq!(s.len(), 1);
    // At the expiry instant the value is gone, collected or not.
    assert!(fetched(&s, end, r, spec(SIP, 0, all_keys())).is_empty());
    assert_eq!(s.expire(end), 1);
    assert_eq!((s.len(), s.num_resources(), s.next_expiry()), (0, 0, None));
    assert_eq!(s.generation(&r, SIP), 0);
}

#[test]
fn array_append_gets_the_next_index() {
    let k = KindConfig::standard();
    let r = alice().user;
    let mut s = DataStore::new();
    let a = alice();
    let vals = vec![
        sd(&r, CERT_USER, 1, 60, arr(0, b"c0"), &a),
        sd(&r, CERT_USER, 2, 60, arr(ARRAY_END, b"c1"), &a),
        sd(&r, CERT_USER, 3, 60, arr(ARRAY_END, b"c2"), &a),
    ];
    let ans = s
        .store(
            T0,
            &req(r, 0, vec![kd(CERT_USER, 0, vals)]),
            &ctx(&k, Some(a)),
        )
        .unwrap();
    assert_eq!(
        ans.kind_responses[0].generation_counter, 1,
        "one increment per Kind"
    );
    let v = sd(&r, CERT_USER, 4, 60, arr(ARRAY_END, b"c3"), &a);
    s.store(
        T0,
        &req(r, 0, vec![kd(CERT_USER, 0, vec![v])]),
        &ctx(&k, Some(a)),
    )
    .unwrap();
    assert_eq!(s.generation(&r, CERT_USER), 2);
    let got = fetched(&s, T0, r, spec(CERT_USER, 0, range(0, ARRAY_END)));
    let idx: Vec<(u32, Vec<u8>)> = got
        .iter()
        .map(|d| match &d.value {
            StoredDataValue::Array { index, value } => (*index, value.value.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        idx,
        vec![
            (0, b"c0".to_vec()),
            (1, b"c1".to_vec()),
            (2, b"c2".to_vec()),
            (3, b"c3".to_vec())
        ]
    );
    // Signatures still verify with the real index (signed with index 0).
    assert!(got.iter().all(|d| verify(&r, CERT_USER, d).is_some()));
    // "Last" alone, and a range clipped to the array.
    let last = fetched(&s, T0, r, spec(CERT_USER, 0, range(ARRAY_END, ARRAY_END)));
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].value.data().value, b"c3");
    assert_eq!(
        fetched(&s, T0, r, spec(CERT_USER, 0, range(2, 100))).len(),
        2
    );
    let bad = SpecifierIndices::Array(vec![
        ArrayRange { first: 0, last: 2 },
        ArrayRange { first: 2, last: 3 },
    ]);
    let f = fetch_req(r, vec![spec(CERT_USER, 0, bad)]);
    assert_code(s.fetch(T0, &f, &k), error_code::INVALID_MESSAGE);
}

#[test]
fn failed_request_rolls_back_every_kind() {
    let (mut s, k, r) = with_alice();
    let a = alice();
    let good_cert = sd(&r, CERT_USER, 1, 60, arr(ARRAY_END, b"cert"), &a);
    let good_sip = sd(&r, SIP, 200, 60, dict(a.node_id, b"new"), &a);
    let mut forged = sd(&r, SIP, 201, 60, dict(alice2().node_id, b"x"), &alice2());
    forged.value = dict(alice2().node_id, b"y"); // no longer matches its signature
    let too_old = sd(&r, SIP, 50, 60, dict(a.node_id, b"older"), &a);
    let big = sd(&r, CERT_USER, 2, 60, arr(ARRAY_END, &[0; 9000]), &a);
    let cases = [
        (
            vec![
                kd(CERT_USER, 0, vec![good_cert.clone()]),
                kd(SIP, 0, vec![good_sip.clone(), forged]),
            ],
            error_code::FORBIDDEN,
        ),
        (
            vec![
                kd(CERT_USER, 0, vec![good_cert.clone()]),
                kd(SIP, 0, vec![too_old]),
            ],
            error_code::DATA_TOO_OLD,
        ),
        (
            vec![
                kd(SIP, 0, vec![good_sip.clone()]),
                kd(CERT_USER, 0, vec![good_cert.clone(), big]),
            ],
            error_code::DATA_TOO_LARGE,
        ),
        (
            vec![
                kd(CERT_USER, 0, vec![good_cert.clone()]),
                kd(SIP, 9, vec![good_sip.clone()]),
            ],
            error_code::GENERATION_COUNTER_TOO_LOW,
        ),
    ];
    for (kinds, code) in cases {
        let e = s.store(T0, &req(r, 0, kinds), &ctx(&k, Some(a)));
        assert_code(e, code);
        assert_alice_unchanged(&s, r);
        assert_eq!(s.generation(&r, CERT_USER), 0);
        assert_eq!(s.next_expiry(), Some(T0 + Duration::from_secs(60)));
    }
    // The same request without the bad value succeeds for both Kinds.
    let ans = s
        .store(
            T0,
            &req(
                r,
                0,
                vec![
                    kd(CERT_USER, 0, vec![good_cert]),
                    kd(SIP, 1, vec![good_sip]),
                ],
            ),
            &ctx(&k, Some(a)),
        )
        .unwrap();
    let gens: Vec<(KindId, u64)> = ans
        .kind_responses
        .iter()
        .map(|k| (k.kind, k.generation_counter))
        .collect();
    assert_eq!(gens, vec![(CERT_USER, 1), (SIP, 2)]);
    assert_eq!(s.len(), 2);
}

#[test]
fn replica_store_copies_generation_and_reduces_lifetime() {
    let (mut s, k, r) = with_alice();
    let v = sd(&r, SIP, 200, 60, dict(alice().node_id, b"v2"), &alice());
    s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    )
    .unwrap();
    assert_eq!(s.generation(&r, SIP), 2);
    let later = T0 + Duration::from_millis(3_500);
    let rep = s.replica_request(later, &r, 1).unwrap();
    assert_eq!(rep.replica_number, 1);
    assert_eq!(rep.kind_data[0].generation_counter, 2);
    assert_eq!(rep.kind_data[0].values[0].lifetime, 56);
    assert_eq!(
        s.resources(later).map(|(id, _)| id).collect::<Vec<_>>(),
        vec![r]
    );
    let mut replica = DataStore::new();
    let ans = replica.store(later, &rep, &ctx(&k, None)).unwrap();
    assert_eq!(ans.kind_responses[0].generation_counter, 2);
    assert_eq!(replica.generation(&r, SIP), 2);
    assert_eq!(replica.next_expiry(), Some(later + Duration::from_secs(56)));
    let got = fetched(&replica, later, r, spec(SIP, 0, all_keys()));
    assert_eq!(got[0].value.data().value, b"v2");
    assert_eq!(
        got[0].signature,
        fetched(&s, later, r, spec(SIP, 0, all_keys()))[0].signature
    );
    // Re-replicating the same data is accepted; a lower copied counter is taken as is.
    let mut again = rep.clone();
    again.kind_data[0].generation_counter = 1;
    replica.store(later, &again, &ctx(&k, None)).unwrap();
    assert_eq!(replica.generation(&r, SIP), 1);
    assert_eq!(replica.len(), 1);
    // Replicas must not use generation 0; their data signatures are still checked.
    let mut zero = rep.clone();
    zero.kind_data[0].generation_counter = 0;
    assert_code(
        replica.store(later, &zero, &ctx(&k, None)),
        error_code::INVALID_MESSAGE,
    );
    let mut forged = rep;
    forged.kind_data[0].values[0].storage_time += 1;
    assert_code(
        replica.store(later, &forged, &ctx(&k, None)),
        error_code::FORBIDDEN,
    );
}

#[test]
fn max_count_and_max_size() {
    let small = KindConfig::standard()
        .with(KindDef::new(
            SIP,
            "SIP-REGISTRATION",
            DataModel::Dictionary,
            AccessPolicy::UserNodeMatch,
            2,
            8,
        ))
        .unwrap();
    let (mut s, _k, r) = with_alice();
    let c = |who: SignerInfo| ctx(&small, Some(who));
    let v = sd(
        &r,
        SIP,
        100,
        60,
        dict(alice2().node_id, b"123456789"),
        &alice2(),
    );
    let e = s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v])]), &c(alice2()));
    assert_code(e, error_code::DATA_TOO_LARGE);
    let v = sd(
        &r,
        SIP,
        100,
        60,
        dict(alice2().node_id, b"12345678"),
        &alice2(),
    );
    s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v])]), &c(alice2()))
        .unwrap();
    let a3 = SignerInfo {
        node_id: NodeId(0xa3),
        user: alice().user,
    };
    let v = sd(&r, SIP, 100, 60, dict(a3.node_id, b"x"), &a3);
    let e = s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v])]), &c(a3));
    assert_code(e, error_code::DATA_TOO_LARGE);
    // Replacing an existing key does not add to the count.
    let v = sd(&r, SIP, 101, 60, dict(alice().node_id, b"y"), &alice());
    s.store(T0, &req(r, 0, vec![kd(SIP, 0, vec![v])]), &c(alice()))
        .unwrap();
    assert_eq!(s.len(), 2);
    // An array's count is its length: index 16 needs 17 slots > max-count 16.
    let k = KindConfig::standard();
    let v = sd(&r, CERT_USER, 1, 60, arr(16, b"c"), &alice());
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(CERT_USER, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    );
    assert_code(e, error_code::DATA_TOO_LARGE);
    let v = sd(&r, CERT_USER, 1, 60, arr(15, b"c"), &alice());
    s.store(
        T0,
        &req(r, 0, vec![kd(CERT_USER, 0, vec![v])]),
        &ctx(&k, Some(alice())),
    )
    .unwrap();
}

#[test]
fn tombstones_are_stored_fetched_and_replaced() {
    let (mut s, k, r) = with_alice();
    let a = alice();
    let del = sd(&r, SIP, 200, 120, tombstone(a.node_id), &a);
    s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![del.clone()])]),
        &ctx(&k, Some(a)),
    )
    .unwrap();
    assert_eq!((s.len(), s.generation(&r, SIP)), (1, 2));
    let got = fetched(&s, T0, r, spec(SIP, 0, all_keys()));
    assert_eq!(got, vec![del.clone()]);
    assert!(!got[0].value.data().exists);
    assert_ne!(
        got[0].signature,
        Signature::anonymous(),
        "a tombstone keeps its signature"
    );
    // Deleted data is not found, and the old value cannot come back.
    let fr = FindReq {
        resource: r,
        kinds: vec![SIP],
    };
    assert_eq!(
        s.find(T0, &fr, &k).unwrap().results[0].closest,
        ResourceId::from_slice(&[]).unwrap()
    );
    let old = sd(&r, SIP, 100, 60, dict(a.node_id, b"route"), &a);
    let e = s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![old])]),
        &ctx(&k, Some(a)),
    );
    assert_code(e, error_code::DATA_TOO_OLD);
    let st = s
        .stat(T0, &fetch_req(r, vec![spec(SIP, 0, all_keys())]), &k)
        .unwrap();
    let MetaDataValue::Dictionary { value, .. } = &st.kind_responses[0].values[0].metadata else {
        panic!()
    };
    assert!(!value.exists);
    // The tombstone is exported for replication like any value.
    assert_eq!(s.export(T0, &r)[0].values, vec![del]);
    let new = sd(&r, SIP, 300, 60, dict(a.node_id, b"back"), &a);
    s.store(
        T0,
        &req(r, 0, vec![kd(SIP, 0, vec![new])]),
        &ctx(&k, Some(a)),
    )
    .unwrap();
    let got = fetched(&s, T0, r, spec(SIP, 0, all_keys()));
    assert!(got[0].value.data().exists);
    assert_eq!(got[0].value.data().value, b"back");
    assert_eq!(s.find(T0, &fr, &k).unwrap().results[0].closest, r);
    // The later expiry of the replaced tombstone no longer counts.
    assert_eq!(s.next_expiry(), Some(T0 + Duration::from_secs(60)));
}

#[test]
fn remove_drops_a_resource() {
    let (mut s, _k, r) = with_alice();
    assert_eq!(s.resource_ids().copied().collect::<Vec<_>>(), vec![r]);
    assert_eq!(s.remove(&r), 1);
    assert_eq!(s.remove(&r), 0);
    assert_eq!((s.len(), s.num_resources(), s.next_expiry()), (0, 0, None));
    assert!(s.replica_request(T0, &r, 1).is_none());
}

/// §6.3.3.1: Error_Invalid_Message "SHOULD be accompanied by a meaningful error_info": a
/// Kind twice, a value of the wrong data model and a replica with generation counter 0
/// each say what is wrong.
#[test]
fn invalid_stores_say_what_is_wrong() {
    let (mut s, k, r) = with_alice();
    let a = alice();
    let v = sd(&r, SIP, 200, 60, dict(a.node_id, b"x"), &a);
    let wrong = sd(&r, SIP, 201, 60, single(b"x"), &a);
    let cases = [
        (
            req(
                r,
                0,
                vec![kd(SIP, 0, vec![v.clone()]), kd(SIP, 0, vec![v.clone()])],
            ),
            Some(a),
            "Kind-ID appears twice in StoreReq",
        ),
        (
            req(r, 0, vec![kd(SIP, 0, vec![wrong])]),
            Some(a),
            "value does not match the Kind's data model",
        ),
        (
            req(r, 1, vec![kd(SIP, 0, vec![v])]),
            None,
            "replica store with generation counter 0",
        ),
    ];
    for (request, signer, text) in cases {
        let e = assert_code(
            s.store(T0, &request, &ctx(&k, signer)),
            error_code::INVALID_MESSAGE,
        );
        assert_eq!(String::from_utf8_lossy(&e.info), text);
    }
    assert_alice_unchanged(&s, r);
}
