//! `--set section.key=value` overrides, applied to the full, defaults-filled scenario table
//! before typed deserialisation. The value is read as a TOML value (`3`, `0.5`, `true`,
//! `"x"`), or else taken as a plain string. A path that names no field is an error. An
//! inline table (`{ p_good_bad = 0.01, p_bad_good = 0.25 }`) sets a whole table, an
//! optional one included: sweeps move several parameters together that way.

use serde::Deserialize;
use toml::{Table, Value};

use super::topology::TopologySpec;
use super::{Scenario, ScenarioError};

fn set_error(spec: &str, field: Option<&str>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        source: format!("--set {spec}"),
        position: None,
        field: field.map(str::to_string),
        message: message.into(),
    }
}

/// Parses the right-hand side of an override.
pub fn parse_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// Applies every `path=value` to `base`, in order, and deserialises the result.
pub fn apply(base: &Scenario, specs: &[String]) -> Result<Scenario, ScenarioError> {
    let table = Table::try_from(base)
        .map_err(|e| set_error("", None, format!("scenario not representable: {e}")))?;
    let mut root = Value::Table(table);
    let mut current = base.clone();
    for spec in specs {
        let Some((path, raw)) = spec.split_once('=') else {
            return Err(set_error(spec, None, "expected path.to.key=value"));
        };
        let path = path.trim();
        let keys: Vec<&str> = path.split('.').collect();
        let (last, parents) = keys.split_last().expect("split yields one item");
        let mut v = &mut root;
        for k in parents {
            v = match v {
                Value::Table(t) => t.get_mut(*k),
                // `events.0.fraction`: a number indexes a list of tables.
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                _ => None,
            }
            .ok_or_else(|| set_error(spec, Some(path), "no such field"))?;
        }
        let value = parse_value(raw.trim());
        match v {
            // A table value sets (or replaces) a whole table: `network.gilbert_elliott =
            // { p_good_bad = 0.01, p_bad_good = 0.25 }` moves its parameters together.
            Value::Table(t) => match (t.get_mut(*last), value) {
                (Some(Value::Table(_)) | None, Value::Table(new)) => {
                    t.insert((*last).to_string(), Value::Table(new));
                }
                (Some(Value::Table(_)) | None, _) => {
                    return Err(set_error(spec, Some(path), "no such field"));
                }
                (Some(slot), value) => *slot = value,
            },
            _ => return Err(set_error(spec, Some(path), "no such field")),
        }
        let Value::Table(table) = &root else {
            unreachable!("the root is a table")
        };
        current = Scenario::deserialize(table.clone())
            .map_err(|e| set_error(spec, Some(path), e.message().trim().to_string()))?;
        current.dir = base.dir.clone();
        current.churn.replay = base.churn.replay.clone();
        if let (
            Some(TopologySpec::File { path, loaded, .. }),
            Some(TopologySpec::File {
                path: was,
                loaded: had,
                ..
            }),
        ) = (&mut current.network.topology, &base.network.topology)
            && path == was
        {
            loaded.clone_from(had);
        }
    }
    Ok(current)
}
