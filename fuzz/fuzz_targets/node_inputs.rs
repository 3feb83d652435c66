//! Fuzzes a joined node (it started the overlay; two scripted peers are linked) with
//! arbitrary frames from arbitrary addresses, framed arbitrary messages, mutated valid
//! messages and timeouts. The node must never panic, and must send only well-formed frames.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../node_driver.rs"]
mod node_driver;

fuzz_target!(|data: &[u8]| {
    node_driver::Harness::new().run_bytes(data);
});
