//! Access control policies (RFC 6940 §7.3, RFC 7904 §3.3).
//!
//! "Signer" means the signer of each StoredData and, for non-replica stores, also the
//! signer of the StoreReq: both must satisfy the Kind's policy (§7.3). The identity of a
//! signer is what its (already validated) certificate states: a Node-ID and a user name,
//! see [`SignerInfo`]. The hash is the overlay's, CHORD-RELOAD's SHA-1 truncated to
//! 128 bits ([`ResourceId::hash`]).

use serde::Serialize;

use crate::proto::id::{NodeId, ResourceId};
use crate::proto::wire::storage::StoredDataValue;

/// The access control policy of a Kind (§7.3, §14.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessPolicy {
    /// USER-MATCH (§7.3.1): H(user name) == Resource-ID.
    UserMatch,
    /// NODE-MATCH (§7.3.2): H(Node-ID) == Resource-ID.
    NodeMatch,
    /// USER-NODE-MATCH (§7.3.3, dictionary only): H(user name) == Resource-ID and the
    /// dictionary key is the signer's Node-ID.
    UserNodeMatch,
    /// NODE-MULTIPLE (§7.3.4): H(Node-ID ‖ i) == Resource-ID for some i in `1..=max`,
    /// with i encoded as in [`node_multiple_resource`].
    NodeMultiple {
        /// `max-node-multiple` (≥ 1).
        max: u32,
    },
}

impl AccessPolicy {
    /// The policy's registry name (§14.4).
    pub fn name(self) -> &'static str {
        match self {
            AccessPolicy::UserMatch => "USER-MATCH",
            AccessPolicy::NodeMatch => "NODE-MATCH",
            AccessPolicy::UserNodeMatch => "USER-NODE-MATCH",
            AccessPolicy::NodeMultiple { .. } => "NODE-MULTIPLE",
        }
    }
}

pub use crate::proto::identity::SignerInfo;

/// The Resource-ID USER-MATCH and USER-NODE-MATCH accept for `user`: H(user name bytes).
pub fn user_resource(user: &str) -> ResourceId {
    ResourceId::hash(user.as_bytes())
}

/// The Resource-ID NODE-MATCH accepts for `node`: H(16 raw Node-ID bytes). This is where
/// CERTIFICATE_BY_NODE is stored (§8).
pub fn node_resource(node: NodeId) -> ResourceId {
    ResourceId::hash(&node.octets())
}

/// The i-th Resource-ID NODE-MULTIPLE accepts for `node`: H(16 raw Node-ID bytes ‖ i as a
/// 4-byte big-endian unsigned integer).
///
/// RFC 6940 leaves the encoding of i open (§7.3.4; TURN only says "concatenating its
/// Node-ID and the value d", §9; reload-spec.md §6.2). This crate fixes it as u32
/// big-endian, the width of every other RELOAD counter; TURN-SERVICE stores use the
/// same function for d = 1..=turn-density.
pub fn node_multiple_resource(node: NodeId, i: u32) -> ResourceId {
    let mut name = [0u8; 20];
    name[..16].copy_from_slice(&node.octets());
    name[16..].copy_from_slice(&i.to_be_bytes());
    ResourceId::hash(&name)
}

/// Whether `signer` may write `value` (or, with `None`, anything of a Kind with this
/// policy) at `resource`.
///
/// With `value = None` only the Resource-ID part of the policy is checked; this is used
/// for the StoreReq signer of a Kind whose value list is empty. USER-NODE-MATCH refuses
/// any value that is not a dictionary entry.
pub fn authorized(
    policy: AccessPolicy,
    resource: &ResourceId,
    signer: &SignerInfo,
    value: Option<&StoredDataValue>,
) -> bool {
    match policy {
        AccessPolicy::UserMatch => signer.user == *resource,
        AccessPolicy::NodeMatch => node_resource(signer.node_id) == *resource,
        AccessPolicy::UserNodeMatch => {
            let key_ok = match value {
                None => true,
                Some(StoredDataValue::Dictionary { key, .. }) => {
                    key.as_slice() == signer.node_id.octets().as_slice()
                }
                Some(_) => false,
            };
            key_ok && signer.user == *resource
        }
        AccessPolicy::NodeMultiple { max } => {
            (1..=max).any(|i| node_multiple_resource(signer.node_id, i) == *resource)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::storage::DataValue;

    fn dict(key: &[u8]) -> StoredDataValue {
        StoredDataValue::Dictionary {
            key: key.to_vec(),
            value: DataValue {
                exists: true,
                value: vec![1],
            },
        }
    }

    #[test]
    fn policies() {
        let n = NodeId(0x1234);
        let s = SignerInfo::new(n, "alice@dht.example.com");
        let alice = ResourceId::hash(b"alice@dht.example.com");
        assert_eq!(alice.to_string(), "0c51a942f50c828aef82a5af83e8ed59");
        assert!(authorized(AccessPolicy::UserMatch, &alice, &s, None));
        assert!(!authorized(AccessPolicy::NodeMatch, &alice, &s, None));
        assert!(authorized(
            AccessPolicy::NodeMatch,
            &ResourceId::hash(&n.octets()),
            &s,
            None
        ));
        let good = dict(&n.octets());
        assert!(authorized(
            AccessPolicy::UserNodeMatch,
            &alice,
            &s,
            Some(&good)
        ));
        assert!(!authorized(
            AccessPolicy::UserNodeMatch,
            &alice,
            &s,
            Some(&dict(b"x"))
        ));
        let single = StoredDataValue::Single(DataValue {
            exists: true,
            value: vec![],
        });
        assert!(!authorized(
            AccessPolicy::UserNodeMatch,
            &alice,
            &s,
            Some(&single)
        ));
        let r5 = node_multiple_resource(n, 5);
        let mut input = n.octets().to_vec();
        input.extend_from_slice(&[0, 0, 0, 5]);
        assert_eq!(r5, ResourceId::hash(&input));
        assert!(authorized(
            AccessPolicy::NodeMultiple { max: 5 },
            &r5,
            &s,
            None
        ));
        assert!(!authorized(
            AccessPolicy::NodeMultiple { max: 4 },
            &r5,
            &s,
            None
        ));
        assert!(!authorized(
            AccessPolicy::NodeMultiple { max: 20 },
            &node_multiple_resource(n, 0),
            &s,
            None
        ));
    }
}
