//! Fuzzes the Configuration Document reader (RFC 6940 §11.1) and the kind-block reader of
//! ConfigUpdate (§6.5.4.1): untrusted XML must give a value or a typed error, never a
//! panic, and a kind-block that reads must lie inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reload_sim::proto::config_doc::{read_document, read_kind_block};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = read_document(data, "overlay.example.org") {
        for k in &c.kinds {
            assert!(k.block_span.end <= data.len() && k.kind_span.end <= k.block_span.end);
            let _ = k.signer(data);
        }
        let _ = c.signer(data);
    }
    if let Ok(k) = read_kind_block(data) {
        assert!(k.block_span.end <= data.len() && k.kind_span.end <= k.block_span.end);
        let _ = k.signer(data);
    }
});
