//! Primitives of the TLS presentation language (RFC 6940 §6.3.1): big-endian integers and
//! byte-count-prefixed vectors.
//!
//! [`Reader`] never panics and never allocates: every read checks the bytes that are left,
//! and a length prefix is checked against the input before anything is read. Decoders build
//! `Vec`s only by pushing elements they have already parsed, so no allocation can exceed
//! what the input holds.

use super::error::{DecodeError, DecodeErrorKind, EncodeError};

/// A bounded cursor over input bytes.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

macro_rules! read_int {
    ($name:ident, $ty:ty, $n:expr) => {
        #[doc = concat!("Reads a big-endian `", stringify!($ty), "`.")]
        pub fn $name(&mut self, what: &'static str) -> Result<$ty, DecodeError> {
            let b = self.array::<$n>(what)?;
            Ok(<$ty>::from_be_bytes(b))
        }
    };
}

impl<'a> Reader<'a> {
    /// A reader over the whole of `buf`; offsets count from its first byte.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `buf` whose offsets start at `base`.
    pub fn with_base(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Offset of the next byte, from the start of the outermost buffer.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The bytes left, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// An error at the current offset.
    pub fn error(&self, what: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            what,
            offset: self.offset(),
            kind,
        }
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self, what: &'static str) -> Result<u8, DecodeError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.truncated(what, 1))
    }

    fn truncated(&self, what: &'static str, needed: usize) -> DecodeError {
        self.error(
            what,
            DecodeErrorKind::Truncated {
                needed,
                available: self.remaining(),
            },
        )
    }

    /// Consumes exactly `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.truncated(what, n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Consumes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Reads a `uint8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.peek_u8(what)?;
        self.pos += 1;
        Ok(b)
    }

    read_int!(u16, u16, 2);
    read_int!(u32, u32, 4);
    read_int!(u64, u64, 8);

    /// Reads a 24-bit big-endian integer.
    pub fn u24(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.array::<3>(what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// Reads a `Boolean` (RFC 6940 §6.3.1: 0 = false, 1 = true; anything else is an error).
    pub fn boolean(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let at = self.offset();
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(DecodeError {
                what,
                offset: at,
                kind: DecodeErrorKind::InvalidValue(v.into()),
            }),
        }
    }

    /// Reads a length prefix of `prefix` bytes (1..=4) and returns that many bytes.
    pub fn opaque(&mut self, prefix: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = match prefix {
            1 => self.u8(what)? as usize,
            2 => self.u16(what)? as usize,
            3 => self.u24(what)? as usize,
            _ => self.u32(what)? as usize,
        };
        self.bytes(len, what)
    }

    /// Like [`Reader::opaque`], but returns a reader over the vector's bytes, with offsets
    /// that keep counting from the outer buffer.
    pub fn vector(&mut self, prefix: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let start = self.offset() + prefix;
        let body = self.opaque(prefix, what)?;
        Ok(Reader::with_base(body, start))
    }

    /// A reader over the next `n` bytes (for structures with an explicit length field).
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        let start = self.offset();
        let body = self.bytes(n, what)?;
        Ok(Reader::with_base(body, start))
    }

    /// Fails if any bytes are left.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(what, DecodeErrorKind::TrailingBytes(self.remaining())))
        }
    }
}

/// A structure with one fixed wire encoding.
pub trait Wire: Sized {
    /// Exact encoded size in bytes. Never allocates.
    fn encoded_len(&self) -> usize;
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Decodes one value, consuming exactly its bytes.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Encodes into a new buffer.
    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes a value that must fill `bytes` exactly.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish("trailing data")?;
        Ok(v)
    }
}

/// Largest length a `prefix`-byte length field can hold.
pub const fn prefix_max(prefix: usize) -> usize {
    match prefix {
        1 => 0xff,
        2 => 0xffff,
        3 => 0xff_ffff,
        _ => 0xffff_ffff,
    }
}

/// Appends a length prefix of `prefix` bytes, checking that `len` fits.
pub fn put_len(
    out: &mut Vec<u8>,
    prefix: usize,
    len: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let max = prefix_max(prefix);
    if len > max {
        return Err(EncodeError::TooLong { what, len, max });
    }
    let b = (len as u32).to_be_bytes();
    out.extend_from_slice(&b[4 - prefix..]);
    Ok(())
}

/// Appends a byte-count-prefixed opaque vector.
pub fn put_opaque(
    out: &mut Vec<u8>,
    prefix: usize,
    bytes: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_len(out, prefix, bytes.len(), what)?;
    out.extend_from_slice(bytes);
    Ok(())
}

/// Appends a 24-bit big-endian integer (the value must fit).
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Total encoded length of a list of elements.
pub fn list_len<T: Wire>(items: &[T]) -> usize {
    items.iter().map(Wire::encoded_len).sum()
}

/// Appends a prefixed vector of structures.
pub fn put_list<T: Wire>(
    out: &mut Vec<u8>,
    prefix: usize,
    items: &[T],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_len(out, prefix, list_len(items), what)?;
    for item in items {
        item.encode(out)?;
    }
    Ok(())
}

/// Decodes elements until `r` is empty.
pub fn decode_all<T: Wire>(mut r: Reader<'_>) -> Result<Vec<T>, DecodeError> {
    let mut items = Vec::new();
    while !r.is_empty() {
        items.push(T::decode(&mut r)?);
    }
    Ok(items)
}

/// Decodes a prefixed vector of structures.
pub fn get_list<T: Wire>(
    r: &mut Reader<'_>,
    prefix: usize,
    what: &'static str,
) -> Result<Vec<T>, DecodeError> {
    decode_all(r.vector(prefix, what)?)
}

/// Decodes a prefixed vector whose elements need a decoder other than [`Wire::decode`].
pub fn get_list_by<'a, T>(
    r: &mut Reader<'a>,
    prefix: usize,
    what: &'static str,
    mut item: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let mut v = r.vector(prefix, what)?;
    let mut items = Vec::new();
    while !v.is_empty() {
        items.push(item(&mut v)?);
    }
    Ok(items)
}

/// Decodes a prefixed opaque vector into an owned buffer.
pub fn get_opaque(
    r: &mut Reader<'_>,
    prefix: usize,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    Ok(r.opaque(prefix, what)?.to_vec())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses hex, ignoring ASCII white space, `:` separators and a leading `0x`.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let val = |c: u8, i: usize| -> Result<u8, String> {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("not a hex digit: {:?} at digit {i}", c as char))
    };
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, p)| Ok(val(p[0], 2 * i)? << 4 | val(p[1], 2 * i + 1)?))
        .collect()
}

/// Serializes bytes as a lowercase hex string (for JSON output).
pub fn ser_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(bytes))
}

/// Serializes a 32-bit field as `"0x…"` (8 hex digits).
pub fn ser_hex32<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:#010x}"))
}

/// Serializes text fields as a string when they are UTF-8, else as `{"hex": "…"}`.
pub fn ser_text<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match std::str::from_utf8(bytes) {
        Ok(t) => s.serialize_str(t),
        Err(_) => {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("hex", &hex(bytes))?;
            m.end()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_checks_every_length() {
        let mut r = Reader::new(&[0x00, 0x05, 1, 2]);
        let e = r.opaque(2, "v").unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(
            e.kind,
            DecodeErrorKind::Truncated {
                needed: 5,
                available: 2
            }
        );
        let mut r = Reader::new(&[2]);
        assert!(r.boolean("b").is_err());
    }

    #[test]
    fn u24_and_prefix_round_trip() {
        let mut out = Vec::new();
        put_u24(&mut out, 0x12_3456);
        put_len(&mut out, 3, 7, "x").unwrap();
        assert_eq!(out, [0x12, 0x34, 0x56, 0, 0, 7]);
        let mut r = Reader::new(&out);
        assert_eq!(r.u24("a").unwrap(), 0x12_3456);
        assert_eq!(r.u24("b").unwrap(), 7);
        assert!(put_len(&mut out, 1, 256, "x").is_err());
    }

    #[test]
    fn hex_parsing() {
        assert_eq!(
            parse_hex("0xd2 45:4c\n4f").unwrap(),
            vec![0xd2, 0x45, 0x4c, 0x4f]
        );
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }
}
