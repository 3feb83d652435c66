//! Classic pcap files (libpcap format): a writer for simulated traffic and a reader that
//! pulls RELOAD frames out of captures.
//!
//! The writer emits nanosecond-resolution pcap with Ethernet/IPv4/UDP packets, so
//! Wireshark's `reload-framing` dissector (UDP port 6084) decodes them.

mod example;
mod reader;
mod writer;

pub use example::write_example_capture;
pub use reader::{CaptureError, Cut, Packet, Transport, read_complete_packets, read_packets};
pub use writer::PcapWriter;

/// The IANA port of RELOAD (`reload-config`), where Wireshark decodes RELOAD framing.
pub const RELOAD_PORT: u16 = 6084;
