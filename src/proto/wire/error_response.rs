//! Error responses (RFC 6940 §6.3.3.1, §14.9; RFC 7851 §9.5).

use super::codec::{Reader, Wire, get_list_by, get_opaque, put_opaque};
use super::error::{DecodeError, EncodeError};
use super::storage::{KindId, StoreAns};
use serde::Serialize;

/// Error codes.
pub mod error_code {
    #![allow(missing_docs)]
    pub const FORBIDDEN: u16 = 0x02;
    pub const NOT_FOUND: u16 = 0x03;
    pub const REQUEST_TIMEOUT: u16 = 0x04;
    pub const GENERATION_COUNTER_TOO_LOW: u16 = 0x05;
    pub const INCOMPATIBLE_WITH_OVERLAY: u16 = 0x06;
    pub const UNSUPPORTED_FORWARDING_OPTION: u16 = 0x07;
    pub const DATA_TOO_LARGE: u16 = 0x08;
    pub const DATA_TOO_OLD: u16 = 0x09;
    pub const TTL_EXCEEDED: u16 = 0x0a;
    pub const MESSAGE_TOO_LARGE: u16 = 0x0b;
    pub const UNKNOWN_KIND: u16 = 0x0c;
    pub const UNKNOWN_EXTENSION: u16 = 0x0d;
    pub const RESPONSE_TOO_LARGE: u16 = 0x0e;
    pub const CONFIG_TOO_OLD: u16 = 0x0f;
    pub const CONFIG_TOO_NEW: u16 = 0x10;
    pub const IN_PROGRESS: u16 = 0x11;
    pub const EXP_A: u16 = 0x12;
    pub const EXP_B: u16 = 0x13;
    pub const INVALID_MESSAGE: u16 = 0x14;
    pub const UNDERLAY_DESTINATION_UNREACHABLE: u16 = 0x15;
    pub const UNDERLAY_TIME_EXCEEDED: u16 = 0x16;
    pub const MESSAGE_EXPIRED: u16 = 0x17;
    pub const UPSTREAM_MISROUTING: u16 = 0x18;
    pub const LOOP_DETECTED: u16 = 0x19;
    pub const TTL_HOPS_EXCEEDED: u16 = 0x1a;
}

/// Every assigned error code with its registry name, in code order.
pub const ERROR_NAMES: &[(u16, &str)] = &[
    (0x02, "Error_Forbidden"),
    (0x03, "Error_Not_Found"),
    (0x04, "Error_Request_Timeout"),
    (0x05, "Error_Generation_Counter_Too_Low"),
    (0x06, "Error_Incompatible_with_Overlay"),
    (0x07, "Error_Unsupported_Forwarding_Option"),
    (0x08, "Error_Data_Too_Large"),
    (0x09, "Error_Data_Too_Old"),
    (0x0a, "Error_TTL_Exceeded"),
    (0x0b, "Error_Message_Too_Large"),
    (0x0c, "Error_Unknown_Kind"),
    (0x0d, "Error_Unknown_Extension"),
    (0x0e, "Error_Response_Too_Large"),
    (0x0f, "Error_Config_Too_Old"),
    (0x10, "Error_Config_Too_New"),
    (0x11, "Error_In_Progress"),
    (0x12, "Error_Exp_A"),
    (0x13, "Error_Exp_B"),
    (0x14, "Error_Invalid_Message"),
    (0x15, "Error_Underlay_Destination_Unreachable"),
    (0x16, "Error_Underlay_Time_Exceeded"),
    (0x17, "Error_Message_Expired"),
    (0x18, "Error_Upstream_Misrouting"),
    (0x19, "Error_Loop_Detected"),
    (0x1a, "Error_TTL_Hops_Exceeded"),
];

/// The registry name of an error code.
pub fn error_name(c: u16) -> Option<&'static str> {
    ERROR_NAMES.iter().find(|(k, _)| *k == c).map(|(_, n)| *n)
}

/// `struct { uint16 error_code; opaque error_info<0..2^16-1>; } ErrorResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorResponse {
    /// See [`error_code`].
    pub code: u16,
    /// UTF-8 text, or a structure for the codes that define one.
    #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
    pub info: Vec<u8>,
}

impl ErrorResponse {
    /// An error with a text reason.
    pub fn new(code: u16, text: &str) -> Self {
        ErrorResponse {
            code,
            info: text.as_bytes().to_vec(),
        }
    }

    /// Error_Generation_Counter_Too_Low carries a StoreAns with the current generations.
    pub fn generation_too_low(current: &StoreAns) -> Result<Self, EncodeError> {
        Ok(ErrorResponse {
            code: error_code::GENERATION_COUNTER_TOO_LOW,
            info: current.to_bytes()?,
        })
    }

    /// Error_Unknown_Kind carries `KindId unknown_kinds<0..2^8-1>`.
    pub fn unknown_kinds(kinds: &[KindId]) -> Result<Self, EncodeError> {
        let mut info = Vec::with_capacity(1 + 4 * kinds.len());
        let ids: Vec<u8> = kinds.iter().flat_map(|k| k.0.to_be_bytes()).collect();
        put_opaque(&mut info, 1, &ids, "unknown_kinds")?;
        Ok(ErrorResponse {
            code: error_code::UNKNOWN_KIND,
            info,
        })
    }

    /// The StoreAns in an Error_Generation_Counter_Too_Low.
    pub fn parse_store_ans(&self) -> Option<Result<StoreAns, DecodeError>> {
        (self.code == error_code::GENERATION_COUNTER_TOO_LOW)
            .then(|| StoreAns::from_bytes(&self.info))
    }

    /// The Kind list in an Error_Unknown_Kind.
    pub fn parse_unknown_kinds(&self) -> Option<Result<Vec<KindId>, DecodeError>> {
        (self.code == error_code::UNKNOWN_KIND).then(|| {
            let mut r = Reader::new(&self.info);
            let kinds = get_list_by(&mut r, 1, "unknown_kinds", |v| Ok(KindId(v.u32("KindId")?)))?;
            r.finish("unknown_kinds")?;
            Ok(kinds)
        })
    }
}

impl Wire for ErrorResponse {
    fn encoded_len(&self) -> usize {
        4 + self.info.len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.code.to_be_bytes());
        put_opaque(out, 2, &self.info, "ErrorResponse.error_info")
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ErrorResponse {
            code: r.u16("ErrorResponse.error_code")?,
            info: get_opaque(r, 2, "ErrorResponse.error_info")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_error_info() {
        let e = ErrorResponse::unknown_kinds(&[KindId(1), KindId(0xf000_0001)]).unwrap();
        assert_eq!(e.info, vec![8, 0, 0, 0, 1, 0xf0, 0, 0, 1]);
        assert_eq!(
            e.parse_unknown_kinds().unwrap().unwrap(),
            vec![KindId(1), KindId(0xf000_0001)]
        );
        assert_eq!(error_name(0x1a), Some("Error_TTL_Hops_Exceeded"));
        let b = ErrorResponse::new(error_code::NOT_FOUND, "no")
            .to_bytes()
            .unwrap();
        assert_eq!(b, vec![0, 3, 0, 2, b'n', b'o']);
    }
}
