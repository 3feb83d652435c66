//! Kind definitions (RFC 6940 §7.4.5, §11.1 `<kind>`): data model, access policy and the
//! per-Kind limits `max-count` and `max-size`.
//!
//! The data model and the access policy of an IANA-registered Kind are fixed by its
//! registration; `max-count` and `max-size` come from the overlay's configuration document.
//! The RFC gives no defaults for them, so [`KindConfig::standard`] uses the simulator's
//! own (listed on each constant below).

use serde::Serialize;
use thiserror::Error;

use super::access::AccessPolicy;
use crate::proto::wire::storage::{DataModel, KindId, KindModels};

/// Default `max-count` of SIP-REGISTRATION: registered devices (dictionary keys) per AOR.
pub const SIP_REGISTRATION_MAX_COUNT: u32 = 32;
/// Default `max-size` of SIP-REGISTRATION, bytes of `DataValue.value`. A route
/// registration with one Node-ID destination is about 50 bytes; a uri registration is
/// the target AOR plus 3 bytes.
pub const SIP_REGISTRATION_MAX_SIZE: u32 = 1024;
/// `max-node-multiple` of TURN-SERVICE (§9: the example `turn-density` is 20).
pub const TURN_SERVICE_MAX_NODE_MULTIPLE: u32 = 20;
/// Default `max-count` of TURN-SERVICE (single value, so 1).
pub const TURN_SERVICE_MAX_COUNT: u32 = 1;
/// Default `max-size` of TURN-SERVICE, bytes: a TurnServer is at most 1 + 20 bytes
/// (iteration + IPv6 IpAddressPort), rounded up.
pub const TURN_SERVICE_MAX_SIZE: u32 = 64;
/// Default `max-count` of CERTIFICATE_BY_NODE: array length (highest index + 1).
pub const CERTIFICATE_BY_NODE_MAX_COUNT: u32 = 8;
/// Default `max-count` of CERTIFICATE_BY_USER: array length (highest index + 1).
pub const CERTIFICATE_BY_USER_MAX_COUNT: u32 = 16;
/// Default `max-size` of the certificate Kinds, bytes of DER certificate.
pub const CERTIFICATE_MAX_SIZE: u32 = 8192;

/// One Kind as the storing peer knows it (§7.4.5, §11.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindDef {
    /// The Kind-ID.
    pub id: KindId,
    /// Registry or configuration name, e.g. `SIP-REGISTRATION`.
    pub name: String,
    /// Data model (never sent on the wire, §7.2).
    pub model: DataModel,
    /// Access control policy (§7.3).
    pub access: AccessPolicy,
    /// `max-count`: the most values held per Resource-ID for this Kind. Single: at most 1;
    /// array: the array length, highest index + 1, gaps included (a sparse store far past
    /// the end counts as the whole gap); dictionary: the number of keys. Tombstones
    /// (`exists = false`) count as values.
    pub max_count: u32,
    /// `max-size`: the largest `DataValue.value`, in bytes (length prefix excluded).
    pub max_size: u32,
    /// The Node-ID that signed this definition, when it was learnt from a ConfigUpdate
    /// of type `kind` (§6.5.4.2); `None` for the configuration's own Kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<crate::proto::id::NodeId>,
}

impl KindDef {
    /// A Kind definition.
    pub fn new(
        id: KindId,
        name: &str,
        model: DataModel,
        access: AccessPolicy,
        max_count: u32,
        max_size: u32,
    ) -> KindDef {
        KindDef {
            id,
            name: name.to_string(),
            model,
            access,
            max_count,
            max_size,
            signer: None,
        }
    }
}

/// Why a Kind definition was refused by [`KindConfig::insert`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KindError {
    /// Kind-ID 0 (INVALID) and the reserved 0x7fffffff and 0xfffffffe (§14.6).
    #[error("Kind-ID {0:#x} is reserved")]
    Reserved(u32),
    /// USER-NODE-MATCH may be used only with dictionaries (§7.3.3).
    #[error("Kind {0:#x}: USER-NODE-MATCH needs the dictionary data model")]
    UserNodeMatchNeedsDictionary(u32),
    /// `max-node-multiple` must be greater than 0 (§11.1).
    #[error("Kind {0:#x}: max-node-multiple must be at least 1")]
    ZeroNodeMultiple(u32),
    /// A single-value Kind holds one value at most.
    #[error("Kind {0:#x}: a single-value Kind has max-count at most 1")]
    SingleMaxCount(u32),
}

/// True for the private-use Kind-ID range 0xf0000001–0xfffffffd (§14.6; 0xfffffffe is
/// reserved). Such Kinds are defined only in the configuration document (§7.4.5).
pub fn is_private(kind: KindId) -> bool {
    (0xf000_0001..=0xffff_fffd).contains(&kind.0)
}

/// The Kinds an overlay supports: a Vec sorted by Kind-ID, looked up by binary search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindConfig {
    defs: Vec<KindDef>,
}

impl KindConfig {
    /// No Kinds at all.
    pub fn empty() -> KindConfig {
        KindConfig::default()
    }

    /// The Kinds of RFC 6940 and RFC 7904 with the simulator's limits:
    ///
    /// | Kind | ID | model | access | max-count | max-size (bytes) |
    /// |---|---|---|---|---|---|
    /// | SIP-REGISTRATION | 0x1 | dictionary | USER-NODE-MATCH | 32 | 1024 |
    /// | TURN-SERVICE | 0x2 | single | NODE-MULTIPLE (max 20) | 1 | 64 |
    /// | CERTIFICATE_BY_NODE | 0x3 | array | NODE-MATCH | 8 | 8192 |
    /// | CERTIFICATE_BY_USER | 0x10 | array | USER-MATCH | 16 | 8192 |
    pub fn standard() -> KindConfig {
        let defs = vec![
            KindDef::new(
                KindId::SIP_REGISTRATION,
                "SIP-REGISTRATION",
                DataModel::Dictionary,
                AccessPolicy::UserNodeMatch,
                SIP_REGISTRATION_MAX_COUNT,
                SIP_REGISTRATION_MAX_SIZE,
            ),
            KindDef::new(
                KindId::TURN_SERVICE,
                "TURN-SERVICE",
                DataModel::Single,
                AccessPolicy::NodeMultiple {
                    max: TURN_SERVICE_MAX_NODE_MULTIPLE,
                },
                TURN_SERVICE_MAX_COUNT,
                TURN_SERVICE_MAX_SIZE,
            ),
            KindDef::new(
                KindId::CERTIFICATE_BY_NODE,
                "CERTIFICATE_BY_NODE",
                DataModel::Array,
                AccessPolicy::NodeMatch,
                CERTIFICATE_BY_NODE_MAX_COUNT,
                CERTIFICATE_MAX_SIZE,
            ),
            KindDef::new(
                KindId::CERTIFICATE_BY_USER,
                "CERTIFICATE_BY_USER",
                DataModel::Array,
                AccessPolicy::UserMatch,
                CERTIFICATE_BY_USER_MAX_COUNT,
                CERTIFICATE_MAX_SIZE,
            ),
        ];
        KindConfig { defs }
    }

    /// Adds a Kind (for example a private one from the configuration document) or replaces
    /// the definition with the same Kind-ID, which is returned. Refuses reserved IDs and
    /// definitions the RFC forbids.
    pub fn insert(&mut self, def: KindDef) -> Result<Option<KindDef>, KindError> {
        let id = def.id.0;
        if matches!(id, 0 | 0x7fff_ffff | 0xffff_fffe) {
            return Err(KindError::Reserved(id));
        }
        match def.access {
            AccessPolicy::UserNodeMatch if def.model != DataModel::Dictionary => {
                return Err(KindError::UserNodeMatchNeedsDictionary(id));
            }
            AccessPolicy::NodeMultiple { max: 0 } => return Err(KindError::ZeroNodeMultiple(id)),
            _ => {}
        }
        if def.model == DataModel::Single && def.max_count > 1 {
            return Err(KindError::SingleMaxCount(id));
        }
        match self.defs.binary_search_by_key(&def.id, |d| d.id) {
            Ok(i) => Ok(Some(std::mem::replace(&mut self.defs[i], def))),
            Err(i) => {
                self.defs.insert(i, def);
                Ok(None)
            }
        }
    }

    /// Builder form of [`KindConfig::insert`].
    pub fn with(mut self, def: KindDef) -> Result<KindConfig, KindError> {
        self.insert(def)?;
        Ok(self)
    }

    /// The definition of `id`, if known.
    pub fn get(&self, id: KindId) -> Option<&KindDef> {
        self.defs
            .binary_search_by_key(&id, |d| d.id)
            .ok()
            .map(|i| &self.defs[i])
    }

    /// All definitions, by ascending Kind-ID.
    pub fn iter(&self) -> impl Iterator<Item = &KindDef> {
        self.defs.iter()
    }

    /// Number of Kinds.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// True if no Kind is defined.
    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

impl KindModels for KindConfig {
    fn model(&self, kind: KindId) -> Option<DataModel> {
        self.get(kind).map(|d| d.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_config() {
        let k = KindConfig::standard();
        assert_eq!(k.len(), 4);
        assert_eq!(
            k.model(KindId::SIP_REGISTRATION),
            Some(DataModel::Dictionary)
        );
        assert_eq!(k.model(KindId::TURN_SERVICE), Some(DataModel::Single));
        assert_eq!(
            k.get(KindId::TURN_SERVICE).unwrap().access,
            AccessPolicy::NodeMultiple { max: 20 }
        );
        assert_eq!(
            k.get(KindId::CERTIFICATE_BY_NODE).unwrap().access.name(),
            "NODE-MATCH"
        );
        assert_eq!(k.model(KindId::CERTIFICATE_BY_USER), Some(DataModel::Array));
        assert_eq!(k.model(KindId::REDIR), None);
        let private = KindId(0xf000_0001);
        assert!(is_private(private) && !is_private(KindId(0xffff_fffe)));
        let k = k
            .with(KindDef::new(
                private,
                "X",
                DataModel::Single,
                AccessPolicy::NodeMatch,
                1,
                10,
            ))
            .unwrap();
        assert_eq!(
            k.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![
                KindId::SIP_REGISTRATION,
                KindId::TURN_SERVICE,
                KindId::CERTIFICATE_BY_NODE,
                KindId::CERTIFICATE_BY_USER,
                private
            ]
        );
        let mut k = k;
        let bad =
            |id, model, access, count| KindDef::new(KindId(id), "bad", model, access, count, 1);
        assert_eq!(
            k.insert(bad(0, DataModel::Single, AccessPolicy::NodeMatch, 1)),
            Err(KindError::Reserved(0))
        );
        assert_eq!(
            k.insert(bad(9, DataModel::Array, AccessPolicy::UserNodeMatch, 1)),
            Err(KindError::UserNodeMatchNeedsDictionary(9))
        );
        assert_eq!(
            k.insert(bad(
                9,
                DataModel::Single,
                AccessPolicy::NodeMultiple { max: 0 },
                1
            )),
            Err(KindError::ZeroNodeMultiple(9))
        );
        assert_eq!(
            k.insert(bad(9, DataModel::Single, AccessPolicy::NodeMatch, 2)),
            Err(KindError::SingleMaxCount(9))
        );
        let replaced = k
            .insert(KindDef::new(
                private,
                "Y",
                DataModel::Array,
                AccessPolicy::UserMatch,
                3,
                10,
            ))
            .unwrap();
        assert_eq!(replaced.unwrap().name, "X");
        assert_eq!(k.model(private), Some(DataModel::Array));
    }
}
