//! Files a scenario names, loaded once it is valid: the churn trace of
//! `[churn] model = "trace"`, relative to the scenario file's directory.

use std::sync::Arc;

use sha1::{Digest, Sha1};

use super::schema::{ChurnKind, Replay, Scenario};
use super::{ScenarioError, spans};
use crate::sim::churn::ChurnTrace;
use crate::sim::churn::trace::Slots;

impl Scenario {
    /// Loads the churn trace, if the scenario replays one. `text` and `source` are the
    /// scenario file's, for the position of `churn.trace` in errors about the file as a
    /// whole; errors in its rows name the trace file and the line.
    pub fn resolve(&mut self, text: &str, source: &str) -> Result<(), ScenarioError> {
        let c = &self.churn;
        let Some(name) = c.trace.as_ref().filter(|_| c.model == ChurnKind::Trace) else {
            self.churn.replay = None;
            return Ok(());
        };
        let path = self.dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| ScenarioError {
            source: source.to_string(),
            position: spans::locate(text, "churn.trace").map(|a| spans::line_col(text, a)),
            field: Some("churn.trace".into()),
            message: format!("cannot read the trace {}: {e}", path.display()),
        })?;
        let file_error = |line: Option<u64>, message: String| ScenarioError {
            source: path.display().to_string(),
            position: line.map(|l| (l as usize, 1)),
            field: Some("churn.trace".into()),
            message,
        };
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| file_error(None, "the trace is not UTF-8 text".into()))?;
        let slots = Slots {
            peers: self.peers.count,
            fixed: if c.exempt_bootstrap {
                self.peers.bootstrap_count
            } else {
                0
            },
        };
        let trace = ChurnTrace::parse(&text, slots).map_err(|e| file_error(e.line, e.message))?;
        let sha1 = Sha1::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.churn.replay = Some(Replay {
            trace: Arc::new(trace),
            sha1,
            text: text.into(),
        });
        Ok(())
    }
}
