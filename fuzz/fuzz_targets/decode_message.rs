//! Fuzzes the message decoder, the forwarding fast path and the framing decoder.
//! Anything that decodes must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reload_sim::proto::wire::framing::Frame;
use reload_sim::proto::wire::{Destination, ForwardEdit, HeaderView, Message};
use reload_sim::proto::id::NodeId;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::decode(data) {
        let again = m.to_bytes().expect("a decoded message re-encodes");
        assert_eq!(again, data, "decode/encode is not the identity");
    }
    if let Ok(view) = HeaderView::parse(data) {
        let _ = view.first_destination();
        let via = Destination::Node(NodeId(7));
        let mut out = Vec::new();
        if view.forward_into(ForwardEdit { pop_destinations: 1, push_via: Some(&via), decrement_ttl: true }, &mut out).is_ok() {
            HeaderView::parse(&out).expect("forwarded bytes parse");
        }
    }
    let _ = Frame::decode(data);
});
