//! Topology, probe, ping and configuration bodies (RFC 6940 §6.4.2, §6.4.2.5, §6.5.3,
//! §6.5.4).

use crate::proto::id::NodeId;
use serde::Serialize;

use super::chord::{ChordLeaveData, put_overlay_data};
use super::codec::{Reader, Wire, get_list, get_opaque, list_len, put_len, put_list, put_opaque};
use super::destination::Destination;
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `JoinReq` (§6.4.2.2.1). CHORD-RELOAD sends no overlay data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JoinReq {
    /// The joining peer; must equal the signer's Node-ID.
    pub joining_peer_id: NodeId,
    /// `opaque overlay_specific_data<0..2^16-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub overlay_specific_data: Vec<u8>,
}

impl Wire for JoinReq {
    fn encoded_len(&self) -> usize {
        16 + 2 + self.overlay_specific_data.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.joining_peer_id.encode(out)?;
        put_opaque(
            out,
            2,
            &self.overlay_specific_data,
            "JoinReq.overlay_specific_data",
        )
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(JoinReq {
            joining_peer_id: NodeId::decode(r)?,
            overlay_specific_data: get_opaque(r, 2, "JoinReq.overlay_specific_data")?,
        })
    }
}

/// `JoinAns` (§6.4.2.2.2).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct JoinAns {
    /// `opaque overlay_specific_data<0..2^16-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub overlay_specific_data: Vec<u8>,
}

impl Wire for JoinAns {
    fn encoded_len(&self) -> usize {
        2 + self.overlay_specific_data.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(
            out,
            2,
            &self.overlay_specific_data,
            "JoinAns.overlay_specific_data",
        )
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(JoinAns {
            overlay_specific_data: get_opaque(r, 2, "JoinAns.overlay_specific_data")?,
        })
    }
}

/// `LeaveReq` (§6.4.2.3) with CHORD-RELOAD's `ChordLeaveData` (§10.9) as its overlay data.
/// `None` stands for empty overlay data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeaveReq {
    /// The leaving peer.
    pub leaving_peer_id: NodeId,
    /// CHORD-RELOAD leave data.
    pub chord: Option<ChordLeaveData>,
}

impl Wire for LeaveReq {
    fn encoded_len(&self) -> usize {
        16 + 2 + self.chord.as_ref().map_or(0, Wire::encoded_len)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.leaving_peer_id.encode(out)?;
        match &self.chord {
            Some(d) => put_overlay_data(out, d),
            None => put_len(out, 2, 0, "LeaveReq.overlay_specific_data"),
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let leaving_peer_id = NodeId::decode(r)?;
        let mut data = r.vector(2, "LeaveReq.overlay_specific_data")?;
        let chord = if data.is_empty() {
            None
        } else {
            Some(ChordLeaveData::decode(&mut data)?)
        };
        data.finish("LeaveReq.overlay_specific_data")?;
        Ok(LeaveReq {
            leaving_peer_id,
            chord,
        })
    }
}

/// `RouteQueryReq` (§6.4.2.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteQueryReq {
    /// Ask the responder to send an Update (type full).
    pub send_update: bool,
    /// The destination asked about.
    pub destination: Destination,
    /// `opaque overlay_specific_data<0..2^16-1>` (empty for CHORD-RELOAD).
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub overlay_specific_data: Vec<u8>,
}

impl Wire for RouteQueryReq {
    fn encoded_len(&self) -> usize {
        1 + self.destination.encoded_len() + 2 + self.overlay_specific_data.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.send_update as u8);
        self.destination.encode(out)?;
        put_opaque(
            out,
            2,
            &self.overlay_specific_data,
            "RouteQueryReq.overlay_specific_data",
        )
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RouteQueryReq {
            send_update: r.boolean("RouteQueryReq.send_update")?,
            destination: Destination::decode(r)?,
            overlay_specific_data: get_opaque(r, 2, "RouteQueryReq.overlay_specific_data")?,
        })
    }
}

/// `ProbeInformationType` codes (§6.4.2.5).
pub mod probe_type {
    /// `responsible_set(1)`.
    pub const RESPONSIBLE_SET: u8 = 1;
    /// `num_resources(2)`.
    pub const NUM_RESOURCES: u8 = 2;
    /// `uptime(3)`.
    pub const UPTIME: u8 = 3;
}

/// `ProbeReq` (§6.4.2.5.1): `ProbeInformationType requested_info<0..2^8-1>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeReq {
    /// Requested information types, one byte each.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub requested_info: Vec<u8>,
}

impl Wire for ProbeReq {
    fn encoded_len(&self) -> usize {
        1 + self.requested_info.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 1, &self.requested_info, "ProbeReq.requested_info")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ProbeReq {
            requested_info: get_opaque(r, 1, "ProbeReq.requested_info")?,
        })
    }
}

/// `ProbeInformation` (§6.4.2.5.2). Unknown types carry a length and are kept as bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeInformation {
    /// Share of the ring this peer is responsible for, in parts per billion.
    ResponsiblePpb(u32),
    /// Distinct Resource-IDs stored.
    NumResources(u32),
    /// Seconds since the peer started.
    Uptime(u32),
    /// Another type, skipped by receivers.
    Unknown {
        /// Type byte.
        info_type: u8,
        /// Value bytes.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        value: Vec<u8>,
    },
}

impl Wire for ProbeInformation {
    fn encoded_len(&self) -> usize {
        2 + match self {
            ProbeInformation::Unknown { value, .. } => value.len(),
            _ => 4,
        }
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (t, v) = match self {
            ProbeInformation::ResponsiblePpb(v) => (probe_type::RESPONSIBLE_SET, v),
            ProbeInformation::NumResources(v) => (probe_type::NUM_RESOURCES, v),
            ProbeInformation::Uptime(v) => (probe_type::UPTIME, v),
            ProbeInformation::Unknown { info_type, value } => {
                out.push(*info_type);
                return put_opaque(out, 1, value, "ProbeInformation.value");
            }
        };
        out.extend_from_slice(&[t, 4]);
        out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u8("ProbeInformation.type")?;
        let mut v = r.vector(1, "ProbeInformation.length")?;
        let info = match t {
            probe_type::RESPONSIBLE_SET => {
                ProbeInformation::ResponsiblePpb(v.u32("ProbeInformation.responsible_ppb")?)
            }
            probe_type::NUM_RESOURCES => {
                ProbeInformation::NumResources(v.u32("ProbeInformation.num_resources")?)
            }
            probe_type::UPTIME => ProbeInformation::Uptime(v.u32("ProbeInformation.uptime")?),
            0 => return Err(v.error("ProbeInformation.type", DecodeErrorKind::InvalidValue(0))),
            _ => {
                let value = v.rest().to_vec();
                v.bytes(value.len(), "ProbeInformation.value")?;
                ProbeInformation::Unknown {
                    info_type: t,
                    value,
                }
            }
        };
        v.finish("ProbeInformation")?;
        Ok(info)
    }
}

/// `ProbeAns` (§6.4.2.5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeAns {
    /// `ProbeInformation probe_info<0..2^16-1>`.
    pub probe_info: Vec<ProbeInformation>,
}

impl Wire for ProbeAns {
    fn encoded_len(&self) -> usize {
        2 + list_len(&self.probe_info)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_list(out, 2, &self.probe_info, "ProbeAns.probe_info")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ProbeAns {
            probe_info: get_list(r, 2, "ProbeAns.probe_info")?,
        })
    }
}

/// `PingReq` (§6.5.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct PingReq {
    /// `opaque padding<0..2^16-1>`, for path MTU probing.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub padding: Vec<u8>,
}

impl Wire for PingReq {
    fn encoded_len(&self) -> usize {
        2 + self.padding.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 2, &self.padding, "PingReq.padding")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PingReq {
            padding: get_opaque(r, 2, "PingReq.padding")?,
        })
    }
}

/// `PingAns` (§6.5.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PingAns {
    /// Random id of this answer.
    pub response_id: u64,
    /// Milliseconds since 1970-01-01 UTC.
    pub time: u64,
}

impl Wire for PingAns {
    fn encoded_len(&self) -> usize {
        16
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.response_id.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PingAns {
            response_id: r.u64("PingAns.response_id")?,
            time: r.u64("PingAns.time")?,
        })
    }
}

/// A `KindDescription`: `opaque<0..2^16-1>` holding a kind-block XML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindDescription(
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")] pub Vec<u8>,
);

impl Wire for KindDescription {
    fn encoded_len(&self) -> usize {
        2 + self.0.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 2, &self.0, "KindDescription")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(KindDescription(get_opaque(r, 2, "KindDescription")?))
    }
}

/// `ConfigUpdateReq` (§6.5.4): `u8 type; u32 length; select { … }`. The u32 `length`
/// counts the rest, including the inner vector's 3-byte prefix (reload-spec.md §15 item 7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigUpdateReq {
    /// `config(1)`: `opaque config_data<0..2^24-1>`, a configuration document.
    Config(#[serde(serialize_with = "crate::proto::wire::codec::ser_text")] Vec<u8>),
    /// `kind(2)`: `KindDescription kinds<0..2^24-1>`.
    Kinds(Vec<KindDescription>),
    /// Another type, kept as bytes.
    Unknown {
        /// Type byte.
        update_type: u8,
        /// The bytes after `length`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        data: Vec<u8>,
    },
}

impl ConfigUpdateReq {
    fn inner_len(&self) -> usize {
        match self {
            ConfigUpdateReq::Config(d) => 3 + d.len(),
            ConfigUpdateReq::Kinds(k) => 3 + list_len(k),
            ConfigUpdateReq::Unknown { data, .. } => data.len(),
        }
    }
}

impl Wire for ConfigUpdateReq {
    fn encoded_len(&self) -> usize {
        5 + self.inner_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = match self {
            ConfigUpdateReq::Config(_) => 1,
            ConfigUpdateReq::Kinds(_) => 2,
            ConfigUpdateReq::Unknown { update_type, .. } => *update_type,
        };
        out.push(t);
        put_len(out, 4, self.inner_len(), "ConfigUpdateReq.length")?;
        match self {
            ConfigUpdateReq::Config(d) => put_opaque(out, 3, d, "ConfigUpdateReq.config_data"),
            ConfigUpdateReq::Kinds(k) => {
                put_len(out, 3, list_len(k), "ConfigUpdateReq.kinds")?;
                for kd in k {
                    kd.encode(out)?;
                }
                Ok(())
            }
            ConfigUpdateReq::Unknown { data, .. } => {
                out.extend_from_slice(data);
                Ok(())
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let t = r.u8("ConfigUpdateReq.type")?;
        let mut v = r.vector(4, "ConfigUpdateReq.length")?;
        let req = match t {
            1 => ConfigUpdateReq::Config(get_opaque(&mut v, 3, "ConfigUpdateReq.config_data")?),
            2 => ConfigUpdateReq::Kinds(get_list(&mut v, 3, "ConfigUpdateReq.kinds")?),
            0 => {
                return Err(DecodeError {
                    what: "ConfigUpdateReq.type",
                    offset: at,
                    kind: DecodeErrorKind::InvalidValue(0),
                });
            }
            _ => {
                let data = v.rest().to_vec();
                v.bytes(data.len(), "ConfigUpdateReq")?;
                ConfigUpdateReq::Unknown {
                    update_type: t,
                    data,
                }
            }
        };
        v.finish("ConfigUpdateReq")?;
        Ok(req)
    }
}
