//! `reload-sim peer --pcap FILE`: every frame the peer sends or receives, written as a
//! TCP segment of its connection (Ethernet/IPv4, stream offsets per direction), so
//! Wireshark reassembles and dissects the RELOAD framing (`tcp.port == P` decoded as
//! `reload-framing`). Timestamps are wall-clock time. IPv6 links are not captured.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::Path;

use crate::pcap::PcapWriter;
use crate::time::Time;

/// The capture file and each direction's next stream offset.
pub struct Capture {
    writer: PcapWriter<BufWriter<File>>,
    /// Wall-clock nanoseconds since 1970 at the peer clock's zero.
    epoch_ns: u64,
    next_seq: HashMap<(SocketAddrV4, SocketAddrV4), u32>,
    /// Frames not written (IPv6, or a write error).
    pub skipped: u64,
}

impl Capture {
    /// Creates `path`; `epoch_ns` is the wall-clock time of the peer clock's zero.
    pub fn create(path: &Path, epoch_ns: u64) -> io::Result<Capture> {
        Ok(Capture {
            writer: PcapWriter::new(BufWriter::new(File::create(path)?))?,
            epoch_ns,
            next_seq: HashMap::new(),
            skipped: 0,
        })
    }

    /// Records one frame from `src` to `dst` at peer time `now`.
    pub fn frame(&mut self, now: Time, src: SocketAddr, dst: SocketAddr, bytes: &[u8]) {
        let (SocketAddr::V4(s), SocketAddr::V4(d)) = (src, dst) else {
            self.skipped += 1;
            return;
        };
        let seq = *self.next_seq.entry((s, d)).or_insert(1);
        let ack = *self.next_seq.entry((d, s)).or_insert(1);
        self.next_seq
            .insert((s, d), seq.wrapping_add(bytes.len() as u32));
        let at = Time(self.epoch_ns.saturating_add(now.as_nanos()));
        if self.writer.write_tcp(at, s, d, seq, ack, bytes).is_err() {
            self.skipped += 1;
        }
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) {
        let _ = self.writer.get_mut().flush();
    }
}
