//! Fetch, Stat and Find (RFC 6940 §7.4.2–§7.4.4) over a [`DataStore`]: read-only
//! queries, answered at a given virtual time so that expired values are never returned.

use sha1::{Digest, Sha1};

use super::datastore::{
    ARRAY_END, DataStore, Entry, KindData, Slot, invalid, unknown_kinds, unknown_kinds_error,
};
use super::kinds::KindConfig;
use crate::proto::id::ResourceId;
use crate::proto::wire::error_response::ErrorResponse;
use crate::proto::wire::security::{HASH_SHA1, Signature};
use crate::proto::wire::storage::{
    ArrayRange, DataModel, FetchAns, FetchKindResponse, FetchReq, FindAns, FindKindData, FindReq,
    KindId, MetaData, MetaDataValue, SpecifierIndices, StatAns, StatKindResponse, StoredData,
    StoredDataSpecifier, StoredDataValue, StoredMetaData,
};
use crate::time::Time;

impl DataStore {
    /// Rejects unknown Kinds (Error_Unknown_Kind), specifiers that do not match the
    /// Kind's model, and array ranges with first > last or overlapping
    /// (Error_Invalid_Message) (§7.4.2.1).
    fn check_specifiers(
        specifiers: &[StoredDataSpecifier],
        kinds: &KindConfig,
    ) -> Result<(), ErrorResponse> {
        let unknown = unknown_kinds(specifiers.iter().map(|s| s.kind), kinds);
        if !unknown.is_empty() {
            return Err(unknown_kinds_error(&unknown));
        }
        for s in specifiers {
            let model = kinds.get(s.kind).map(|d| d.model);
            let ok = matches!(
                (&s.indices, model),
                (SpecifierIndices::Single, Some(DataModel::Single))
                    | (SpecifierIndices::Array(_), Some(DataModel::Array))
                    | (SpecifierIndices::Dictionary(_), Some(DataModel::Dictionary))
            );
            if !ok {
                return Err(invalid("specifier does not match the Kind's data model"));
            }
            if let SpecifierIndices::Array(ranges) = &s.indices {
                let mut sorted: Vec<ArrayRange> = ranges.clone();
                sorted.sort_by_key(|r| (r.first, r.last));
                if sorted.iter().any(|r| r.first > r.last)
                    || sorted.windows(2).any(|w| w[1].first <= w[0].last)
                {
                    return Err(invalid("bad ArrayRange"));
                }
            }
        }
        Ok(())
    }

    /// Fetch and Stat alike (§7.4.2.2, §7.4.3.2): per specifier, in request order, the
    /// Kind, its stored generation (0 if nothing is stored) and `value` of each selected
    /// position, or no values when the specifier's nonzero generation equals the stored
    /// one.
    fn answer_specifiers<T>(
        &self,
        now: Time,
        req: &FetchReq,
        kinds: &KindConfig,
        value: impl Fn(Slot, Option<&Entry>) -> T,
    ) -> Result<Vec<(KindId, u64, Vec<T>)>, ErrorResponse> {
        Self::check_specifiers(&req.specifiers, kinds)?;
        Ok(req
            .specifiers
            .iter()
            .map(|s| {
                let kd = self.kind_data(&req.resource, s.kind);
                let generation = kd.map_or(0, |k| k.generation);
                let values = if s.generation != 0 && s.generation == generation {
                    Vec::new()
                } else {
                    Self::select(kd, &s.indices, now)
                        .into_iter()
                        .map(|(slot, e)| value(slot, e))
                        .collect()
                };
                (s.kind, generation, values)
            })
            .collect())
    }

    /// The positions a specifier selects, each with its live entry if any. Array ranges
    /// are clipped to the array (highest live index); 0xffffffff means the last element.
    /// An empty dictionary key list selects every live entry.
    fn select<'s>(
        kd: Option<&'s KindData>,
        indices: &SpecifierIndices,
        now: Time,
    ) -> Vec<(Slot, Option<&'s Entry>)> {
        let get = |slot: Slot| {
            let e = kd.and_then(|k| k.get_live(&slot, now));
            (slot, e)
        };
        match indices {
            SpecifierIndices::Single => vec![get(Slot::Single)],
            SpecifierIndices::Array(ranges) => {
                let len = kd.map_or(0, |k| k.array_len(now));
                let mut out = Vec::new();
                if len == 0 {
                    return out;
                }
                let last_index = (len - 1) as u32;
                let resolve = |i: u32| if i == ARRAY_END { last_index } else { i };
                for r in ranges {
                    let first = resolve(r.first);
                    let last = resolve(r.last).min(last_index);
                    if first <= last {
                        out.extend((first..=last).map(|i| get(Slot::Index(i))));
                    }
                }
                out
            }
            SpecifierIndices::Dictionary(keys) if keys.is_empty() => kd
                .into_iter()
                .flat_map(|k| k.live(now))
                .map(|(s, e)| (s.clone(), Some(e)))
                .collect(),
            SpecifierIndices::Dictionary(keys) => {
                keys.iter().map(|k| get(Slot::Key(k.0.clone()))).collect()
            }
            SpecifierIndices::Unknown(_) => Vec::new(),
        }
    }

    /// Handles a FetchReq at `now` (§7.4.2). One FetchKindResponse per specifier, in
    /// request order, carrying the stored generation (0 if nothing is stored). If the
    /// specifier's generation is nonzero and equals the stored one, no values are
    /// returned. Returned lifetimes are the whole seconds remaining. Requested positions
    /// without a live value come back as synthesized `exists = false` values with
    /// storage_time 0, lifetime 0 and [`Signature::anonymous`]; tombstones come back as
    /// stored, with their signatures. Expired values are never returned.
    pub fn fetch(
        &self,
        now: Time,
        req: &FetchReq,
        kinds: &KindConfig,
    ) -> Result<FetchAns, ErrorResponse> {
        let kind_responses = self
            .answer_specifiers(now, req, kinds, |slot, e| match e {
                Some(e) => e.outgoing(now),
                None => StoredData {
                    storage_time: 0,
                    lifetime: 0,
                    value: slot.missing(),
                    signature: Signature::anonymous(),
                },
            })?
            .into_iter()
            .map(|(kind, generation, values)| FetchKindResponse {
                kind,
                generation,
                values,
            })
            .collect();
        Ok(FetchAns { kind_responses })
    }

    /// Handles a StatReq at `now` (§7.4.3): the same selection as [`DataStore::fetch`],
    /// with metadata instead of values. `hash_algorithm` is SHA-1 (2), over the
    /// DataValue's value including its 4-byte length prefix; synthesized entries have
    /// exists = false, length 0 and the hash of an empty value.
    pub fn stat(
        &self,
        now: Time,
        req: &FetchReq,
        kinds: &KindConfig,
    ) -> Result<StatAns, ErrorResponse> {
        let kind_responses = self
            .answer_specifiers(now, req, kinds, |slot, e| match e {
                Some(e) => metadata(&e.data.value, e.data.storage_time, e.remaining_secs(now)),
                None => metadata(&slot.missing(), 0, 0),
            })?
            .into_iter()
            .map(|(kind, generation, values)| StatKindResponse {
                kind,
                generation,
                values,
            })
            .collect();
        Ok(StatAns { kind_responses })
    }

    /// Handles a FindReq at `now` (§7.4.4): for each Kind, the first Resource-ID at or
    /// after the requested one in ring order (wrapping) that holds a live value with
    /// `exists = true` of that Kind here. Nothing found, or an unknown Kind, gives the
    /// empty Resource-ID (`00` on the wire, reload-spec.md §15 item 24). A Kind listed
    /// twice → Error_Invalid_Message (§7.4.4.1). Every Kind may be used with Find. The
    /// caller answers Error_Not_Found when not responsible for the Resource-ID.
    pub fn find(
        &self,
        now: Time,
        req: &FindReq,
        kinds: &KindConfig,
    ) -> Result<FindAns, ErrorResponse> {
        for (i, k) in req.kinds.iter().enumerate() {
            if req.kinds[..i].contains(k) {
                return Err(invalid("Kind-ID appears twice in FindReq"));
            }
        }
        let none = ResourceId::from_slice(&[]).expect("an empty Resource-ID always fits");
        let results = req
            .kinds
            .iter()
            .map(|kind| {
                let closest = if kinds.get(*kind).is_none() {
                    none
                } else {
                    self.resources
                        .range(req.resource..)
                        .chain(self.resources.range(..req.resource))
                        .find(|(_, m)| {
                            m.get(kind).is_some_and(|kd| {
                                kd.live(now).any(|(_, e)| e.data.value.data().exists)
                            })
                        })
                        .map_or(none, |(r, _)| *r)
                };
                FindKindData {
                    kind: *kind,
                    closest,
                }
            })
            .collect();
        Ok(FindAns { results })
    }
}

/// SHA-1 over `value.len() as u32` big-endian ‖ value (§7.4.3.2).
pub fn value_hash(value: &[u8]) -> Vec<u8> {
    let mut h = Sha1::new();
    h.update((value.len() as u32).to_be_bytes());
    h.update(value);
    h.finalize().to_vec()
}

fn metadata(value: &StoredDataValue, storage_time: u64, lifetime: u32) -> StoredMetaData {
    let dv = value.data();
    let meta = MetaData {
        exists: dv.exists,
        value_length: dv.value.len() as u32,
        hash_algorithm: HASH_SHA1,
        hash_value: value_hash(&dv.value),
    };
    let metadata = match value {
        StoredDataValue::Single(_) => MetaDataValue::Single(meta),
        StoredDataValue::Array { index, .. } => MetaDataValue::Array {
            index: *index,
            value: meta,
        },
        StoredDataValue::Dictionary { key, .. } => MetaDataValue::Dictionary {
            key: key.clone(),
            value: meta,
        },
    };
    StoredMetaData {
        storage_time,
        lifetime,
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::super::access::node_multiple_resource;
    use super::super::tests::*;
    use super::*;
    use crate::proto::wire::error_response::error_code;
    use crate::proto::wire::security::{SignatureAndHashAlgorithm, SignerIdentity};
    use crate::proto::wire::storage::{DataValue, DictionaryKey, KindId};
    use crate::time::Duration;

    /// §7.4.2.1: in an ArrayRange "first <= last" (MUST); a range with first > last, alone
    /// or beside a good one, and a specifier of the wrong data model are refused with
    /// Error_Invalid_Message saying which (§6.3.3.1: "a meaningful error_info").
    #[test]
    fn a_reversed_array_range_or_a_wrong_model_is_invalid() {
        let (s, k, r) = with_alice();
        let good = ArrayRange { first: 0, last: 2 };
        let reversed = ArrayRange { first: 5, last: 2 };
        for ranges in [vec![reversed], vec![good, reversed]] {
            let f = fetch_req(r, vec![spec(CERT_USER, 0, SpecifierIndices::Array(ranges))]);
            for e in [
                s.fetch(T0, &f, &k).map(|_| ()),
                s.stat(T0, &f, &k).map(|_| ()),
            ] {
                let e = assert_code(e, error_code::INVALID_MESSAGE);
                assert_eq!(e.info, b"bad ArrayRange");
            }
        }
        let f = fetch_req(r, vec![spec(CERT_USER, 0, range(2, 2))]);
        assert!(s.fetch(T0, &f, &k).is_ok(), "first = last is a range");
        let f = fetch_req(r, vec![spec(SIP, 0, SpecifierIndices::Single)]);
        let e = assert_code(s.fetch(T0, &f, &k), error_code::INVALID_MESSAGE);
        assert_eq!(e.info, b"specifier does not match the Kind's data model");
    }

    #[test]
    fn dictionary_wildcard_and_keyed_fetch() {
        let (mut s, k, r) = with_alice();
        let v = sd(&r, SIP, 150, 60, dict(alice2().node_id, b"cell"), &alice2());
        s.store(
            T0,
            &req(r, 0, vec![kd(SIP, 0, vec![v])]),
            &ctx(&k, Some(alice2())),
        )
        .unwrap();
        let all = fetched(&s, T0, r, spec(SIP, 0, all_keys()));
        let vals: Vec<&[u8]> = all
            .iter()
            .map(|d| d.value.data().value.as_slice())
            .collect();
        assert_eq!(
            vals,
            vec![&b"route"[..], &b"cell"[..]],
            "sorted by key a1 < a2"
        );
        let keys = SpecifierIndices::Dictionary(vec![
            DictionaryKey(alice2().node_id.octets().to_vec()),
            DictionaryKey(b"nobody".to_vec()),
        ]);
        let got = fetched(&s, T0, r, spec(SIP, 0, keys));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].value.data().value, b"cell");
        assert_eq!(
            got[1].value,
            StoredDataValue::Dictionary {
                key: b"nobody".to_vec(),
                value: DataValue {
                    exists: false,
                    value: vec![]
                }
            }
        );
        assert_eq!(got[1].signature, Signature::anonymous());
    }

    #[test]
    fn matching_generation_returns_no_values() {
        let (s, k, r) = with_alice();
        let f = fetch_req(
            r,
            vec![spec(SIP, 1, all_keys()), spec(CERT_USER, 7, range(0, 3))],
        );
        let ans = s.fetch(T0, &f, &k).unwrap();
        assert_eq!(ans.kind_responses.len(), 2, "one response per specifier");
        assert_eq!(
            (ans.kind_responses[0].kind, ans.kind_responses[0].generation),
            (SIP, 1)
        );
        assert!(ans.kind_responses[0].values.is_empty());
        assert_eq!(
            (ans.kind_responses[1].kind, ans.kind_responses[1].generation),
            (CERT_USER, 0)
        );
        assert!(ans.kind_responses[1].values.is_empty(), "empty array");
        let st = s
            .stat(T0, &fetch_req(r, vec![spec(SIP, 1, all_keys())]), &k)
            .unwrap();
        assert!(st.kind_responses[0].values.is_empty());
        // A stale generation gets the values.
        assert_eq!(fetched(&s, T0, r, spec(SIP, 5, all_keys())).len(), 1);
    }

    #[test]
    fn missing_values_are_synthesized() {
        let k = KindConfig::standard();
        let r = alice().user;
        let mut s = DataStore::new();
        let v = sd(&r, CERT_USER, 1, 60, arr(2, b"x"), &alice());
        s.store(
            T0,
            &req(r, 0, vec![kd(CERT_USER, 0, vec![v])]),
            &ctx(&k, Some(alice())),
        )
        .unwrap();
        let got = fetched(&s, T0, r, spec(CERT_USER, 0, range(0, ARRAY_END)));
        assert_eq!(got.len(), 3);
        for (i, d) in got.iter().take(2).enumerate() {
            assert_eq!(
                d.value,
                StoredDataValue::Array {
                    index: i as u32,
                    value: DataValue {
                        exists: false,
                        value: vec![]
                    }
                }
            );
            assert_eq!(d.signature.algorithm, SignatureAndHashAlgorithm::ANONYMOUS);
            assert_eq!(d.signature.identity, SignerIdentity::None);
            assert!(d.signature.value.is_empty());
            assert_eq!((d.storage_time, d.lifetime), (0, 0));
        }
        assert!(got[2].value.data().exists);
        // A single value nobody stored.
        let turn = node_multiple_resource(bob().node_id, 1);
        let got = fetched(&s, T0, turn, spec(TURN, 0, SpecifierIndices::Single));
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].value,
            StoredDataValue::Single(DataValue {
                exists: false,
                value: vec![]
            })
        );
    }

    #[test]
    fn stat_hashes_value_with_length_prefix() {
        let (s, k, r) = with_alice();
        let later = T0 + Duration::from_secs(10);
        let st = s
            .stat(later, &fetch_req(r, vec![spec(SIP, 0, all_keys())]), &k)
            .unwrap();
        let kr = &st.kind_responses[0];
        assert_eq!((kr.kind, kr.generation, kr.values.len()), (SIP, 1, 1));
        let m = &kr.values[0];
        assert_eq!((m.storage_time, m.lifetime), (100, 50));
        let MetaDataValue::Dictionary { key, value } = &m.metadata else {
            panic!("{:?}", m.metadata)
        };
        assert_eq!(key, &alice().node_id.octets().to_vec());
        assert!(value.exists);
        assert_eq!(value.value_length, 5);
        assert_eq!(value.hash_algorithm, HASH_SHA1);
        let expected = Sha1::digest(b"\x00\x00\x00\x05route").to_vec();
        assert_eq!(value.hash_value, expected);
        assert_eq!(value_hash(b"route"), expected);
    }

    #[test]
    fn find_returns_the_next_resource_in_ring_order() {
        let k = KindConfig::standard();
        let mut s = DataStore::new();
        let b = bob();
        let mut ids = Vec::new();
        for i in 1..=3 {
            let r = node_multiple_resource(b.node_id, i);
            let v = sd(&r, TURN, 1, 60, single(b"t"), &b);
            s.store(
                T0,
                &req(r, 0, vec![kd(TURN, 0, vec![v])]),
                &ctx(&k, Some(b)),
            )
            .unwrap();
            ids.push(r);
        }
        ids.sort();
        let find = |at: ResourceId, kinds: Vec<KindId>| {
            s.find(
                T0,
                &FindReq {
                    resource: at,
                    kinds,
                },
                &k,
            )
        };
        let empty = ResourceId::from_slice(&[]).unwrap();
        let pos = |r: &ResourceId| r.ring_position().unwrap();
        // Exactly at a stored id, just after it, and past the last (wraps to the first).
        let ans = find(ids[1], vec![TURN]).unwrap();
        assert_eq!(ans.results[0].closest, ids[1]);
        let after = pos(&ids[1]).wrapping_add(1).to_resource_id();
        assert_eq!(find(after, vec![TURN]).unwrap().results[0].closest, ids[2]);
        let past = pos(&ids[2]).wrapping_add(1).to_resource_id();
        assert_eq!(find(past, vec![TURN]).unwrap().results[0].closest, ids[0]);
        // A Kind with nothing stored, and an unknown Kind.
        let ans = find(ids[0], vec![CERT_USER, KindId(0xf000_0042), TURN]).unwrap();
        assert_eq!(ans.results.len(), 3);
        assert_eq!(ans.results[0].closest, empty);
        assert_eq!(ans.results[1].closest, empty);
        assert_eq!(ans.results[2].closest, ids[0]);
        assert_code(find(ids[0], vec![TURN, TURN]), error_code::INVALID_MESSAGE);
        // Expired values are not found.
        let end = T0 + Duration::from_secs(60);
        let ans = s
            .find(
                end,
                &FindReq {
                    resource: ids[0],
                    kinds: vec![TURN],
                },
                &k,
            )
            .unwrap();
        assert_eq!(ans.results[0].closest, empty);
    }
}
