//! Overlay diagnostics (RFC 7851): PathTrack and the Diagnostic_Ping extension contents.
//!
//! `ext_length` counts the bytes of the extension entries, not the list's own 4-byte
//! prefix, so an empty list has `ext_length` 0 as RFC 7851 §5.1 requires.

use super::codec::{Reader, Wire, get_opaque, list_len, put_len, put_opaque};
use super::destination::Destination;
use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use serde::Serialize;

/// `DiagnosticExtension` (RFC 7851 §5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticExtension {
    /// `DiagnosticKindId`.
    pub kind: u16,
    /// `opaque diagnostic_extension_contents<0..2^32-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub contents: Vec<u8>,
}

impl Wire for DiagnosticExtension {
    fn encoded_len(&self) -> usize {
        6 + self.contents.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.to_be_bytes());
        put_opaque(out, 4, &self.contents, "DiagnosticExtension.contents")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DiagnosticExtension {
            kind: r.u16("DiagnosticExtension.kind")?,
            contents: get_opaque(r, 4, "DiagnosticExtension.contents")?,
        })
    }
}

/// `DiagnosticInfo` (RFC 7851 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticInfo {
    /// `DiagnosticKindId`.
    pub kind: u16,
    /// `opaque diagnostic_info_contents<0..2^16-1>`.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
    pub contents: Vec<u8>,
}

impl Wire for DiagnosticInfo {
    fn encoded_len(&self) -> usize {
        4 + self.contents.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.kind.to_be_bytes());
        put_opaque(out, 2, &self.contents, "DiagnosticInfo.contents")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DiagnosticInfo {
            kind: r.u16("DiagnosticInfo.kind")?,
            contents: get_opaque(r, 2, "DiagnosticInfo.contents")?,
        })
    }
}

fn put_ext_list<T: Wire>(
    out: &mut Vec<u8>,
    items: &[T],
    what: &'static str,
) -> Result<(), EncodeError> {
    let len = list_len(items);
    put_len(out, 4, len, what)?;
    put_len(out, 4, len, what)?;
    for i in items {
        i.encode(out)?;
    }
    Ok(())
}

fn get_ext_list<T: Wire>(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<T>, DecodeError> {
    let ext_length = r.u32(what)? as usize;
    let at = r.offset();
    let mut v = r.vector(4, what)?;
    if v.remaining() != ext_length {
        return Err(DecodeError {
            what,
            offset: at,
            kind: DecodeErrorKind::Invalid("ext_length differs from the list length"),
        });
    }
    let mut items = Vec::new();
    while !v.is_empty() {
        items.push(T::decode(&mut v)?);
    }
    Ok(items)
}

/// `DiagnosticsRequest` (RFC 7851 §5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticsRequest {
    /// Expiry, ms since 1970.
    pub expiration: u64,
    /// When the request was made, ms since 1970.
    pub timestamp_initiated: u64,
    /// Requested base diagnostics (bit 0x2 STATUS_INFO … 0x10000 BATTERY_STATUS).
    pub dm_flags: u64,
    /// Extended requests.
    pub extensions: Vec<DiagnosticExtension>,
}

impl Wire for DiagnosticsRequest {
    fn encoded_len(&self) -> usize {
        24 + 8 + list_len(&self.extensions)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.expiration.to_be_bytes());
        out.extend_from_slice(&self.timestamp_initiated.to_be_bytes());
        out.extend_from_slice(&self.dm_flags.to_be_bytes());
        put_ext_list(
            out,
            &self.extensions,
            "DiagnosticsRequest.diagnostic_extensions_list",
        )
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DiagnosticsRequest {
            expiration: r.u64("DiagnosticsRequest.expiration")?,
            timestamp_initiated: r.u64("DiagnosticsRequest.timestamp_initiated")?,
            dm_flags: r.u64("DiagnosticsRequest.dMFlags")?,
            extensions: get_ext_list(r, "DiagnosticsRequest.diagnostic_extensions_list")?,
        })
    }
}

/// `DiagnosticsResponse` (RFC 7851 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticsResponse {
    /// Expiry, ms since 1970.
    pub expiration: u64,
    /// Copied from the request.
    pub timestamp_initiated: u64,
    /// When the request arrived, ms since 1970.
    pub timestamp_received: u64,
    /// The TTL of the received request.
    pub hop_counter: u8,
    /// Diagnostic values.
    pub info: Vec<DiagnosticInfo>,
}

impl Wire for DiagnosticsResponse {
    fn encoded_len(&self) -> usize {
        25 + 8 + list_len(&self.info)
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.expiration.to_be_bytes());
        out.extend_from_slice(&self.timestamp_initiated.to_be_bytes());
        out.extend_from_slice(&self.timestamp_received.to_be_bytes());
        out.push(self.hop_counter);
        put_ext_list(out, &self.info, "DiagnosticsResponse.diagnostic_info_list")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DiagnosticsResponse {
            expiration: r.u64("DiagnosticsResponse.expiration")?,
            timestamp_initiated: r.u64("DiagnosticsResponse.timestamp_initiated")?,
            timestamp_received: r.u64("DiagnosticsResponse.timestamp_received")?,
            hop_counter: r.u8("DiagnosticsResponse.hop_counter")?,
            info: get_ext_list(r, "DiagnosticsResponse.diagnostic_info_list")?,
        })
    }
}

/// `PathTrackReq` (RFC 7851 §4.3.1.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathTrackReq {
    /// Where the tracked path leads.
    pub destination: Destination,
    /// What to report.
    pub request: DiagnosticsRequest,
}

impl Wire for PathTrackReq {
    fn encoded_len(&self) -> usize {
        self.destination.encoded_len() + self.request.encoded_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.destination.encode(out)?;
        self.request.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PathTrackReq {
            destination: Destination::decode(r)?,
            request: DiagnosticsRequest::decode(r)?,
        })
    }
}

/// `PathTrackAns` (RFC 7851 §4.3.1.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathTrackAns {
    /// The responder's next hop toward the destination.
    pub next_hop: Destination,
    /// The diagnostics.
    pub response: DiagnosticsResponse,
}

impl Wire for PathTrackAns {
    fn encoded_len(&self) -> usize {
        self.next_hop.encoded_len() + self.response.encoded_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.next_hop.encode(out)?;
        self.response.encode(out)
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PathTrackAns {
            next_hop: Destination::decode(r)?,
            response: DiagnosticsResponse::decode(r)?,
        })
    }
}

/// RFC 7363 `self_tuning_data` extension contents (type 0x3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SelfTuningData {
    /// Estimated overlay size.
    pub network_size: u32,
    /// Joins per 24 h, rounded up.
    pub join_rate: u32,
    /// Leaves per 24 h, rounded up.
    pub leave_rate: u32,
}

impl Wire for SelfTuningData {
    fn encoded_len(&self) -> usize {
        12
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        for v in [self.network_size, self.join_rate, self.leave_rate] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        Ok(())
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SelfTuningData {
            network_size: r.u32("SelfTuningData.network_size")?,
            join_rate: r.u32("SelfTuningData.join_rate")?,
            leave_rate: r.u32("SelfTuningData.leave_rate")?,
        })
    }
}
