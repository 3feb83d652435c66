//! Files a scenario names, loaded once it is valid, relative to the scenario file's
//! directory: the churn trace of `[churn] model = "trace"` and the router graph of
//! `[network] topology = { model = "file" }`.

use std::sync::Arc;

use sha1::{Digest, Sha1};

use super::schema::{ChurnKind, Replay, Scenario};
use super::topology::{LoadedGraph, TopologySpec};
use super::{ScenarioError, spans};
use crate::sim::churn::ChurnTrace;
use crate::sim::churn::trace::Slots;
use crate::sim::network::Topology;
use crate::sim::network::topology::load;

impl Scenario {
    /// Loads the files the scenario names. `text` and `source` are the scenario file's, for
    /// the position of the field in errors about a file as a whole; errors in a file's
    /// lines name that file and the line.
    pub fn resolve(&mut self, text: &str, source: &str) -> Result<(), ScenarioError> {
        self.resolve_trace(text, source)?;
        self.resolve_topology(text, source)
    }

    /// Reads and checks the router graph file, if the topology is one.
    fn resolve_topology(&mut self, text: &str, source: &str) -> Result<(), ScenarioError> {
        let dir = self.dir.clone();
        let Some(TopologySpec::File {
            path,
            hop_ms,
            loaded,
        }) = &mut self.network.topology
        else {
            return Ok(());
        };
        const FIELD: &str = "network.topology.path";
        let file = dir.join(&*path);
        let in_scenario = |message: String| ScenarioError {
            source: source.to_string(),
            position: spans::locate(text, FIELD).map(|a| spans::line_col(text, a)),
            field: Some(FIELD.into()),
            message,
        };
        let file_error = |line: Option<u64>, message: String| ScenarioError {
            source: file.display().to_string(),
            position: line.map(|l| (l as usize, 1)),
            field: Some(FIELD.into()),
            message,
        };
        let bytes = std::fs::read(&file).map_err(|e| {
            in_scenario(format!(
                "cannot read the router graph {}: {e}",
                file.display()
            ))
        })?;
        let content = String::from_utf8(bytes.clone())
            .map_err(|_| file_error(None, "the router graph is not UTF-8 text".into()))?;
        let graph = load::parse(&content, *hop_ms).map_err(|e| file_error(e.line, e.message))?;
        let topology = Topology::new(graph).map_err(|e| file_error(None, e.to_string()))?;
        *loaded = Some(LoadedGraph {
            topology: Arc::new(topology),
            sha1: sha1_hex(&bytes),
            text: content.into(),
        });
        Ok(())
    }

    /// Loads the churn trace, if the scenario replays one.
    fn resolve_trace(&mut self, text: &str, source: &str) -> Result<(), ScenarioError> {
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
        self.churn.replay = Some(Replay {
            trace: Arc::new(trace),
            sha1: sha1_hex(&bytes),
            text: text.into(),
        });
        Ok(())
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
