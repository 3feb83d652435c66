//! pcap reader: finds RELOAD traffic (UDP or TCP, port 6084 by default) in a capture.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::writer::{LINKTYPE_ETHERNET, MAGIC_MICROS, MAGIC_NANOS};

/// Why a capture cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Not a classic pcap file (pcapng is not supported).
    #[error(
        "not a classic pcap file (magic {0:#010x}); pcapng captures can be converted with `editcap -F pcap`"
    )]
    BadMagic(u32),
    /// The file ends inside its header or a packet record (the byte offset of either).
    #[error("pcap file truncated at byte {0}")]
    Truncated(usize),
    /// A link type this reader does not handle.
    #[error(
        "unsupported link type {0} (Ethernet, raw IPv4 and Linux cooked captures are supported)"
    )]
    LinkType(u32),
}

/// The transport a payload came over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A UDP datagram.
    Udp,
    /// A TCP segment.
    Tcp,
}

/// One UDP or TCP payload from the capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// 1-based packet number in the capture, as Wireshark counts.
    pub number: usize,
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    /// The transport payload.
    pub payload: Vec<u8>,
}

/// Where a capture ends inside a packet record (a file cut short, a capture still being
/// written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Byte offset of the incomplete record (its 16-byte header).
    pub offset: usize,
    /// 1-based number of the incomplete packet.
    pub packet: usize,
    /// Bytes the record needs (16 while its header is incomplete).
    pub needed: usize,
    /// Bytes left in the file from `offset`.
    pub left: usize,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "capture truncated at byte {}: the record of packet {} needs {} bytes, {} are left",
            self.offset, self.packet, self.needed, self.left
        )
    }
}

/// Reads every IPv4 UDP/TCP payload with `port` as source or destination port. Packets
/// that are not IPv4 UDP/TCP, or are cut short by the snap length, are skipped. A file
/// that ends inside a record is an error; [`read_complete_packets`] reads up to the cut.
pub fn read_packets(file: &[u8], port: u16) -> Result<Vec<Packet>, CaptureError> {
    match read_complete_packets(file, port)? {
        (packets, None) => Ok(packets),
        (_, Some(cut)) => Err(CaptureError::Truncated(cut.offset)),
    }
}

/// As [`read_packets`], but a file that ends inside a packet record gives the packets
/// before it and where it was cut.
pub fn read_complete_packets(
    file: &[u8],
    port: u16,
) -> Result<(Vec<Packet>, Option<Cut>), CaptureError> {
    let magic_le = u32::from_le_bytes(head(file, 0)?);
    let (le, nanos) = match magic_le {
        MAGIC_MICROS => (true, false),
        MAGIC_NANOS => (true, true),
        _ => match u32::from_be_bytes(head(file, 0)?) {
            MAGIC_MICROS => (false, false),
            MAGIC_NANOS => (false, true),
            _ => return Err(CaptureError::BadMagic(magic_le)),
        },
    };
    let u32_at = |at: usize| -> Result<u32, CaptureError> {
        let b = head(file, at)?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let link = u32_at(20)?;
    let mut out = Vec::new();
    let mut at = 24;
    let mut number = 0;
    while at < file.len() {
        let cut = |needed: usize| Cut {
            offset: at,
            packet: number + 1,
            needed,
            left: file.len() - at,
        };
        if file.len() - at < 16 {
            return Ok((out, Some(cut(16))));
        }
        let (sec, frac, incl) = (u32_at(at)?, u32_at(at + 4)?, u32_at(at + 8)? as usize);
        let start = at + 16;
        let Some(end) = start.checked_add(incl).filter(|e| *e <= file.len()) else {
            return Ok((out, Some(cut(16usize.saturating_add(incl)))));
        };
        number += 1;
        let ts = u64::from(sec) * 1_000_000_000 + u64::from(frac) * if nanos { 1 } else { 1000 };
        let frame = &file[start..end];
        let ip = match link {
            LINKTYPE_ETHERNET => ethernet_payload(frame),
            101 | 228 => Some(frame),
            113 => (frame.len() >= 16 && frame[14..16] == [0x08, 0x00]).then(|| &frame[16..]),
            other => return Err(CaptureError::LinkType(other)),
        };
        if let Some(p) = ip.and_then(|ip| parse_ipv4(ip, number, ts)) {
            if p.src.port() == port || p.dst.port() == port {
                out.push(p);
            }
        }
        at = end;
    }
    Ok((out, None))
}

fn head(file: &[u8], at: usize) -> Result<[u8; 4], CaptureError> {
    file.get(at..at + 4)
        .map(|b| [b[0], b[1], b[2], b[3]])
        .ok_or(CaptureError::Truncated(at))
}

fn ethernet_payload(frame: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    let mut ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    while ethertype == 0x8100 {
        at += 4;
        ethertype = u16::from_be_bytes([*frame.get(at)?, *frame.get(at + 1)?]);
    }
    (ethertype == 0x0800).then(|| frame.get(at + 2..)).flatten()
}

fn parse_ipv4(ip: &[u8], number: usize, timestamp_ns: u64) -> Option<Packet> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    if ihl < 20 || total < ihl {
        return None;
    }
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &ip[ihl..total];
    let (transport, header_len) = match ip[9] {
        17 if l4.len() >= 8 => (Transport::Udp, 8),
        6 if l4.len() >= 20 => (Transport::Tcp, usize::from(l4[12] >> 4) * 4),
        _ => return None,
    };
    if l4.len() < header_len {
        return None;
    }
    let sp = u16::from_be_bytes([l4[0], l4[1]]);
    let dp = u16::from_be_bytes([l4[2], l4[3]]);
    Some(Packet {
        number,
        timestamp_ns,
        src: SocketAddr::V4(SocketAddrV4::new(src_ip, sp)),
        dst: SocketAddr::V4(SocketAddrV4::new(dst_ip, dp)),
        transport,
        payload: l4[header_len..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::PcapWriter;
    use crate::time::Time;

    #[test]
    fn written_packets_read_back() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6084);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 6084);
        let c = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 3), 9999);
        w.write_udp(Time(1_500_000_001), a, b, b"hello").unwrap();
        w.write_udp(Time(2), c, c, b"other").unwrap();
        let file = w.finish().unwrap();
        let p = read_packets(&file, 6084).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].payload, b"hello");
        assert_eq!(p[0].timestamp_ns, 1_500_000_001);
        assert_eq!(p[0].src, SocketAddr::V4(a));
        assert!(read_packets(&file[..30], 6084).is_err());
        // Cut inside the second record's data (both records have the same size): the first
        // packet, then the cut.
        let second = 24 + (file.len() - 24) / 2;
        let (p, cut) = read_complete_packets(&file[..second + 20], 6084).unwrap();
        assert_eq!(p.len(), 1);
        let cut = cut.unwrap();
        assert_eq!((cut.offset, cut.packet, cut.left), (second, 2, 20));
        assert_eq!(
            read_packets(&file[..second + 20], 6084),
            Err(CaptureError::Truncated(second))
        );
        assert!(matches!(
            read_packets(b"\x0a\x0d\x0d\x0a", 1),
            Err(CaptureError::BadMagic(_))
        ));
    }
}
