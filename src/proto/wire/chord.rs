//! CHORD-RELOAD overlay-specific data (RFC 6940 §10.7–§10.9).

use crate::proto::id::NodeId;
use serde::Serialize;

use super::codec::{Reader, Wire, get_list, list_len, put_len, put_list};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `ChordUpdate` (§10.7): the UpdateReq body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChordUpdate {
    /// Seconds this peer has been up.
    pub uptime: u32,
    /// The update type and its lists.
    pub kind: ChordUpdateKind,
}

impl ChordUpdate {
    /// Every Node-ID the update names, in list order (predecessors, successors, fingers).
    pub fn node_ids(&self) -> Vec<NodeId> {
        match &self.kind {
            ChordUpdateKind::PeerReady => Vec::new(),
            ChordUpdateKind::Neighbors {
                predecessors,
                successors,
            } => predecessors.iter().chain(successors).copied().collect(),
            ChordUpdateKind::Full {
                predecessors,
                successors,
                fingers,
            } => predecessors
                .iter()
                .chain(successors)
                .chain(fingers)
                .copied()
                .collect(),
        }
    }
}

/// `ChordUpdateType` and its data. Lists are nearest first (predecessors, successors) and
/// numerically ascending (fingers); receivers sort by ring distance (reload-spec.md §15
/// item 18).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChordUpdateKind {
    /// `peer_ready(1)`: "I am a peer, route through me".
    PeerReady,
    /// `neighbors(2)`: the Neighbor Table.
    Neighbors {
        /// Predecessors.
        predecessors: Vec<NodeId>,
        /// Successors.
        successors: Vec<NodeId>,
    },
    /// `full(3)`: the whole Routing Table.
    Full {
        /// Predecessors.
        predecessors: Vec<NodeId>,
        /// Successors.
        successors: Vec<NodeId>,
        /// Fingers.
        fingers: Vec<NodeId>,
    },
}

/// `ChordUpdateType` codes.
pub mod update_type {
    /// `peer_ready(1)`.
    pub const PEER_READY: u8 = 1;
    /// `neighbors(2)`.
    pub const NEIGHBORS: u8 = 2;
    /// `full(3)`.
    pub const FULL: u8 = 3;
}

impl Wire for ChordUpdate {
    fn encoded_len(&self) -> usize {
        5 + match &self.kind {
            ChordUpdateKind::PeerReady => 0,
            ChordUpdateKind::Neighbors {
                predecessors,
                successors,
            } => 4 + list_len(predecessors) + list_len(successors),
            ChordUpdateKind::Full {
                predecessors,
                successors,
                fingers,
            } => 6 + list_len(predecessors) + list_len(successors) + list_len(fingers),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.uptime.to_be_bytes());
        match &self.kind {
            ChordUpdateKind::PeerReady => out.push(update_type::PEER_READY),
            ChordUpdateKind::Neighbors {
                predecessors,
                successors,
            } => {
                out.push(update_type::NEIGHBORS);
                put_list(out, 2, predecessors, "ChordUpdate.predecessors")?;
                put_list(out, 2, successors, "ChordUpdate.successors")?;
            }
            ChordUpdateKind::Full {
                predecessors,
                successors,
                fingers,
            } => {
                out.push(update_type::FULL);
                put_list(out, 2, predecessors, "ChordUpdate.predecessors")?;
                put_list(out, 2, successors, "ChordUpdate.successors")?;
                put_list(out, 2, fingers, "ChordUpdate.fingers")?;
            }
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let uptime = r.u32("ChordUpdate.uptime")?;
        let at = r.offset();
        let kind = match r.u8("ChordUpdate.type")? {
            update_type::PEER_READY => ChordUpdateKind::PeerReady,
            update_type::NEIGHBORS => ChordUpdateKind::Neighbors {
                predecessors: get_list(r, 2, "ChordUpdate.predecessors")?,
                successors: get_list(r, 2, "ChordUpdate.successors")?,
            },
            update_type::FULL => ChordUpdateKind::Full {
                predecessors: get_list(r, 2, "ChordUpdate.predecessors")?,
                successors: get_list(r, 2, "ChordUpdate.successors")?,
                fingers: get_list(r, 2, "ChordUpdate.fingers")?,
            },
            t => {
                return Err(DecodeError {
                    what: "ChordUpdate.type",
                    offset: at,
                    kind: DecodeErrorKind::InvalidValue(t.into()),
                });
            }
        };
        Ok(ChordUpdate { uptime, kind })
    }
}

/// `ChordLeaveData` (§10.9), carried in LeaveReq.overlay_specific_data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChordLeaveData {
    /// `from_succ(1)`: sent to a predecessor, with our successors.
    FromSuccessor(Vec<NodeId>),
    /// `from_pred(2)`: sent to a successor, with our predecessors.
    FromPredecessor(Vec<NodeId>),
}

impl Wire for ChordLeaveData {
    fn encoded_len(&self) -> usize {
        match self {
            ChordLeaveData::FromSuccessor(v) | ChordLeaveData::FromPredecessor(v) => {
                3 + list_len(v)
            }
        }
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (t, v, what) = match self {
            ChordLeaveData::FromSuccessor(v) => (1u8, v, "ChordLeaveData.successors"),
            ChordLeaveData::FromPredecessor(v) => (2u8, v, "ChordLeaveData.predecessors"),
        };
        out.push(t);
        put_list(out, 2, v, what)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        match r.u8("ChordLeaveData.type")? {
            1 => Ok(ChordLeaveData::FromSuccessor(get_list(
                r,
                2,
                "ChordLeaveData.successors",
            )?)),
            2 => Ok(ChordLeaveData::FromPredecessor(get_list(
                r,
                2,
                "ChordLeaveData.predecessors",
            )?)),
            t => Err(DecodeError {
                what: "ChordLeaveData.type",
                offset: at,
                kind: DecodeErrorKind::InvalidValue(t.into()),
            }),
        }
    }
}

/// `ChordRouteQueryAns` (§10.8): the RouteQueryAns body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChordRouteQueryAns {
    /// The peer the responder would route to next.
    pub next_peer: NodeId,
}

impl Wire for ChordRouteQueryAns {
    fn encoded_len(&self) -> usize {
        16
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.next_peer.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ChordRouteQueryAns {
            next_peer: NodeId::decode(r)?,
        })
    }
}

/// Encodes `data` as an `opaque overlay_specific_data<0..2^16-1>`.
pub fn put_overlay_data<T: Wire>(out: &mut Vec<u8>, data: &T) -> Result<(), EncodeError> {
    put_len(out, 2, data.encoded_len(), "overlay_specific_data")?;
    data.encode(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::codec::parse_hex;

    #[test]
    fn update_layouts() {
        let u = ChordUpdate {
            uptime: 60,
            kind: ChordUpdateKind::PeerReady,
        };
        assert_eq!(u.to_bytes().unwrap(), parse_hex("0000003c 01").unwrap());
        let u = ChordUpdate {
            uptime: 1,
            kind: ChordUpdateKind::Neighbors {
                predecessors: vec![NodeId(1)],
                successors: vec![],
            },
        };
        let b = u.to_bytes().unwrap();
        assert_eq!(
            b,
            parse_hex("00000001 02 0010 00000000000000000000000000000001 0000").unwrap()
        );
        assert_eq!(ChordUpdate::from_bytes(&b).unwrap(), u);
        // A NodeId list whose byte length is not a multiple of 16.
        assert!(
            ChordUpdate::from_bytes(&parse_hex("00000001 02 0003 aabbcc 0000").unwrap()).is_err()
        );
    }

    #[test]
    fn leave_data_layout() {
        let l = ChordLeaveData::FromPredecessor(vec![NodeId(2)]);
        let b = l.to_bytes().unwrap();
        assert_eq!(
            b,
            parse_hex("02 0010 00000000000000000000000000000002").unwrap()
        );
        assert_eq!(ChordLeaveData::from_bytes(&b).unwrap(), l);
    }
}
