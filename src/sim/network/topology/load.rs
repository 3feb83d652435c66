//! Router graphs read from files: an edge list (`a b [delay_ms]` per line) or GraphML
//! (`<node id>`, `<edge source target>`, as the Internet Topology Zoo publishes). Errors
//! name the line.

use std::collections::HashMap;

use super::RouterGraph;
use crate::proto::config_doc::xml;
use crate::sim::rng::secs_to_ns;

/// Propagation in fibre, about 2/3 of c: ms per km.
pub const FIBRE_MS_PER_KM: f64 = 0.005;

/// A file's error: the line (1-based) when one is to blame, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    /// The line, if one is to blame.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

fn err(line: Option<u64>, message: impl Into<String>) -> LoadError {
    LoadError {
        line,
        message: message.into(),
    }
}

fn delay_ns(ms: f64, line: Option<u64>) -> Result<u64, LoadError> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(err(
            line,
            format!("delay {ms} ms: a delay is ≥ 0 and finite"),
        ));
    }
    Ok(secs_to_ns(ms / 1e3))
}

/// Router names in order of first appearance.
#[derive(Default)]
struct Names {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn get(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        i
    }
}

/// Reads the graph in `text`: GraphML when it starts with `<` (after blanks), else an edge
/// list. Links without a delay take `hop_ms`, or for GraphML nodes with `Latitude` and
/// `Longitude`, the great-circle distance at [`FIBRE_MS_PER_KM`]. Nodes attach to every
/// router.
pub fn parse(text: &str, hop_ms: f64) -> Result<RouterGraph, LoadError> {
    if text.trim_start().starts_with('<') {
        graphml(text, hop_ms)
    } else {
        edge_list(text, hop_ms)
    }
}

/// One link per line: two router names and an optional delay in ms, separated by blanks
/// or commas. `#` starts a comment; a first line naming a `delay_ms` column is a header.
fn edge_list(text: &str, hop_ms: f64) -> Result<RouterGraph, LoadError> {
    let mut names = Names::default();
    let mut links = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = Some(i as u64 + 1);
        let body = raw.split('#').next().unwrap_or("");
        let fields: Vec<&str> = body
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        if fields.is_empty() || (links.is_empty() && fields.contains(&"delay_ms")) {
            continue;
        }
        let ms = match fields.as_slice() {
            [_, _] => hop_ms,
            [_, _, d] => d
                .parse::<f64>()
                .map_err(|_| err(line, format!("delay `{d}` is not a number of ms")))?,
            _ => {
                return Err(err(
                    line,
                    format!(
                        "{} fields: a link is `router router [delay_ms]`",
                        fields.len()
                    ),
                ));
            }
        };
        let (a, b) = (names.get(fields[0]), names.get(fields[1]));
        if a == b {
            return Err(err(line, format!("a link from `{}` to itself", fields[0])));
        }
        links.push((a, b, delay_ns(ms, line)?));
    }
    finish(names, None, links)
}

fn finish(
    names: Names,
    positions: Option<Vec<(f64, f64)>>,
    links: Vec<(u32, u32, u64)>,
) -> Result<RouterGraph, LoadError> {
    if links.is_empty() {
        return Err(err(None, "no link"));
    }
    let n = names.names.len() as u32;
    Ok(RouterGraph {
        names: names.names,
        positions,
        links,
        attach: (0..n).collect(),
    })
}

fn line_of(text: &str, offset: usize) -> Option<u64> {
    let end = offset.min(text.len());
    Some(
        text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1,
    )
}

/// Great-circle distance between two (latitude, longitude) points in degrees, km.
fn great_circle_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la, lb) = (a.0.to_radians(), b.0.to_radians());
    let dl = (b.1 - a.1).to_radians();
    let h = ((lb - la) / 2.0).sin().powi(2) + la.cos() * lb.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

fn graphml(text: &str, hop_ms: f64) -> Result<RouterGraph, LoadError> {
    let tree = xml::parse(text.as_bytes(), "").map_err(|e| {
        let offset = match &e {
            crate::proto::config_doc::ConfigDocError::Syntax { offset, .. } => Some(*offset),
            _ => None,
        };
        err(
            offset.and_then(|o| line_of(text, o)),
            format!("GraphML: {e}"),
        )
    })?;
    // <key id="d3" for="node" attr.name="Latitude"/>: data keys by the name they stand for.
    let mut keys: HashMap<String, String> = HashMap::new();
    for e in tree.elements.iter().filter(|e| e.local == "key") {
        if let (Some(id), Some(name)) = (e.attr("id"), e.attr("attr.name")) {
            keys.insert(id.to_string(), name.to_string());
        }
    }
    let data = |e: &xml::Element, name: &str| -> Option<String> {
        tree.children(e, &e.ns, "data")
            .find(|d| {
                d.attr("key")
                    .is_some_and(|k| keys.get(k).map(String::as_str) == Some(name))
            })
            .map(|d| d.text.trim().to_string())
    };
    let number = |e: &xml::Element, name: &str| -> Result<Option<f64>, LoadError> {
        match data(e, name) {
            None => Ok(None),
            Some(v) => v.parse::<f64>().map(Some).map_err(|_| {
                err(
                    line_of(text, e.span.start),
                    format!("{name} `{v}` is not a number"),
                )
            }),
        }
    };
    let mut names = Names::default();
    let mut places: Vec<Option<(f64, f64)>> = Vec::new();
    for e in tree.elements.iter().filter(|e| e.local == "node") {
        let line = line_of(text, e.span.start);
        let id = e
            .attr("id")
            .ok_or_else(|| err(line, "a <node> without id"))?;
        if names.index.contains_key(id) {
            return Err(err(line, format!("node `{id}` appears twice")));
        }
        names.get(id);
        places.push(match (number(e, "Latitude")?, number(e, "Longitude")?) {
            (Some(la), Some(lo)) => Some((la, lo)),
            _ => None,
        });
    }
    let mut links = Vec::new();
    for e in tree.elements.iter().filter(|e| e.local == "edge") {
        let line = line_of(text, e.span.start);
        let end = |attr: &str| -> Result<u32, LoadError> {
            let id = e
                .attr(attr)
                .ok_or_else(|| err(line, format!("an <edge> without {attr}")))?;
            names
                .index
                .get(id)
                .copied()
                .ok_or_else(|| err(line, format!("edge {attr} `{id}` is not a <node>")))
        };
        let (a, b) = (end("source")?, end("target")?);
        if a == b {
            continue; // Topology Zoo files have a few self-loops; they carry nothing.
        }
        let ms = match number(e, "delay_ms")? {
            Some(ms) => ms,
            None => match (places[a as usize], places[b as usize]) {
                (Some(p), Some(q)) => great_circle_km(p, q) * FIBRE_MS_PER_KM,
                _ => hop_ms,
            },
        };
        links.push((a, b, delay_ns(ms, line)?));
    }
    finish(names, None, links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edge_list_reads_names_delays_and_comments() {
        let g = parse(
            "source,target,delay_ms\n# a triangle\nA,B,2.5\nB C 1\nC,A   # default delay\n",
            4.0,
        )
        .unwrap();
        assert_eq!(g.names, ["A", "B", "C"]);
        assert_eq!(
            g.links,
            [(0, 1, 2_500_000), (1, 2, 1_000_000), (2, 0, 4_000_000)]
        );
        assert_eq!(g.attach, [0, 1, 2]);
    }

    #[test]
    fn edge_list_errors_name_the_line() {
        let e = parse("a b 1\nb c x\n", 1.0).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("`x`"), "{}", e.message);
        let e = parse("a b 1\n\nb c 1 2\n", 1.0).unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse("a a 1\n", 1.0).unwrap_err();
        assert!(e.message.contains("itself"));
        let e = parse("a b -1\n", 1.0).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert_eq!(parse("# nothing\n", 1.0).unwrap_err().message, "no link");
    }

    const ZOO: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="Latitude" attr.type="double" for="node" id="d29" />
  <key attr.name="Longitude" attr.type="double" for="node" id="d32" />
  <key attr.name="delay_ms" attr.type="double" for="edge" id="d40" />
  <graph edgedefault="undirected">
    <node id="0"><data key="d29">51.5</data><data key="d32">-0.13</data></node>
    <node id="1"><data key="d29">48.86</data><data key="d32">2.35</data></node>
    <node id="2"/>
    <edge source="0" target="1" />
    <edge source="1" target="2"><data key="d40">7</data></edge>
    <edge source="2" target="0" />
    <edge source="2" target="2" />
  </graph>
</graphml>
"#;

    #[test]
    fn graphml_takes_delays_from_data_or_coordinates() {
        let g = parse(ZOO, 3.0).unwrap();
        assert_eq!(g.names, ["0", "1", "2"]);
        assert_eq!(g.links.len(), 3);
        // London–Paris is about 344 km: 1.72 ms in fibre.
        let d = g.links[0].2 as f64 / 1e6;
        assert!((d - 1.72).abs() < 0.02, "{d}");
        assert_eq!(g.links[1].2, 7_000_000);
        assert_eq!(g.links[2].2, 3_000_000);
    }

    #[test]
    fn graphml_errors_name_the_line() {
        let e = parse(&ZOO.replace("target=\"2\" />", "target=\"9\" />"), 3.0).unwrap_err();
        assert_eq!(e.line, Some(13));
        assert!(e.message.contains("`9`"), "{}", e.message);
        let e = parse("<graphml><graph><node id=\"a\"></graph>", 3.0).unwrap_err();
        assert!(e.message.starts_with("GraphML"), "{}", e.message);
        assert!(e.line.is_some());
    }
}
