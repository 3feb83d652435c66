//! Base64 with the RFC 4648 §4 alphabet and a chosen pad character: `=` for the §11.1
//! `signature` and `kind-signature` elements of configuration documents, `~` for RFC 7904
//! §6 GRUUs.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `bytes` in base64, the last quantum completed with `pad`.
pub fn encode(bytes: &[u8], pad: char) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push(pad);
            }
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// The bytes of base64 `digits` padded with `pad`; `None` for a length that is not a
/// multiple of 4, a character outside the alphabet, or padding anywhere but at the end of
/// the last quantum.
pub fn decode(digits: &[u8], pad: u8) -> Option<Vec<u8>> {
    if digits.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() / 4 * 3);
    let quanta = digits.len() / 4;
    for (q, chunk) in digits.chunks(4).enumerate() {
        let pads = chunk.iter().rev().take_while(|c| **c == pad).count();
        if pads > 2 || (pads > 0 && q + 1 != quanta) {
            return None;
        }
        let mut n = 0u32;
        for c in &chunk[..4 - pads] {
            n = n << 6 | value(*c)?;
        }
        n <<= 6 * pads;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pads]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors_round_trip() {
        for (raw, text) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(raw.as_bytes(), '='), text);
            assert_eq!(decode(text.as_bytes(), b'=').unwrap(), raw.as_bytes());
        }
        assert_eq!(encode(b"f", '~'), "Zg~~");
        assert_eq!(decode(b"Zg~~", b'~').unwrap(), b"f");
        for bad in ["Zg=", "Z===", "Zg==Zm8=", "Zm9*", "====", "Zg~~"] {
            assert_eq!(decode(bad.as_bytes(), b'='), None, "{bad}");
        }
    }
}
