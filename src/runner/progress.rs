//! The progress bar of `reload-sim run` (indicatif, styled as the sweep's): simulated time
//! reached of the run's, ETA, events processed per second and live peers. Hidden unless
//! asked for and both standard output and standard error are terminals.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::Reached;

/// The bar of one run, in milliseconds of simulated time.
pub struct RunProgress {
    bar: ProgressBar,
    started: Instant,
}

impl RunProgress {
    /// A bar for a run starting now; hidden unless `show` and stdout and stderr are
    /// terminals.
    pub fn new(show: bool) -> RunProgress {
        RunProgress {
            bar: terminal_bar(
                show,
                0,
                "{bar:30} {prefix} s simulated, {elapsed} elapsed, ETA {eta}, {wide_msg}",
            ),
            started: Instant::now(),
        }
    }

    /// The run reached `r`.
    pub fn advance(&self, r: &Reached) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_length(r.end.0 / 1_000_000);
        self.bar.set_position(r.now.0 / 1_000_000);
        let wall = self.started.elapsed().as_secs_f64();
        let rate = if wall > 0.0 {
            r.events as f64 / wall
        } else {
            0.0
        };
        self.bar.set_prefix(format!(
            "{:.0}/{:.0}",
            r.now.as_secs_f64(),
            r.end.as_secs_f64()
        ));
        self.bar.set_message(format!(
            "{} events/s, {} live peers",
            rate_text(rate),
            r.live_peers
        ));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A bar of length `len` drawn on stderr with `template`, or a hidden one unless `show`
/// and stdout and stderr are terminals (the run's bar and the sweep's).
pub(crate) fn terminal_bar(show: bool, len: u64, template: &str) -> ProgressBar {
    if !(show && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// A rate with three significant figures: `840`, `61.2 k`, `1.23 M`.
fn rate_text(x: f64) -> String {
    let (v, unit) = if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        return format!("{x:.0}");
    };
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_with_three_figures() {
        assert_eq!(rate_text(840.4), "840");
        assert_eq!(rate_text(61_234.0), "61.2 k");
        assert_eq!(rate_text(1_234_567.0), "1.23 M");
        assert_eq!(rate_text(123_456_789.0), "123 M");
    }
}
