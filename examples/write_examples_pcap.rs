//! Writes every example message as a FramedMessage in a UDP pcap: `cargo run --example write_examples_pcap -- out.pcap`.
use std::net::{Ipv4Addr, SocketAddrV4};

use reload_sim::pcap::PcapWriter;
use reload_sim::proto::wire::examples::all_messages;
use reload_sim::proto::wire::framing::Frame;
use reload_sim::time::Time;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples.pcap".into());
    let file = std::fs::File::create(&path)?;
    let mut w = PcapWriter::new(std::io::BufWriter::new(file))?;
    let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 6084);
    let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 6084);
    for (i, (_, m)) in all_messages().into_iter().enumerate() {
        let mut frame = Vec::new();
        Frame::Data {
            sequence: i as u32,
            message: &m.to_bytes()?,
        }
        .encode(&mut frame)?;
        w.write_udp(Time(i as u64 * 1_000_000), a, b, &frame)?;
    }
    w.finish()?;
    println!("wrote {path}");
    Ok(())
}
