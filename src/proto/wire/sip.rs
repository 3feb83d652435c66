//! The SIP usage's stored value and GRUUs (RFC 7904 §3.2, §6).

use super::codec::{Reader, Wire, decode_all, get_opaque, list_len, put_len, put_opaque};
use super::destination::Destination;
use super::error::{DecodeError, DecodeErrorKind, EncodeError};
use serde::Serialize;

/// `SipRegistration` (RFC 7904 §3.2): the DataValue of a SIP-REGISTRATION entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SipRegistration {
    /// `sip_registration_uri(1)`: dereference this other AoR.
    Uri(#[serde(serialize_with = "crate::proto::wire::codec::ser_text")] Vec<u8>),
    /// `sip_registration_route(2)`: connect through this Destination List.
    Route {
        /// RFC 3840 feature parameters, for example `(sip.schemes=SIPS)`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_text")]
        contact_prefs: Vec<u8>,
        /// `Destination destination_list<3..2^16-1>`.
        destination_list: Vec<Destination>,
    },
    /// Another type, kept as bytes (the length lets receivers skip it).
    Unknown {
        /// Type byte.
        reg_type: u8,
        /// The bytes after `length`.
        #[serde(serialize_with = "crate::proto::wire::codec::ser_hex")]
        data: Vec<u8>,
    },
}

impl SipRegistration {
    fn inner_len(&self) -> usize {
        match self {
            SipRegistration::Uri(u) => 2 + u.len(),
            SipRegistration::Route {
                contact_prefs,
                destination_list,
            } => 2 + contact_prefs.len() + 2 + list_len(destination_list),
            SipRegistration::Unknown { data, .. } => data.len(),
        }
    }
}

impl Wire for SipRegistration {
    fn encoded_len(&self) -> usize {
        3 + self.inner_len()
    }
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let t = match self {
            SipRegistration::Uri(_) => 1,
            SipRegistration::Route { .. } => 2,
            SipRegistration::Unknown { reg_type, .. } => *reg_type,
        };
        out.push(t);
        put_len(out, 2, self.inner_len(), "SipRegistration.length")?;
        match self {
            SipRegistration::Uri(u) => put_opaque(out, 2, u, "SipRegistration.uri"),
            SipRegistration::Route {
                contact_prefs,
                destination_list,
            } => {
                if list_len(destination_list) < 3 {
                    return Err(EncodeError::Invalid(
                        "SipRegistration.destination_list needs at least 3 bytes",
                    ));
                }
                put_opaque(out, 2, contact_prefs, "SipRegistration.contact_prefs")?;
                put_len(
                    out,
                    2,
                    list_len(destination_list),
                    "SipRegistration.destination_list",
                )?;
                for d in destination_list {
                    d.encode(out)?;
                }
                Ok(())
            }
            SipRegistration::Unknown { data, .. } => {
                out.extend_from_slice(data);
                Ok(())
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let t = r.u8("SipRegistration.type")?;
        let mut v = r.vector(2, "SipRegistration.length")?;
        let reg = match t {
            1 => SipRegistration::Uri(get_opaque(&mut v, 2, "SipRegistration.uri")?),
            2 => {
                let contact_prefs = get_opaque(&mut v, 2, "SipRegistration.contact_prefs")?;
                let list = v.vector(2, "SipRegistration.destination_list")?;
                if list.remaining() < 3 {
                    return Err(list.error(
                        "SipRegistration.destination_list",
                        DecodeErrorKind::Invalid("shorter than 3 bytes"),
                    ));
                }
                SipRegistration::Route {
                    contact_prefs,
                    destination_list: decode_all(list)?,
                }
            }
            0 => {
                return Err(DecodeError {
                    what: "SipRegistration.type",
                    offset: at,
                    kind: DecodeErrorKind::InvalidValue(0),
                });
            }
            _ => {
                let data = v.rest().to_vec();
                v.bytes(data.len(), "SipRegistration")?;
                SipRegistration::Unknown { reg_type: t, data }
            }
        };
        v.finish("SipRegistration")?;
        Ok(reg)
    }
}

/// The AppAttach application (RFC 7904 §5.1: 5060 SIP, 5061 SIPS) a caller uses for a
/// callee that registered `contact_prefs`: the caller "SHOULD follow a preference
/// indicated by the callee in its contact_prefs attribute", and a callee that accepts
/// SIPS only "SHOULD indicate its choice" there. So: 5061 when the schemes the callee
/// names are SIPS alone, 5060 otherwise (SIP named, both named, or no preference).
///
/// contact_prefs is an RFC 3840 feature set. RFC 7904 §3.2 writes it as a predicate,
/// `(sip.schemes=SIPS)`; as Contact header parameters it reads `schemes="SIPS"` or
/// `sip.schemes="SIP,SIPS"`. Read leniently, case-insensitively: every value given to a
/// `schemes` or `sip.schemes` tag, quoted or not, comma lists split, angle brackets
/// dropped. Other tags, negations and unreadable bytes are ignored.
pub fn preferred_application(contact_prefs: &[u8]) -> u16 {
    use super::attach::application;
    let text = String::from_utf8_lossy(contact_prefs).to_ascii_lowercase();
    let (mut sip, mut sips) = (false, false);
    for (at, _) in text.match_indices("schemes") {
        let before = text[..at].chars().next_back();
        let tag_start = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-'));
        let Some(rest) = text[at + "schemes".len()..].trim_start().strip_prefix('=') else {
            continue;
        };
        if !tag_start {
            continue;
        }
        let rest = rest.trim_start();
        let value = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or(""),
            None => rest
                .split(|c: char| c == ')' || c == ';' || c == '&' || c == '|' || c.is_whitespace())
                .next()
                .unwrap_or(""),
        };
        for scheme in value.split(',') {
            match scheme.trim().trim_start_matches('<').trim_end_matches('>') {
                "sip" => sip = true,
                "sips" => sips = true,
                _ => {}
            }
        }
    }
    if sips && !sip {
        application::SIPS
    } else {
        application::SIP
    }
}

/// Base64 (RFC 4648 Table 1) with `~` in place of the `=` pad, as RFC 7904 §6 requires.
pub fn gruu_base64(bytes: &[u8]) -> String {
    super::base64::encode(bytes, '~')
}

/// Inverse of [`gruu_base64`]; `None` on any character or length error.
pub fn gruu_unbase64(text: &str) -> Option<Vec<u8>> {
    super::base64::decode(text.as_bytes(), b'~')
}

/// A GRUU for `aor` (`user@domain`, no scheme) that routes to `destinations`:
/// `aor;gr=<base64 of the Destinations concatenated>` (RFC 7904 §6; no outer length
/// prefix, reload-spec.md §15 item 23).
pub fn encode_gruu(aor: &str, destinations: &[Destination]) -> Result<String, EncodeError> {
    let mut bytes = Vec::with_capacity(list_len(destinations));
    for d in destinations {
        d.encode(&mut bytes)?;
    }
    Ok(format!("{aor};gr={}", gruu_base64(&bytes)))
}

/// Splits a GRUU into its AoR and Destination List; `None` if it is not a GRUU.
pub fn decode_gruu(gruu: &str) -> Option<Result<(String, Vec<Destination>), DecodeError>> {
    let (aor, gr) = gruu.split_once(";gr=")?;
    let bytes = match gruu_unbase64(gr) {
        Some(b) => b,
        None => {
            return Some(Err(DecodeError {
                what: "GRUU",
                offset: aor.len() + 4,
                kind: DecodeErrorKind::Invalid("not base64"),
            }));
        }
    };
    Some(decode_all(Reader::new(&bytes)).map(|d| (aor.to_string(), d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::id::NodeId;

    #[test]
    fn gruu_example_from_rfc7904() {
        assert_eq!(
            gruu_base64(b"01234567890123456789"),
            "MDEyMzQ1Njc4OTAxMjM0NTY3ODk~"
        );
        assert_eq!(
            gruu_unbase64("MDEyMzQ1Njc4OTAxMjM0NTY3ODk~").unwrap(),
            b"01234567890123456789"
        );
        for n in 0..10 {
            let data: Vec<u8> = (0..n).collect();
            assert_eq!(gruu_unbase64(&gruu_base64(&data)).unwrap(), data);
        }
        assert!(gruu_unbase64("M~EA").is_none());
    }

    #[test]
    fn gruu_round_trip() {
        let d = vec![Destination::Node(NodeId(42))];
        let g = encode_gruu("alice@example.com", &d).unwrap();
        let (aor, back) = decode_gruu(&g).unwrap().unwrap();
        assert_eq!(aor, "alice@example.com");
        assert_eq!(back, d);
        assert!(decode_gruu("alice@example.com").is_none());
    }

    #[test]
    fn contact_prefs_pick_the_application() {
        for (prefs, app) in [
            ("", 5060),
            ("(sip.schemes=SIPS)", 5061),
            ("(sip.schemes=SIP)", 5060),
            ("(SIP.SCHEMES=sips)", 5061),
            (";schemes=\"SIPS\"", 5061),
            ("sip.schemes=\"<sips>\"", 5061),
            ("(sip.schemes = SIPS)", 5061),
            ("sip.schemes=\"SIP,SIPS\"", 5060),
            ("(| (sip.schemes=SIP) (sip.schemes=SIPS))", 5060),
            ("(& (sip.audio=TRUE) (sip.schemes=SIPS))", 5061),
            ("(sip.schemes=TEL)", 5060),
            ("(sip.audio=TRUE)", 5060),
            ("(sip.xschemes=SIPS)", 5060),
            ("(sip.schemes)", 5060),
            ("schemes=\"sips", 5061),
        ] {
            assert_eq!(preferred_application(prefs.as_bytes()), app, "{prefs}");
        }
        assert_eq!(preferred_application(&[0xff, 0xfe, b'=']), 5060);
    }

    #[test]
    fn registration_layouts() {
        let r = SipRegistration::Uri(b"bob@example.com".to_vec());
        let b = r.to_bytes().unwrap();
        assert_eq!(&b[..5], &[1, 0, 17, 0, 15]);
        assert_eq!(SipRegistration::from_bytes(&b).unwrap(), r);
        let route = SipRegistration::Route {
            contact_prefs: vec![],
            destination_list: vec![Destination::Node(NodeId(1))],
        };
        let b = route.to_bytes().unwrap();
        assert_eq!(&b[..7], &[2, 0, 22, 0, 0, 0, 18]);
        assert_eq!(SipRegistration::from_bytes(&b).unwrap(), route);
        let empty = SipRegistration::Route {
            contact_prefs: vec![],
            destination_list: vec![],
        };
        assert!(empty.to_bytes().is_err());
    }
}
