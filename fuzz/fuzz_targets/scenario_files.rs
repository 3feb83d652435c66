//! Fuzzes the readers of the files a scenario names: churn traces (CSV) and router graphs
//! (edge lists and GraphML). Any text must give a value or an error naming a line inside
//! the input, never a panic; a graph that reads must pass or fail its checks cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reload_sim::sim::churn::ChurnTrace;
use reload_sim::sim::churn::trace::Slots;
use reload_sim::sim::network::Topology;
use reload_sim::sim::network::topology::load;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count() as u64 + 1;
    let slots = Slots { peers: 50, fixed: 1 };
    if let Err(e) = ChurnTrace::parse(text, slots) {
        assert!(e.line.is_none_or(|l| l <= lines));
    }
    match load::parse(text, 5.0) {
        Ok(g) if g.names.len() <= 256 => {
            let _ = Topology::new(g);
        }
        Ok(_) => {}
        Err(e) => assert!(e.line.is_none_or(|l| l <= lines)),
    }
});
