//! pcap writer: Ethernet/IPv4/UDP and TCP packets with nanosecond timestamps.

use std::io::{self, Write};
use std::net::SocketAddrV4;

use crate::time::Time;

/// Magic number of nanosecond-resolution pcap.
pub(super) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Magic number of microsecond-resolution pcap.
pub(super) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// LINKTYPE_ETHERNET.
pub(super) const LINKTYPE_ETHERNET: u32 = 1;

/// Writes a classic pcap stream.
pub struct PcapWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (nanosecond timestamps, Ethernet link type).
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NANOS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&262_144u32.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            buf: Vec::with_capacity(2048),
        })
    }

    /// Writes one UDP datagram sent at `at` (simulated time since the epoch).
    pub fn write_udp(
        &mut self,
        at: Time,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        // UDP header; checksum 0 (not computed) is allowed over IPv4.
        let mut udp = [0u8; 8];
        udp[0..2].copy_from_slice(&src.port().to_be_bytes());
        udp[2..4].copy_from_slice(&dst.port().to_be_bytes());
        udp[4..6].copy_from_slice(&((8 + payload.len()).min(0xffff) as u16).to_be_bytes());
        self.write_ip(at, src, dst, 17, &udp, payload)
    }

    /// Writes one TCP segment (flags PSH and ACK) carrying `payload` at stream offset
    /// `seq` of its direction, acknowledging `ack` of the other; the checksum is left 0.
    pub fn write_tcp(
        &mut self,
        at: Time,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        seq: u32,
        ack: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&src.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&dst.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = 0x18;
        tcp[14..16].copy_from_slice(&0xffffu16.to_be_bytes());
        self.write_ip(at, src, dst, 6, &tcp, payload)
    }

    /// One Ethernet/IPv4 packet of protocol `proto` with transport header `header`.
    fn write_ip(
        &mut self,
        at: Time,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        proto: u8,
        header: &[u8],
        payload: &[u8],
    ) -> io::Result<()> {
        let ip_len = 20 + header.len() + payload.len();
        if ip_len > 0xffff {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "payload larger than an IPv4 packet",
            ));
        }
        let b = &mut self.buf;
        b.clear();
        // Ethernet: locally administered MACs derived from the IPv4 addresses.
        b.extend_from_slice(&mac(dst));
        b.extend_from_slice(&mac(src));
        b.extend_from_slice(&0x0800u16.to_be_bytes());
        // IPv4 header.
        let ip_start = b.len();
        b.extend_from_slice(&[0x45, 0]);
        b.extend_from_slice(&(ip_len as u16).to_be_bytes());
        b.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
        b.extend_from_slice(&src.ip().octets());
        b.extend_from_slice(&dst.ip().octets());
        let sum = checksum(&b[ip_start..ip_start + 20]);
        b[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        b.extend_from_slice(header);
        b.extend_from_slice(payload);

        let ns = at.as_nanos();
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ns / 1_000_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ns % 1_000_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(b.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(b.len() as u32).to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(b)
    }

    /// The underlying writer (to flush it while writing goes on).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn mac(a: SocketAddrV4) -> [u8; 6] {
    let o = a.ip().octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_checksum_of_a_known_header() {
        // RFC 1071 style example header with the checksum field zeroed.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
    }
}
