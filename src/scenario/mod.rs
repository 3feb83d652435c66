//! Scenario files: TOML, parsed into [`Scenario`] with `deny_unknown_fields`, overridden
//! with `--set section.key=value`, validated, and hashed.
//!
//! Errors name the file, the line and column, and the field (`peers.count`). Settings that
//! are valid but make part of a run do nothing come back as [`Warning`]s.

pub mod bound_expr;
pub mod events;
pub mod expect;
pub mod limits;
pub mod overrides;
mod resolve;
pub mod schema;
mod spans;
pub mod sweep;
pub mod topology;

use std::fmt;
use std::path::Path;

use sha1::{Digest, Sha1};

pub use schema::Scenario;

/// A scenario that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, or `--set` for an override.
    pub source: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// The field path (`peers.count`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A valid setting that is probably not meant (calls with SIP off, say). The run goes
/// ahead; `run`, `sweep` and `check` print it on stderr before anything runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The scenario file.
    pub source: String,
    /// 1-based line and column of the field, when the file sets it.
    pub position: Option<(usize, usize)>,
    /// The field path (`sip.call_rate_per_s`).
    pub field: String,
    /// What happens.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}", self.source)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.message)
    }
}

/// A scenario as loaded, with its warnings.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The effective scenario.
    pub scenario: Scenario,
    /// Its warnings, in a fixed order.
    pub warnings: Vec<Warning>,
}

/// Reads, parses, overrides and validates the scenario at `path`.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    load_with_warnings(path, overrides).map(|l| l.scenario)
}

/// [`load`], keeping the warnings.
pub fn load_with_warnings(path: &Path, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        source: path.display().to_string(),
        position: None,
        field: None,
        message: e.to_string(),
    })?;
    parse_with_warnings(&text, &path.display().to_string(), overrides)
}

/// Parses scenario `text` (named `source` in errors), applies `overrides`
/// (`section.key=value`), and validates the result.
pub fn parse(text: &str, source: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    parse_with_warnings(text, source, overrides).map(|l| l.scenario)
}

/// [`parse`], keeping the warnings of the effective scenario (positions from `text`).
pub fn parse_with_warnings(
    text: &str,
    source: &str,
    overrides: &[String],
) -> Result<Loaded, ScenarioError> {
    let scenario = parse_valid(text, source, overrides)?;
    let warnings = scenario
        .warnings()
        .into_iter()
        .map(|(field, message)| Warning {
            source: source.to_string(),
            position: spans::locate(text, &field).map(|a| spans::line_col(text, a)),
            field,
            message,
        })
        .collect();
    Ok(Loaded { scenario, warnings })
}

fn parse_valid(text: &str, source: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let mut scenario = parse_checked(text, source, overrides)?;
    scenario.resolve(text, source)?;
    Ok(scenario)
}

fn parse_checked(
    text: &str,
    source: &str,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let mut scenario: Scenario = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        let field = at
            .and_then(|a| spans::field_at(text, a))
            .or_else(|| spans::error_keys(&e));
        ScenarioError {
            source: source.to_string(),
            position: at.map(|a| spans::line_col(text, a)),
            field,
            message: e.message().trim().to_string(),
        }
    })?;
    scenario.dir = Path::new(source)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if let Err((field, message)) = scenario.validate() {
        return Err(ScenarioError {
            source: source.to_string(),
            position: spans::locate(text, &field).map(|a| spans::line_col(text, a)),
            field: Some(field),
            message,
        });
    }
    if overrides.is_empty() {
        return Ok(scenario);
    }
    let scenario = overrides::apply(&scenario, overrides)?;
    scenario.validate().map_err(|(field, message)| {
        // Blame the last `--set` of the field, else the file (the fault may lie in how an
        // override meets a value of the file, e.g. more fingers than connections).
        let set = overrides
            .iter()
            .rev()
            .find(|o| o.split_once('=').is_some_and(|(p, _)| p.trim() == field));
        match set {
            Some(spec) => ScenarioError {
                source: format!("--set {spec}"),
                position: None,
                field: Some(field),
                message,
            },
            None => ScenarioError {
                source: source.to_string(),
                position: spans::locate(text, &field).map(|a| spans::line_col(text, a)),
                field: Some(field),
                message,
            },
        }
    })?;
    Ok(scenario)
}

/// The figures of the `[expect]` table of scenario `text` in the order the file lists them
/// (the parsed table, a `BTreeMap`, has them in name order).
pub fn expect_order(text: &str) -> Vec<String> {
    spans::keys_in_order(text, "expect")
}

impl Scenario {
    /// The scenario's fields as JSON (`peers.count`, ...), the names `[expect]` bound
    /// expressions use.
    pub fn fields(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("scenario serialises")
    }
}

/// The scenario hash: SHA-1 (hex) of the effective scenario as canonical JSON (fields in
/// declaration order), with the seed set to 0 so runs of one scenario under different
/// seeds share it. A replayed churn trace and a router graph file count by their content
/// (`"sha1:<hex>"` in place of the path), so a copy elsewhere is the same scenario.
pub fn scenario_hash(s: &Scenario) -> String {
    let mut s = s.clone();
    s.scenario.seed = 0;
    if let Some(r) = &s.churn.replay {
        s.churn.trace = Some(format!("sha1:{}", r.sha1));
    }
    if let Some(topology::TopologySpec::File {
        path,
        loaded: Some(l),
        ..
    }) = &mut s.network.topology
    {
        *path = format!("sha1:{}", l.sha1);
    }
    let json = serde_json::to_string(&s).expect("scenario serialises");
    let d = Sha1::digest(json.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The effective scenario as TOML (every field, defaults filled in). A seed above
/// 2^63 − 1 (possible with `--seed`) has no TOML form and is written as a comment.
pub fn to_toml(s: &Scenario) -> String {
    match toml::to_string(s) {
        Ok(t) => t,
        Err(_) => {
            let mut c = s.clone();
            c.scenario.seed = 0;
            format!(
                "# seed {} does not fit a TOML integer; pass it with --seed\n{}",
                s.scenario.seed,
                toml::to_string(&c).unwrap_or_default()
            )
        }
    }
}
