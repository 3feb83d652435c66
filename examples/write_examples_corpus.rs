//! Writes every example message as a raw file into a directory (a fuzzing seed corpus):
//! `cargo run --example write_examples_corpus -- DIR`.

use reload_sim::proto::wire::examples::all_messages;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    std::fs::create_dir_all(&dir)?;
    for (name, m) in all_messages() {
        std::fs::write(format!("{dir}/{name}.bin"), m.to_bytes()?)?;
    }
    Ok(())
}
