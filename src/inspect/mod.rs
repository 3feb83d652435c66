//! `reload-sim decode`: turns bytes, hex or pcap captures into decoded RELOAD messages and
//! renders them as readable text or JSON.
//!
//! The JSON shape (one object per message) is documented in docs/cli.md under
//! "Decoding messages".

mod input;
mod json;
mod text;

pub use input::{
    Content, FrameInfo, InputError, Item, Origin, decode_bytes, decode_pcap, parse_kind_spec,
};
pub use json::item_json;
pub use text::render_text;
