//! The sweep's progress bar (indicatif): runs done, ETA, and the simulated time of the runs
//! in progress. Hidden when standard output or standard error is not a terminal.

use std::collections::BTreeMap;
use std::sync::Mutex;

use indicatif::ProgressBar;

use crate::runner::terminal_bar;
use crate::time::Time;

/// Progress of the runs of one sweep invocation.
pub struct Progress {
    bar: ProgressBar,
    /// Runs in progress: label → (simulated s, end s).
    running: Mutex<BTreeMap<String, (f64, f64)>>,
}

impl Progress {
    /// A bar over `total` runs; hidden unless `show` and stdout and stderr are terminals.
    pub fn new(total: usize, show: bool) -> Progress {
        let bar = terminal_bar(
            show,
            total as u64,
            "{bar:30} {pos}/{len} runs, {elapsed} elapsed, ETA {eta} {wide_msg}",
        );
        Progress {
            bar,
            running: Mutex::new(BTreeMap::new()),
        }
    }

    /// Run `label` reached simulated time `now` of `end`.
    pub fn advance(&self, label: &str, now: Time, end: Time) {
        if self.bar.is_hidden() {
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.insert(label.to_string(), (now.as_secs_f64(), end.as_secs_f64()));
        self.bar.set_message(render(&running));
    }

    /// Run `label` finished.
    pub fn finished(&self, label: &str) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.remove(label);
        self.bar.set_message(render(&running));
        self.bar.inc(1);
    }

    /// Prints a line above the bar (or plainly when hidden).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            println!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn render(running: &BTreeMap<String, (f64, f64)>) -> String {
    running
        .iter()
        .map(|(l, (t, end))| format!("{l} {t:.0}/{end:.0} s"))
        .collect::<Vec<_>>()
        .join(", ")
}
