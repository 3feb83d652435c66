//! Whole messages: ForwardingHeader ‖ MessageContents ‖ SecurityBlock (RFC 6940 §6.3),
//! message codes (§14.8) and the typed bodies.

use super::attach::{AppAttachReqAns, AttachReqAns};
use super::chord::{ChordRouteQueryAns, ChordUpdate};
use super::codec::{Reader, Wire, get_opaque, list_len, put_len, put_opaque};
use super::diagnostics::{PathTrackAns, PathTrackReq};
use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use super::error_response::ErrorResponse;
use super::header::ForwardingHeader;
use super::security::SecurityBlock;
use super::storage::{
    FetchAns, FetchReq, FindAns, FindReq, KindModels, StandardKinds, StatAns, StoreAns, StoreReq,
};
use super::topology::{
    ConfigUpdateReq, JoinAns, JoinReq, LeaveReq, PingAns, PingReq, ProbeAns, ProbeReq,
    RouteQueryReq,
};
use serde::Serialize;

/// Message codes (§14.8, RFC 7851 §9.3). Requests are odd; an answer is request + 1.
pub mod code {
    #![allow(missing_docs)]
    pub const PROBE_REQ: u16 = 0x01;
    pub const PROBE_ANS: u16 = 0x02;
    pub const ATTACH_REQ: u16 = 0x03;
    pub const ATTACH_ANS: u16 = 0x04;
    pub const STORE_REQ: u16 = 0x07;
    pub const STORE_ANS: u16 = 0x08;
    pub const FETCH_REQ: u16 = 0x09;
    pub const FETCH_ANS: u16 = 0x0a;
    pub const FIND_REQ: u16 = 0x0d;
    pub const FIND_ANS: u16 = 0x0e;
    pub const JOIN_REQ: u16 = 0x0f;
    pub const JOIN_ANS: u16 = 0x10;
    pub const LEAVE_REQ: u16 = 0x11;
    pub const LEAVE_ANS: u16 = 0x12;
    pub const UPDATE_REQ: u16 = 0x13;
    pub const UPDATE_ANS: u16 = 0x14;
    pub const ROUTE_QUERY_REQ: u16 = 0x15;
    pub const ROUTE_QUERY_ANS: u16 = 0x16;
    pub const PING_REQ: u16 = 0x17;
    pub const PING_ANS: u16 = 0x18;
    pub const STAT_REQ: u16 = 0x19;
    pub const STAT_ANS: u16 = 0x1a;
    pub const APP_ATTACH_REQ: u16 = 0x1d;
    pub const APP_ATTACH_ANS: u16 = 0x1e;
    pub const CONFIG_UPDATE_REQ: u16 = 0x21;
    pub const CONFIG_UPDATE_ANS: u16 = 0x22;
    pub const PATH_TRACK_REQ: u16 = 0x27;
    pub const PATH_TRACK_ANS: u16 = 0x28;
    pub const ERROR: u16 = 0xffff;
}

/// The RFC name of a message code (`"fetch_req"`), or `None` if unassigned.
pub fn code_name(c: u16) -> Option<&'static str> {
    use code::*;
    Some(match c {
        PROBE_REQ => "probe_req",
        PROBE_ANS => "probe_ans",
        ATTACH_REQ => "attach_req",
        ATTACH_ANS => "attach_ans",
        STORE_REQ => "store_req",
        STORE_ANS => "store_ans",
        FETCH_REQ => "fetch_req",
        FETCH_ANS => "fetch_ans",
        FIND_REQ => "find_req",
        FIND_ANS => "find_ans",
        JOIN_REQ => "join_req",
        JOIN_ANS => "join_ans",
        LEAVE_REQ => "leave_req",
        LEAVE_ANS => "leave_ans",
        UPDATE_REQ => "update_req",
        UPDATE_ANS => "update_ans",
        ROUTE_QUERY_REQ => "route_query_req",
        ROUTE_QUERY_ANS => "route_query_ans",
        PING_REQ => "ping_req",
        PING_ANS => "ping_ans",
        STAT_REQ => "stat_req",
        STAT_ANS => "stat_ans",
        APP_ATTACH_REQ => "app_attach_req",
        APP_ATTACH_ANS => "app_attach_ans",
        CONFIG_UPDATE_REQ => "config_update_req",
        CONFIG_UPDATE_ANS => "config_update_ans",
        0x23 => "exp_a_req",
        0x24 => "exp_a_ans",
        0x25 => "exp_b_req",
        0x26 => "exp_b_ans",
        PATH_TRACK_REQ => "path_track_req",
        PATH_TRACK_ANS => "path_track_ans",
        ERROR => "error",
        _ => return None,
    })
}

/// True for request codes (odd, below the reserved range).
pub fn is_request(c: u16) -> bool {
    c % 2 == 1 && c < 0x8000
}

/// `MessageExtension` (§6.3.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageExtension {
    /// `MessageExtensionType` (2 Diagnostic_Ping, 3 self_tuning_data).
    pub ext_type: u16,
    /// If set and unknown to the receiver: Error_Unknown_Extension.
    pub critical: bool,
    /// `opaque extension_contents<0..2^32-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub contents: Vec<u8>,
}

/// `MessageExtensionType` codes.
pub mod extension_type {
    /// RFC 7851 Diagnostic_Ping (Ping requests only).
    pub const DIAGNOSTIC_PING: u16 = 0x2;
    /// RFC 7363 self_tuning_data.
    pub const SELF_TUNING_DATA: u16 = 0x3;
}

impl Wire for MessageExtension {
    fn encoded_len(&self) -> usize {
        7 + self.contents.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.ext_type.to_be_bytes());
        out.push(self.critical as u8);
        put_opaque(
            out,
            4,
            &self.contents,
            "MessageExtension.extension_contents",
        )
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(MessageExtension {
            ext_type: r.u16("MessageExtension.type")?,
            critical: r.boolean("MessageExtension.critical")?,
            contents: get_opaque(r, 4, "MessageExtension.extension_contents")?,
        })
    }
}

/// A typed message body, one variant per message code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    ProbeReq(ProbeReq),
    ProbeAns(ProbeAns),
    AttachReq(AttachReqAns),
    AttachAns(AttachReqAns),
    StoreReq(StoreReq),
    StoreAns(StoreAns),
    FetchReq(FetchReq),
    FetchAns(FetchAns),
    FindReq(FindReq),
    FindAns(FindAns),
    JoinReq(JoinReq),
    JoinAns(JoinAns),
    LeaveReq(LeaveReq),
    LeaveAns,
    /// CHORD-RELOAD's UpdateReq body is a `ChordUpdate` (§10.7).
    UpdateReq(ChordUpdate),
    UpdateAns,
    RouteQueryReq(RouteQueryReq),
    /// CHORD-RELOAD's RouteQueryAns body is a `ChordRouteQueryAns` (§10.8).
    RouteQueryAns(ChordRouteQueryAns),
    PingReq(PingReq),
    PingAns(PingAns),
    /// StatReq has the same layout as FetchReq (§7.4.3.1).
    StatReq(FetchReq),
    StatAns(StatAns),
    AppAttachReq(AppAttachReqAns),
    AppAttachAns(AppAttachReqAns),
    ConfigUpdateReq(ConfigUpdateReq),
    ConfigUpdateAns,
    PathTrackReq(PathTrackReq),
    PathTrackAns(PathTrackAns),
    /// An error response (code 0xffff, §6.3.3.1).
    Error(ErrorResponse),
    /// A code this implementation has no body type for; the body is kept as bytes.
    Unknown {
        code: u16,
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        body: Vec<u8>,
    },
}

macro_rules! body_dispatch {
    ($self:expr, $b:ident => $e:expr, empty => $empty:expr, unknown($ub:ident) => $u:expr) => {
        match $self {
            Body::ProbeReq($b) => $e,
            Body::ProbeAns($b) => $e,
            Body::AttachReq($b) | Body::AttachAns($b) => $e,
            Body::StoreReq($b) => $e,
            Body::StoreAns($b) => $e,
            Body::FetchReq($b) | Body::StatReq($b) => $e,
            Body::FetchAns($b) => $e,
            Body::FindReq($b) => $e,
            Body::FindAns($b) => $e,
            Body::JoinReq($b) => $e,
            Body::JoinAns($b) => $e,
            Body::LeaveReq($b) => $e,
            Body::UpdateReq($b) => $e,
            Body::RouteQueryReq($b) => $e,
            Body::RouteQueryAns($b) => $e,
            Body::PingReq($b) => $e,
            Body::PingAns($b) => $e,
            Body::StatAns($b) => $e,
            Body::AppAttachReq($b) | Body::AppAttachAns($b) => $e,
            Body::ConfigUpdateReq($b) => $e,
            Body::PathTrackReq($b) => $e,
            Body::PathTrackAns($b) => $e,
            Body::Error($b) => $e,
            Body::LeaveAns | Body::UpdateAns | Body::ConfigUpdateAns => $empty,
            Body::Unknown { body: $ub, .. } => $u,
        }
    };
}

impl Body {
    /// The message code this body is sent with.
    pub fn code(&self) -> u16 {
        use code::*;
        match self {
            Body::ProbeReq(_) => PROBE_REQ,
            Body::ProbeAns(_) => PROBE_ANS,
            Body::AttachReq(_) => ATTACH_REQ,
            Body::AttachAns(_) => ATTACH_ANS,
            Body::StoreReq(_) => STORE_REQ,
            Body::StoreAns(_) => STORE_ANS,
            Body::FetchReq(_) => FETCH_REQ,
            Body::FetchAns(_) => FETCH_ANS,
            Body::FindReq(_) => FIND_REQ,
            Body::FindAns(_) => FIND_ANS,
            Body::JoinReq(_) => JOIN_REQ,
            Body::JoinAns(_) => JOIN_ANS,
            Body::LeaveReq(_) => LEAVE_REQ,
            Body::LeaveAns => LEAVE_ANS,
            Body::UpdateReq(_) => UPDATE_REQ,
            Body::UpdateAns => UPDATE_ANS,
            Body::RouteQueryReq(_) => ROUTE_QUERY_REQ,
            Body::RouteQueryAns(_) => ROUTE_QUERY_ANS,
            Body::PingReq(_) => PING_REQ,
            Body::PingAns(_) => PING_ANS,
            Body::StatReq(_) => STAT_REQ,
            Body::StatAns(_) => STAT_ANS,
            Body::AppAttachReq(_) => APP_ATTACH_REQ,
            Body::AppAttachAns(_) => APP_ATTACH_ANS,
            Body::ConfigUpdateReq(_) => CONFIG_UPDATE_REQ,
            Body::ConfigUpdateAns => CONFIG_UPDATE_ANS,
            Body::PathTrackReq(_) => PATH_TRACK_REQ,
            Body::PathTrackAns(_) => PATH_TRACK_ANS,
            Body::Error(_) => ERROR,
            Body::Unknown { code, .. } => *code,
        }
    }

    /// Encoded size of the body (without its 4-byte length prefix).
    pub fn encoded_len(&self) -> usize {
        body_dispatch!(self, b => b.encoded_len(), empty => 0, unknown(bytes) => bytes.len())
    }

    /// Appends the body bytes (without the length prefix).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        body_dispatch!(self, b => b.encode(out), empty => Ok(()), unknown(bytes) => {
            out.extend_from_slice(bytes);
            Ok(())
        })
    }

    /// Decodes a body of message code `c`, which must fill `r`. Bodies whose layout depends
    /// on a Kind's data model look it up in `kinds`.
    pub fn decode(c: u16, r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Body, DecodeError> {
        use code::*;
        let body = match c {
            PROBE_REQ => Body::ProbeReq(ProbeReq::decode(r)?),
            PROBE_ANS => Body::ProbeAns(ProbeAns::decode(r)?),
            ATTACH_REQ => Body::AttachReq(AttachReqAns::decode(r)?),
            ATTACH_ANS => Body::AttachAns(AttachReqAns::decode(r)?),
            STORE_REQ => Body::StoreReq(StoreReq::decode_with(r, kinds)?),
            STORE_ANS => Body::StoreAns(StoreAns::decode(r)?),
            FETCH_REQ => Body::FetchReq(FetchReq::decode_with(r, kinds)?),
            FETCH_ANS => Body::FetchAns(FetchAns::decode_with(r, kinds)?),
            FIND_REQ => Body::FindReq(FindReq::decode(r)?),
            FIND_ANS => Body::FindAns(FindAns::decode(r)?),
            JOIN_REQ => Body::JoinReq(JoinReq::decode(r)?),
            JOIN_ANS => Body::JoinAns(JoinAns::decode(r)?),
            LEAVE_REQ => Body::LeaveReq(LeaveReq::decode(r)?),
            LEAVE_ANS => Body::LeaveAns,
            UPDATE_REQ => Body::UpdateReq(ChordUpdate::decode(r)?),
            UPDATE_ANS => Body::UpdateAns,
            ROUTE_QUERY_REQ => Body::RouteQueryReq(RouteQueryReq::decode(r)?),
            ROUTE_QUERY_ANS => Body::RouteQueryAns(ChordRouteQueryAns::decode(r)?),
            PING_REQ => Body::PingReq(PingReq::decode(r)?),
            PING_ANS => Body::PingAns(PingAns::decode(r)?),
            STAT_REQ => Body::StatReq(FetchReq::decode_with(r, kinds)?),
            STAT_ANS => Body::StatAns(StatAns::decode_with(r, kinds)?),
            APP_ATTACH_REQ => Body::AppAttachReq(AppAttachReqAns::decode(r)?),
            APP_ATTACH_ANS => Body::AppAttachAns(AppAttachReqAns::decode(r)?),
            CONFIG_UPDATE_REQ => Body::ConfigUpdateReq(ConfigUpdateReq::decode(r)?),
            CONFIG_UPDATE_ANS => Body::ConfigUpdateAns,
            PATH_TRACK_REQ => Body::PathTrackReq(PathTrackReq::decode(r)?),
            PATH_TRACK_ANS => Body::PathTrackAns(PathTrackAns::decode(r)?),
            ERROR => Body::Error(ErrorResponse::decode(r)?),
            0 | 0x8000..=0xfffe => {
                return Err(r.error(
                    "MessageContents.message_code",
                    DecodeErrorKind::InvalidValue(c.into()),
                ));
            }
            _ => {
                let body = r.rest().to_vec();
                r.bytes(body.len(), "MessageContents.message_body")?;
                Body::Unknown { code: c, body }
            }
        };
        r.finish("MessageContents.message_body")?;
        Ok(body)
    }
}

/// `MessageContents` (§6.3.3): the code (implied by the body), body and extensions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageContents {
    /// The typed body.
    pub body: Body,
    /// `MessageExtension extensions<0..2^32-1>`.
    pub extensions: Vec<MessageExtension>,
}

impl MessageContents {
    /// Contents with no extensions.
    pub fn new(body: Body) -> Self {
        MessageContents {
            body,
            extensions: Vec::new(),
        }
    }

    /// Exact encoded size.
    pub fn encoded_len(&self) -> usize {
        2 + 4 + self.body.encoded_len() + 4 + list_len(&self.extensions)
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.body.code().to_be_bytes());
        put_len(
            out,
            4,
            self.body.encoded_len(),
            "MessageContents.message_body",
        )?;
        self.body.encode(out)?;
        put_len(
            out,
            4,
            list_len(&self.extensions),
            "MessageContents.extensions",
        )?;
        for e in &self.extensions {
            e.encode(out)?;
        }
        Ok(())
    }

    /// Decodes contents, looking up data models in `kinds`.
    pub fn decode(r: &mut Reader<'_>, kinds: &dyn KindModels) -> Result<Self, DecodeError> {
        let at = r.offset();
        let c = r.u16("MessageContents.message_code")?;
        if c == 0 || (0x8000..0xffff).contains(&c) {
            return Err(DecodeError {
                what: "MessageContents.message_code",
                offset: at,
                kind: DecodeErrorKind::InvalidValue(c.into()),
            });
        }
        let mut body_r = r.vector(4, "MessageContents.message_body")?;
        let body = Body::decode(c, &mut body_r, kinds)?;
        let extensions = super::codec::get_list(r, 4, "MessageContents.extensions")?;
        Ok(MessageContents { body, extensions })
    }
}

/// A whole, unfragmented RELOAD message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Forwarding header; its `length` is recomputed on encode.
    pub header: ForwardingHeader,
    /// Code, body and extensions.
    pub contents: MessageContents,
    /// Certificates and signature.
    pub security: SecurityBlock,
}

impl Message {
    /// Exact encoded size.
    pub fn encoded_len(&self) -> usize {
        self.header.encoded_len() + self.contents.encoded_len() + self.security.encoded_len()
    }

    /// Appends the encoding, with the header's `length` set to the real size.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let body_len = self.contents.encoded_len() + self.security.encoded_len();
        out.reserve(self.header.encoded_len() + body_len);
        self.header.encode_with_body_len(body_len, out)?;
        self.contents.encode(out)?;
        self.security.encode(out)
    }

    /// Encodes into a new buffer.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes a whole message with the IANA Kinds' data models.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Self::decode_with(bytes, &StandardKinds)
    }

    /// Decodes a whole message; `kinds` gives the data model of each Kind.
    pub fn decode_with(bytes: &[u8], kinds: &dyn KindModels) -> Result<Message, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = ForwardingHeader::decode(&mut r)?;
        if header.length as usize != bytes.len() {
            return Err(DecodeError {
                what: "ForwardingHeader.length",
                offset: 16,
                kind: DecodeErrorKind::Invalid("differs from the message size"),
            });
        }
        if !header.is_whole() {
            return Err(DecodeError {
                what: "ForwardingHeader.fragment",
                offset: 12,
                kind: DecodeErrorKind::Unsupported("a fragment; reassemble before decoding"),
            });
        }
        let contents = MessageContents::decode(&mut r, kinds)?;
        let security = SecurityBlock::decode(&mut r)?;
        r.finish("Message")?;
        Ok(Message {
            header,
            contents,
            security,
        })
    }
}
