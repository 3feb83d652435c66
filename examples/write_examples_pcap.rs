//! Writes the example capture (every message type, framed, UDP port 6084):
//! `cargo run --example write_examples_pcap -- captures/all-messages.pcap`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "all-messages.pcap".into());
    let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let n = reload_sim::pcap::write_example_capture(file)?;
    println!("wrote {n} packets to {path}");
    Ok(())
}
