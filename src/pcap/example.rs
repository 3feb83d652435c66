//! The example capture: every example message in a FramedMessage data frame over UDP port
//! 6084, each answered by an ack frame. `captures/all-messages.pcap` is this capture.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

use super::{PcapWriter, RELOAD_PORT};
use crate::proto::wire::examples::all_messages;
use crate::proto::wire::framing::{Frame, received_mask};
use crate::time::Time;

/// Writes the example capture to `out`; returns the number of packets written.
pub fn write_example_capture<W: Write>(out: W) -> io::Result<usize> {
    let mut w = PcapWriter::new(out)?;
    let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), RELOAD_PORT);
    let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), RELOAD_PORT);
    let invalid = |e| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut packets = 0;
    for (i, (_, m)) in all_messages().iter().enumerate() {
        let seq = i as u32;
        let bytes = m.to_bytes().map_err(invalid)?;
        let mut frame = Vec::with_capacity(bytes.len() + 8);
        Frame::Data {
            sequence: seq,
            message: &bytes,
        }
        .encode(&mut frame)
        .map_err(invalid)?;
        w.write_udp(Time(2 * u64::from(seq) * 1_000_000), a, b, &frame)?;
        frame.clear();
        Frame::Ack {
            ack_sequence: seq,
            received: received_mask(seq, 0..seq),
        }
        .encode(&mut frame)
        .map_err(invalid)?;
        w.write_udp(Time((2 * u64::from(seq) + 1) * 1_000_000), b, a, &frame)?;
        packets += 2;
    }
    w.finish()?;
    Ok(packets)
}
