//! Storage structures and the Store, Fetch, Stat and Find bodies (RFC 6940 §7).
//!
//! The data model of a Kind never travels on the wire (§7.2), so decoding values needs a
//! [`KindModels`] table. [`Wire::decode`] on these types uses [`StandardKinds`]; use the
//! `decode_with` functions for overlays that define private Kinds.

use crate::proto::id::{NodeId, ResourceId};
use serde::Serialize;

use super::codec::{
    Reader, Wire, get_list, get_list_by, get_opaque, list_len, put_len, put_list, put_opaque,
};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use super::security::{Signature, SignerIdentity};

/// A Kind-ID (§7.2, §14.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KindId(pub u32);

impl KindId {
    /// SIP-REGISTRATION (RFC 7904).
    pub const SIP_REGISTRATION: KindId = KindId(0x1);
    /// TURN-SERVICE (§9).
    pub const TURN_SERVICE: KindId = KindId(0x2);
    /// CERTIFICATE_BY_NODE (§8).
    pub const CERTIFICATE_BY_NODE: KindId = KindId(0x3);
    /// CERTIFICATE_BY_USER (§8).
    pub const CERTIFICATE_BY_USER: KindId = KindId(0x10);
    /// REDIR (RFC 7374).
    pub const REDIR: KindId = KindId(0x104);
}

/// The data model of a Kind (§7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataModel {
    /// One value.
    Single,
    /// A sparse array of values.
    Array,
    /// A dictionary of values by key.
    Dictionary,
}

/// Looks up a Kind's data model.
pub trait KindModels {
    /// The model of `kind`, or `None` if it is not known.
    fn model(&self, kind: KindId) -> Option<DataModel>;
}

/// The IANA-registered Kinds (§14.6, RFC 7904, RFC 7374).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct StandardKinds;

impl KindModels for StandardKinds {
    fn model(&self, kind: KindId) -> Option<DataModel> {
        match kind {
            KindId::SIP_REGISTRATION | KindId::REDIR => Some(DataModel::Dictionary),
            KindId::TURN_SERVICE => Some(DataModel::Single),
            KindId::CERTIFICATE_BY_NODE | KindId::CERTIFICATE_BY_USER => Some(DataModel::Array),
            _ => None,
        }
    }
}

/// The standard Kinds plus private ones, for example from an overlay configuration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KindTable {
    extra: Vec<(KindId, DataModel)>,
}

impl KindTable {
    /// Adds or replaces a Kind.
    pub fn insert(&mut self, kind: KindId, model: DataModel) {
        self.extra.retain(|(k, _)| *k != kind);
        self.extra.push((kind, model));
    }
}

impl KindModels for KindTable {
    fn model(&self, kind: KindId) -> Option<DataModel> {
        self.extra
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, m)| *m)
            .or_else(|| StandardKinds.model(kind))
    }
}

fn model_of(
    r: &Reader<'_>,
    kinds: &dyn KindModels,
    kind: KindId,
) -> Result<DataModel, DecodeError> {
    kinds
        .model(kind)
        .ok_or_else(|| r.error("KindId", DecodeErrorKind::UnknownKind(kind.0)))
}

/// `struct { Boolean exists; opaque value<0..2^32-1>; } DataValue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataValue {
    /// False for a deleted or missing value.
    pub exists: bool,
    /// The value bytes.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub value: Vec<u8>,
}

impl Wire for DataValue {
    fn encoded_len(&self) -> usize {
        5 + self.value.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.exists as u8);
        put_opaque(out, 4, &self.value, "DataValue.value")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DataValue {
            exists: r.boolean("DataValue.exists")?,
            value: get_opaque(r, 4, "DataValue.value")?,
        })
    }
}

/// `StoredDataValue`: one of the three data models (§7.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredDataValue {
    /// `single_value_entry`.
    Single(DataValue),
    /// `ArrayEntry`: index 0xffffffff appends (§7.2.2).
    Array {
        /// Array index.
        index: u32,
        /// The value.
        value: DataValue,
    },
    /// `DictionaryEntry`.
    Dictionary {
        /// `DictionaryKey key<0..2^16-1>`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        key: Vec<u8>,
        /// The value.
        value: DataValue,
    },
}

impl StoredDataValue {
    /// The data model this value belongs to.
    pub fn model(&self) -> DataModel {
        match self {
            StoredDataValue::Single(_) => DataModel::Single,
            StoredDataValue::Array { .. } => DataModel::Array,
            StoredDataValue::Dictionary { .. } => DataModel::Dictionary,
        }
    }

    /// The DataValue inside.
    pub fn data(&self) -> &DataValue {
        match self {
            StoredDataValue::Single(v)
            | StoredDataValue::Array { value: v, .. }
            | StoredDataValue::Dictionary { value: v, .. } => v,
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            StoredDataValue::Single(v) => v.encoded_len(),
            StoredDataValue::Array { value, .. } => 4 + value.encoded_len(),
            StoredDataValue::Dictionary { key, value } => 2 + key.len() + value.encoded_len(),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            StoredDataValue::Single(v) => v.encode(out),
            StoredDataValue::Array { index, value } => {
                out.extend_from_slice(&index.to_be_bytes());
                value.encode(out)
            }
            StoredDataValue::Dictionary { key, value } => {
                put_opaque(out, 2, key, "DictionaryEntry.key")?;
                value.encode(out)
            }
        }
    }

    fn decode(r: &mut Reader<'_>, model: DataModel) -> Result<Self, DecodeError> {
        Ok(match model {
            DataModel::Single => StoredDataValue::Single(DataValue::decode(r)?),
            DataModel::Array => StoredDataValue::Array {
                index: r.u32("ArrayEntry.index")?,
                value: DataValue::decode(r)?,
            },
            DataModel::Dictionary => StoredDataValue::Dictionary {
                key: get_opaque(r, 2, "DictionaryEntry.key")?,
                value: DataValue::decode(r)?,
            },
        })
    }
}

/// `StoredData` (§7): one value with its timestamps and signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredData {
    /// Milliseconds since 1970-01-01 UTC; newer replaces older.
    pub storage_time: u64,
    /// Seconds, counted from receipt of the StoreReq.
    pub lifetime: u32,
    /// The value.
    pub value: StoredDataValue,
    /// Signature over resource ‖ kind ‖ storage_time ‖ value ‖ identity (§7.1).
    pub signature: Signature,
}

impl StoredData {
    fn inner_len(&self) -> usize {
        12 + self.value.encoded_len() + self.signature.encoded_len()
    }

    fn decode_model(r: &mut Reader<'_>, model: DataModel) -> Result<Self, DecodeError> {
        let mut body = r.vector(4, "StoredData.length")?;
        let storage_time = body.u64("StoredData.storage_time")?;
        let lifetime = body.u32("StoredData.lifetime")?;
        let value = StoredDataValue::decode(&mut body, model)?;
        let signature = Signature::decode(&mut body)?;
        body.finish("StoredData")?;
        Ok(StoredData {
            storage_time,
            lifetime,
            value,
            signature,
        })
    }
}

impl Wire for StoredData {
    fn encoded_len(&self) -> usize {
        4 + self.inner_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_len(out, 4, self.inner_len(), "StoredData.length")?;
        out.extend_from_slice(&self.storage_time.to_be_bytes());
        out.extend_from_slice(&self.lifetime.to_be_bytes());
        self.value.encode(out)?;
        self.signature.encode(out)
    }
    /// Decodes a single-value StoredData; use the Kind-aware decoders for the others.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_model(r, DataModel::Single)
    }
}

/// The bytes a StoredData signature covers (§7.1): resource_id ‖ kind ‖ storage_time ‖
/// StoredDataValue ‖ SignerIdentity. The Resource-ID is taken as encoded on the wire, with
/// its length byte (reload-spec.md §15 item 9). An array entry is signed with index 0
/// (§7.2.2): an append (0xffffffff) gets its real index only when stored, so signer and
/// verifiers use 0 for every array entry.
pub fn data_signature_input(
    resource: &ResourceId,
    kind: KindId,
    storage_time: u64,
    value: &StoredDataValue,
    identity: &SignerIdentity,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(
        resource.encoded_len() + 12 + value.encoded_len() + identity.encoded_len(),
    );
    resource.encode(&mut out)?;
    out.extend_from_slice(&kind.0.to_be_bytes());
    out.extend_from_slice(&storage_time.to_be_bytes());
    match value {
        StoredDataValue::Array { value, .. } => {
            out.extend_from_slice(&0u32.to_be_bytes());
            value.encode(&mut out)?;
        }
        other => other.encode(&mut out)?,
    }
    identity.encode(&mut out)?;
    Ok(out)
}

fn put_values(
    out: &mut Vec<u8>,
    values: &[StoredData],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_list(out, 4, values, what)
}

fn get_values(
    r: &mut Reader<'_>,
    model: DataModel,
    what: &'static str,
) -> Result<Vec<StoredData>, DecodeError> {
    get_list_by(r, 4, what, |v| StoredData::decode_model(v, model))
}

/// `StoreKindData` (§7.4.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreKindData {
    /// The Kind.
    pub kind: KindId,
    /// Expected generation (0 = do not check).
    pub generation_counter: u64,
    /// Values to store.
    pub values: Vec<StoredData>,
}

impl StoreKindData {
    fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let kind = KindId(r.u32("StoreKindData.kind")?);
        let generation_counter = r.u64("StoreKindData.generation_counter")?;
        let model = model_of(r, kinds, kind)?;
        let values = get_values(r, model, "StoreKindData.values")?;
        Ok(StoreKindData {
            kind,
            generation_counter,
            values,
        })
    }
}

impl Wire for StoreKindData {
    fn encoded_len(&self) -> usize {
        16 + list_len(&self.values)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        out.extend_from_slice(&self.generation_counter.to_be_bytes());
        put_values(out, &self.values, "StoreKindData.values")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `StoreReq` (§7.4.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreReq {
    /// Where to store.
    pub resource: ResourceId,
    /// 0 for an original store, 1, 2, … for replicas.
    pub replica_number: u8,
    /// One entry per Kind.
    pub kind_data: Vec<StoreKindData>,
}

impl StoreReq {
    /// Decodes with the given Kind table.
    pub fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let resource = ResourceId::decode(r)?;
        let replica_number = r.u8("StoreReq.replica_number")?;
        let kind_data = get_list_by(r, 4, "StoreReq.kind_data", |v| {
            StoreKindData::decode_with(v, kinds)
        })?;
        Ok(StoreReq {
            resource,
            replica_number,
            kind_data,
        })
    }
}

impl Wire for StoreReq {
    fn encoded_len(&self) -> usize {
        self.resource.encoded_len() + 1 + 4 + list_len(&self.kind_data)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.resource.encode(out)?;
        out.push(self.replica_number);
        put_list(out, 4, &self.kind_data, "StoreReq.kind_data")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `StoreKindResponse` (§7.4.1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreKindResponse {
    /// The Kind.
    pub kind: KindId,
    /// Generation after the store.
    pub generation_counter: u64,
    /// Node-IDs of the replicas.
    pub replicas: Vec<NodeId>,
}

impl Wire for StoreKindResponse {
    fn encoded_len(&self) -> usize {
        14 + list_len(&self.replicas)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        out.extend_from_slice(&self.generation_counter.to_be_bytes());
        put_list(out, 2, &self.replicas, "StoreKindResponse.replicas")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(StoreKindResponse {
            kind: KindId(r.u32("StoreKindResponse.kind")?),
            generation_counter: r.u64("StoreKindResponse.generation_counter")?,
            replicas: get_list(r, 2, "StoreKindResponse.replicas")?,
        })
    }
}

/// `StoreAns` (§7.4.1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreAns {
    /// One entry per Kind stored.
    pub kind_responses: Vec<StoreKindResponse>,
}

impl Wire for StoreAns {
    fn encoded_len(&self) -> usize {
        2 + list_len(&self.kind_responses)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 2, &self.kind_responses, "StoreAns.kind_responses")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(StoreAns {
            kind_responses: get_list(r, 2, "StoreAns.kind_responses")?,
        })
    }
}

/// `ArrayRange` (§7.4.2.1). On the wire both are u32; 0xffffffff means "last".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ArrayRange {
    /// First index.
    pub first: u32,
    /// Last index (inclusive).
    pub last: u32,
}

impl Wire for ArrayRange {
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.first.to_be_bytes());
        out.extend_from_slice(&self.last.to_be_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ArrayRange {
            first: r.u32("ArrayRange.first")?,
            last: r.u32("ArrayRange.last")?,
        })
    }
}

/// A `DictionaryKey` in a specifier list (`opaque<0..2^16-1>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DictionaryKey(
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")] pub Vec<u8>,
);

impl Wire for DictionaryKey {
    fn encoded_len(&self) -> usize {
        2 + self.0.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 2, &self.0, "DictionaryKey")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DictionaryKey(get_opaque(r, 2, "DictionaryKey")?))
    }
}

/// The model-specific part of a [`StoredDataSpecifier`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecifierIndices {
    /// Single value: nothing.
    Single,
    /// `ArrayRange indices<0..2^16-1>`.
    Array(Vec<ArrayRange>),
    /// `DictionaryKey keys<0..2^16-1>`; empty = every entry (wildcard).
    Dictionary(Vec<DictionaryKey>),
    /// A Kind whose model is not known: the bytes after `length`, kept so they can be skipped.
    Unknown(Vec<u8>),
}

/// `StoredDataSpecifier` (§7.4.2.1). `length` covers the model part including the inner
/// vector's own 2-byte prefix (reload-spec.md §15 item 7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredDataSpecifier {
    /// The Kind.
    pub kind: KindId,
    /// If equal to the stored generation, the answer carries no values.
    pub generation: u64,
    /// Which values.
    pub indices: SpecifierIndices,
}

impl StoredDataSpecifier {
    fn select_len(&self) -> usize {
        match &self.indices {
            SpecifierIndices::Single => 0,
            SpecifierIndices::Array(v) => 2 + list_len(v),
            SpecifierIndices::Dictionary(v) => 2 + list_len(v),
            SpecifierIndices::Unknown(b) => b.len(),
        }
    }

    fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let kind = KindId(r.u32("StoredDataSpecifier.kind")?);
        let generation = r.u64("StoredDataSpecifier.generation")?;
        let mut sel = r.vector(2, "StoredDataSpecifier.length")?;
        let indices = match kinds.model(kind) {
            Some(DataModel::Single) => SpecifierIndices::Single,
            Some(DataModel::Array) => {
                SpecifierIndices::Array(get_list(&mut sel, 2, "StoredDataSpecifier.indices")?)
            }
            Some(DataModel::Dictionary) => {
                SpecifierIndices::Dictionary(get_list(&mut sel, 2, "StoredDataSpecifier.keys")?)
            }
            None => {
                let raw = sel.rest().to_vec();
                sel.bytes(raw.len(), "StoredDataSpecifier")?;
                SpecifierIndices::Unknown(raw)
            }
        };
        sel.finish("StoredDataSpecifier")?;
        Ok(StoredDataSpecifier {
            kind,
            generation,
            indices,
        })
    }
}

impl Wire for StoredDataSpecifier {
    fn encoded_len(&self) -> usize {
        14 + self.select_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        put_len(out, 2, self.select_len(), "StoredDataSpecifier.length")?;
        match &self.indices {
            SpecifierIndices::Single => Ok(()),
            SpecifierIndices::Array(v) => put_list(out, 2, v, "StoredDataSpecifier.indices"),
            SpecifierIndices::Dictionary(v) => put_list(out, 2, v, "StoredDataSpecifier.keys"),
            SpecifierIndices::Unknown(b) => {
                out.extend_from_slice(b);
                Ok(())
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `FetchReq` (§7.4.2.1); StatReq has the same layout (§7.4.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchReq {
    /// Where to fetch from.
    pub resource: ResourceId,
    /// What to fetch.
    pub specifiers: Vec<StoredDataSpecifier>,
}

impl FetchReq {
    /// Decodes with the given Kind table.
    pub fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let resource = ResourceId::decode(r)?;
        let specifiers = get_list_by(r, 2, "FetchReq.specifiers", |v| {
            StoredDataSpecifier::decode_with(v, kinds)
        })?;
        Ok(FetchReq {
            resource,
            specifiers,
        })
    }
}

impl Wire for FetchReq {
    fn encoded_len(&self) -> usize {
        self.resource.encoded_len() + 2 + list_len(&self.specifiers)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.resource.encode(out)?;
        put_list(out, 2, &self.specifiers, "FetchReq.specifiers")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `FetchKindResponse` (§7.4.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchKindResponse {
    /// The Kind.
    pub kind: KindId,
    /// Current generation.
    pub generation: u64,
    /// The values.
    pub values: Vec<StoredData>,
}

impl FetchKindResponse {
    fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let kind = KindId(r.u32("FetchKindResponse.kind")?);
        let generation = r.u64("FetchKindResponse.generation")?;
        let model = model_of(r, kinds, kind)?;
        Ok(FetchKindResponse {
            kind,
            generation,
            values: get_values(r, model, "FetchKindResponse.values")?,
        })
    }
}

impl Wire for FetchKindResponse {
    fn encoded_len(&self) -> usize {
        16 + list_len(&self.values)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        put_values(out, &self.values, "FetchKindResponse.values")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `FetchAns` (§7.4.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FetchAns {
    /// One entry per requested Kind.
    pub kind_responses: Vec<FetchKindResponse>,
}

impl FetchAns {
    /// Decodes with the given Kind table.
    pub fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let kind_responses = get_list_by(r, 4, "FetchAns.kind_responses", |v| {
            FetchKindResponse::decode_with(v, kinds)
        })?;
        Ok(FetchAns { kind_responses })
    }
}

impl Wire for FetchAns {
    fn encoded_len(&self) -> usize {
        4 + list_len(&self.kind_responses)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 4, &self.kind_responses, "FetchAns.kind_responses")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `MetaData` (§7.4.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetaData {
    /// Whether the value exists.
    pub exists: bool,
    /// Length of the value.
    pub value_length: u32,
    /// `HashAlgorithm` of `hash_value`.
    pub hash_algorithm: u8,
    /// Hash over the DataValue's value including its 4-byte length prefix.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub hash_value: Vec<u8>,
}

impl Wire for MetaData {
    fn encoded_len(&self) -> usize {
        7 + self.hash_value.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.exists as u8);
        out.extend_from_slice(&self.value_length.to_be_bytes());
        out.push(self.hash_algorithm);
        put_opaque(out, 1, &self.hash_value, "MetaData.hash_value")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MetaData {
            exists: r.boolean("MetaData.exists")?,
            value_length: r.u32("MetaData.value_length")?,
            hash_algorithm: r.u8("MetaData.hash_algorithm")?,
            hash_value: get_opaque(r, 1, "MetaData.hash_value")?,
        })
    }
}

/// `MetaDataValue` (§7.4.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaDataValue {
    /// `single_value_entry`.
    Single(MetaData),
    /// `ArrayEntryMeta`.
    Array {
        /// Array index.
        index: u32,
        /// Metadata.
        value: MetaData,
    },
    /// `DictionaryEntryMeta`.
    Dictionary {
        /// Dictionary key.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        key: Vec<u8>,
        /// Metadata.
        value: MetaData,
    },
}

/// `StoredMetaData` (§7.4.3.2): like StoredData without the value and signature.
///
/// Its first field, `value_length`, is "the same as the corresponding field in StoredData"
/// (§7.4.3.2), that is StoredData's `length`: the byte count of the rest of the structure.
/// Wireshark reads it the same way. The encoder computes it; the value's own length is in
/// [`MetaData::value_length`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredMetaData {
    /// Milliseconds since 1970.
    pub storage_time: u64,
    /// Seconds.
    pub lifetime: u32,
    /// Model-specific metadata.
    pub metadata: MetaDataValue,
}

impl StoredMetaData {
    fn inner_len(&self) -> usize {
        12 + match &self.metadata {
            MetaDataValue::Single(m) => m.encoded_len(),
            MetaDataValue::Array { value, .. } => 4 + value.encoded_len(),
            MetaDataValue::Dictionary { key, value } => 2 + key.len() + value.encoded_len(),
        }
    }

    fn decode_model(r: &mut Reader<'_>, model: DataModel) -> Result<Self, DecodeError> {
        let mut body = r.vector(4, "StoredMetaData.value_length")?;
        let storage_time = body.u64("StoredMetaData.storage_time")?;
        let lifetime = body.u32("StoredMetaData.lifetime")?;
        let metadata = match model {
            DataModel::Single => MetaDataValue::Single(MetaData::decode(&mut body)?),
            DataModel::Array => MetaDataValue::Array {
                index: body.u32("ArrayEntryMeta.index")?,
                value: MetaData::decode(&mut body)?,
            },
            DataModel::Dictionary => MetaDataValue::Dictionary {
                key: get_opaque(&mut body, 2, "DictionaryEntryMeta.key")?,
                value: MetaData::decode(&mut body)?,
            },
        };
        body.finish("StoredMetaData")?;
        Ok(StoredMetaData {
            storage_time,
            lifetime,
            metadata,
        })
    }
}

impl Wire for StoredMetaData {
    fn encoded_len(&self) -> usize {
        4 + self.inner_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_len(out, 4, self.inner_len(), "StoredMetaData.value_length")?;
        out.extend_from_slice(&self.storage_time.to_be_bytes());
        out.extend_from_slice(&self.lifetime.to_be_bytes());
        match &self.metadata {
            MetaDataValue::Single(m) => m.encode(out),
            MetaDataValue::Array { index, value } => {
                out.extend_from_slice(&index.to_be_bytes());
                value.encode(out)
            }
            MetaDataValue::Dictionary { key, value } => {
                put_opaque(out, 2, key, "DictionaryEntryMeta.key")?;
                value.encode(out)
            }
        }
    }
    /// Decodes single-value metadata; use [`StatAns::decode_with`] for the others.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_model(r, DataModel::Single)
    }
}

/// `StatKindResponse` (§7.4.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatKindResponse {
    /// The Kind.
    pub kind: KindId,
    /// Current generation.
    pub generation: u64,
    /// Metadata per value.
    pub values: Vec<StoredMetaData>,
}

impl Wire for StatKindResponse {
    fn encoded_len(&self) -> usize {
        16 + list_len(&self.values)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        out.extend_from_slice(&self.generation.to_be_bytes());
        put_list(out, 4, &self.values, "StatKindResponse.values")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        StatAns::decode_kind(r, &StandardKinds)
    }
}

/// `StatAns` (§7.4.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatAns {
    /// One entry per requested Kind.
    pub kind_responses: Vec<StatKindResponse>,
}

impl StatAns {
    fn decode_kind(
        r: &mut Reader<'_>,
        kinds: &dyn KindModels,
    ) -> Result<StatKindResponse, DecodeError> {
        let kind = KindId(r.u32("StatKindResponse.kind")?);
        let generation = r.u64("StatKindResponse.generation")?;
        let model = model_of(r, kinds, kind)?;
        let values = get_list_by(r, 4, "StatKindResponse.values", |v| {
            StoredMetaData::decode_model(v, model)
        })?;
        Ok(StatKindResponse {
            kind,
            generation,
            values,
        })
    }

    /// Decodes with the given Kind table.
    pub fn decode_with(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let kind_responses = get_list_by(r, 4, "StatAns.kind_responses", |v| {
            Self::decode_kind(v, kinds)
        })?;
        Ok(StatAns { kind_responses })
    }
}

impl Wire for StatAns {
    fn encoded_len(&self) -> usize {
        4 + list_len(&self.kind_responses)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 4, &self.kind_responses, "StatAns.kind_responses")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_with(r, &StandardKinds)
    }
}

/// `FindReq` (§7.4.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindReq {
    /// Where to search from.
    pub resource: ResourceId,
    /// `KindId kinds<0..2^8-1>`.
    pub kinds: Vec<KindId>,
}

impl Wire for FindReq {
    fn encoded_len(&self) -> usize {
        self.resource.encoded_len() + 1 + 4 * self.kinds.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.resource.encode(out)?;
        put_len(out, 1, 4 * self.kinds.len(), "FindReq.kinds")?;
        for k in &self.kinds {
            out.extend_from_slice(&k.0.to_be_bytes());
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let resource = ResourceId::decode(r)?;
        let kinds = get_list_by(r, 1, "FindReq.kinds", |v| {
            Ok(KindId(v.u32("FindReq.kinds")?))
        })?;
        Ok(FindReq { resource, kinds })
    }
}

/// `FindKindData` (§7.4.4.2). For an unknown Kind `closest` is the empty Resource-ID
/// (`00`, reload-spec.md §15 item 24).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindKindData {
    /// The Kind.
    pub kind: KindId,
    /// Nearest Resource-ID stored here for that Kind.
    pub closest: ResourceId,
}

impl Wire for FindKindData {
    fn encoded_len(&self) -> usize {
        4 + self.closest.encoded_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.0.to_be_bytes());
        self.closest.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FindKindData {
            kind: KindId(r.u32("FindKindData.kind")?),
            closest: ResourceId::decode(r)?,
        })
    }
}

/// `FindAns` (§7.4.4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindAns {
    /// One entry per Kind.
    pub results: Vec<FindKindData>,
}

impl Wire for FindAns {
    fn encoded_len(&self) -> usize {
        2 + list_len(&self.results)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 2, &self.results, "FindAns.results")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(FindAns {
            results: get_list(r, 2, "FindAns.results")?,
        })
    }
}
