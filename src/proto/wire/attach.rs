//! Attach and AppAttach bodies with their ICE candidates (RFC 6940 §6.5.1–§6.5.2).

use serde::Serialize;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::codec::{Reader, Wire, get_list, get_opaque, list_len, put_list, put_opaque};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// `IpAddressPort` (§6.3.1): `type u8; length u8; select { ipv4 | ipv6 }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpAddressPort {
    /// An IPv4 address and port (type 1, length 6).
    V4(Ipv4Addr, u16),
    /// An IPv6 address and port (type 2, length 18).
    V6(Ipv6Addr, u16),
    /// Another type, kept as bytes (the length lets receivers skip it).
    Unknown {
        /// Type byte.
        addr_type: u8,
        /// The bytes after `length`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        data: Vec<u8>,
    },
}

impl From<SocketAddr> for IpAddressPort {
    fn from(a: SocketAddr) -> Self {
        match a {
            SocketAddr::V4(a) => IpAddressPort::V4(*a.ip(), a.port()),
            SocketAddr::V6(a) => IpAddressPort::V6(*a.ip(), a.port()),
        }
    }
}

impl Wire for IpAddressPort {
    fn encoded_len(&self) -> usize {
        2 + match self {
            IpAddressPort::V4(..) => 6,
            IpAddressPort::V6(..) => 18,
            IpAddressPort::Unknown { data, .. } => data.len(),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            IpAddressPort::V4(a, p) => {
                out.extend_from_slice(&[1, 6]);
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&p.to_be_bytes());
            }
            IpAddressPort::V6(a, p) => {
                out.extend_from_slice(&[2, 18]);
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&p.to_be_bytes());
            }
            IpAddressPort::Unknown { addr_type, data } => {
                out.push(*addr_type);
                put_opaque(out, 1, data, "IpAddressPort")?;
            }
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.u8("IpAddressPort.type")?;
        let mut v = r.vector(1, "IpAddressPort.length")?;
        let a = match t {
            1 => IpAddressPort::V4(
                Ipv4Addr::from(v.array::<4>("IpAddressPort.ipv4")?),
                v.u16("IpAddressPort.port")?,
            ),
            2 => IpAddressPort::V6(
                Ipv6Addr::from(v.array::<16>("IpAddressPort.ipv6")?),
                v.u16("IpAddressPort.port")?,
            ),
            0 => return Err(v.error("IpAddressPort.type", DecodeErrorKind::InvalidValue(0))),
            _ => {
                let data = v.rest().to_vec();
                v.bytes(data.len(), "IpAddressPort")?;
                IpAddressPort::Unknown { addr_type: t, data }
            }
        };
        v.finish("IpAddressPort")?;
        Ok(a)
    }
}

/// `OverlayLinkType` codes (§6.5.1.1, §14.10).
pub mod overlay_link {
    /// DTLS-UDP-SR.
    pub const DTLS_UDP_SR: u8 = 1;
    /// DTLS-UDP-SR-NO-ICE.
    pub const DTLS_UDP_SR_NO_ICE: u8 = 3;
    /// TLS-TCP-FH-NO-ICE.
    pub const TLS_TCP_FH_NO_ICE: u8 = 4;
}

/// `IceExtension`: `opaque name<0..2^16-1>; opaque value<0..2^16-1>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IceExtension {
    /// Attribute name.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub name: Vec<u8>,
    /// Attribute value.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub value: Vec<u8>,
}

impl Wire for IceExtension {
    fn encoded_len(&self) -> usize {
        4 + self.name.len() + self.value.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 2, &self.name, "IceExtension.name")?;
        put_opaque(out, 2, &self.value, "IceExtension.value")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(IceExtension {
            name: get_opaque(r, 2, "IceExtension.name")?,
            value: get_opaque(r, 2, "IceExtension.value")?,
        })
    }
}

/// `CandType` with its select data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CandType {
    /// `host(1)`.
    Host,
    /// `srflx(2)` with its related address.
    ServerReflexive(IpAddressPort),
    /// `relay(4)` with its related address.
    Relay(IpAddressPort),
}

/// `IceCandidate` (§6.5.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IceCandidate {
    /// Transport address.
    pub addr_port: IpAddressPort,
    /// `OverlayLinkType`, see [`overlay_link`].
    pub overlay_link: u8,
    /// `opaque foundation<0..255>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub foundation: Vec<u8>,
    /// ICE priority.
    pub priority: u32,
    /// Candidate type.
    pub cand_type: CandType,
    /// `IceExtension extensions<0..2^16-1>`.
    pub extensions: Vec<IceExtension>,
}

impl Wire for IceCandidate {
    fn encoded_len(&self) -> usize {
        let rel = match &self.cand_type {
            CandType::Host => 0,
            CandType::ServerReflexive(a) | CandType::Relay(a) => a.encoded_len(),
        };
        self.addr_port.encoded_len()
            + 1
            + 1
            + self.foundation.len()
            + 4
            + 1
            + rel
            + 2
            + list_len(&self.extensions)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.addr_port.encode(out)?;
        out.push(self.overlay_link);
        put_opaque(out, 1, &self.foundation, "IceCandidate.foundation")?;
        out.extend_from_slice(&self.priority.to_be_bytes());
        match &self.cand_type {
            CandType::Host => out.push(1),
            CandType::ServerReflexive(a) => {
                out.push(2);
                a.encode(out)?;
            }
            CandType::Relay(a) => {
                out.push(4);
                a.encode(out)?;
            }
        }
        put_list(out, 2, &self.extensions, "IceCandidate.extensions")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let addr_port = IpAddressPort::decode(r)?;
        let overlay_link = r.u8("IceCandidate.overlay_link")?;
        let foundation = get_opaque(r, 1, "IceCandidate.foundation")?;
        let priority = r.u32("IceCandidate.priority")?;
        let at = r.offset();
        let cand_type = match r.u8("IceCandidate.type")? {
            1 => CandType::Host,
            2 => CandType::ServerReflexive(IpAddressPort::decode(r)?),
            4 => CandType::Relay(IpAddressPort::decode(r)?),
            t => {
                return Err(DecodeError {
                    what: "IceCandidate.type",
                    offset: at,
                    kind: DecodeErrorKind::InvalidValue(t.into()),
                });
            }
        };
        let extensions = get_list(r, 2, "IceCandidate.extensions")?;
        Ok(IceCandidate {
            addr_port,
            overlay_link,
            foundation,
            priority,
            cand_type,
            extensions,
        })
    }
}

/// `AttachReqAns` (§6.5.1.1): the body of both AttachReq and AttachAns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttachReqAns {
    /// ICE username fragment.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub ufrag: Vec<u8>,
    /// ICE password.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub password: Vec<u8>,
    /// "passive" in the request, "active" in the answer.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub role: Vec<u8>,
    /// Candidates (never ICE and No-ICE mixed).
    pub candidates: Vec<IceCandidate>,
    /// Ask the answerer to send an Update once the link is up.
    pub send_update: bool,
}

impl Wire for AttachReqAns {
    fn encoded_len(&self) -> usize {
        3 + self.ufrag.len()
            + self.password.len()
            + self.role.len()
            + 2
            + list_len(&self.candidates)
            + 1
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 1, &self.ufrag, "AttachReqAns.ufrag")?;
        put_opaque(out, 1, &self.password, "AttachReqAns.password")?;
        put_opaque(out, 1, &self.role, "AttachReqAns.role")?;
        put_list(out, 2, &self.candidates, "AttachReqAns.candidates")?;
        out.push(self.send_update as u8);
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AttachReqAns {
            ufrag: get_opaque(r, 1, "AttachReqAns.ufrag")?,
            password: get_opaque(r, 1, "AttachReqAns.password")?,
            role: get_opaque(r, 1, "AttachReqAns.role")?,
            candidates: get_list(r, 2, "AttachReqAns.candidates")?,
            send_update: r.boolean("AttachReqAns.send_update")?,
        })
    }
}

/// Application-IDs for AppAttach (§14.5).
pub mod application {
    /// SIP.
    pub const SIP: u16 = 5060;
    /// SIPS.
    pub const SIPS: u16 = 5061;
}

/// `AppAttachReq` / `AppAttachAns` (§6.5.2): the same layout in both directions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppAttachReqAns {
    /// ICE username fragment.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub ufrag: Vec<u8>,
    /// ICE password.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub password: Vec<u8>,
    /// Application-ID, see [`application`].
    pub application: u16,
    /// ICE role.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub role: Vec<u8>,
    /// Candidates.
    pub candidates: Vec<IceCandidate>,
}

impl Wire for AppAttachReqAns {
    fn encoded_len(&self) -> usize {
        2 + self.ufrag.len()
            + self.password.len()
            + 2
            + 1
            + self.role.len()
            + 2
            + list_len(&self.candidates)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_opaque(out, 1, &self.ufrag, "AppAttachReq.ufrag")?;
        put_opaque(out, 1, &self.password, "AppAttachReq.password")?;
        out.extend_from_slice(&self.application.to_be_bytes());
        put_opaque(out, 1, &self.role, "AppAttachReq.role")?;
        put_list(out, 2, &self.candidates, "AppAttachReq.candidates")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(AppAttachReqAns {
            ufrag: get_opaque(r, 1, "AppAttachReq.ufrag")?,
            password: get_opaque(r, 1, "AppAttachReq.password")?,
            application: r.u16("AppAttachReq.application")?,
            role: get_opaque(r, 1, "AppAttachReq.role")?,
            candidates: get_list(r, 2, "AppAttachReq.candidates")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::wire::codec::parse_hex;

    #[test]
    fn ip_address_port_example() {
        let a = IpAddressPort::V4(Ipv4Addr::new(192, 0, 2, 1), 6084);
        assert_eq!(
            a.to_bytes().unwrap(),
            parse_hex("01 06 c0000201 17c4").unwrap()
        );
        assert_eq!(
            IpAddressPort::from_bytes(&parse_hex("01 06 c0000201 17c4").unwrap()).unwrap(),
            a
        );
        assert!(IpAddressPort::from_bytes(&parse_hex("01 05 c0000201 17").unwrap()).is_err());
        let u = IpAddressPort::from_bytes(&[9, 2, 0xaa, 0xbb]).unwrap();
        assert_eq!(
            u,
            IpAddressPort::Unknown {
                addr_type: 9,
                data: vec![0xaa, 0xbb]
            }
        );
    }

    #[test]
    fn reserved_candidate_type_is_rejected() {
        let c = IceCandidate {
            addr_port: IpAddressPort::V4(Ipv4Addr::LOCALHOST, 1),
            overlay_link: overlay_link::TLS_TCP_FH_NO_ICE,
            foundation: vec![],
            priority: 1,
            cand_type: CandType::Host,
            extensions: vec![],
        };
        let mut b = c.to_bytes().unwrap();
        assert_eq!(IceCandidate::from_bytes(&b).unwrap(), c);
        let type_at = 8 + 1 + 1 + 4;
        b[type_at] = 3;
        assert!(IceCandidate::from_bytes(&b).is_err());
    }
}
