//! Mapping byte offsets of a TOML document to line/column and to field paths, for error
//! messages that name the line and the field.

use toml::de::{DeTable, DeValue};

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Every key of the document as `(path, key span, value span)`.
fn entries(text: &str) -> Vec<(String, std::ops::Range<usize>, std::ops::Range<usize>)> {
    fn walk(
        t: &DeTable<'_>,
        prefix: &str,
        out: &mut Vec<(String, std::ops::Range<usize>, std::ops::Range<usize>)>,
    ) {
        for (k, v) in t.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            out.push((path.clone(), k.span(), v.span()));
            match v.get_ref() {
                DeValue::Table(inner) => walk(inner, &path, out),
                // `[[events]]`: entry k is `events[k]`.
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let DeValue::Table(inner) = item.get_ref() {
                            let at = format!("{path}[{i}]");
                            out.push((at.clone(), item.span(), item.span()));
                            walk(inner, &at, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(doc) = DeTable::parse(text) {
        walk(doc.get_ref(), "", &mut out);
    }
    out
}

/// The innermost field whose key or value covers byte offset `at`.
pub fn field_at(text: &str, at: usize) -> Option<String> {
    entries(text)
        .into_iter()
        .filter(|(_, k, v)| k.contains(&at) || v.contains(&at))
        .max_by_key(|(p, _, _)| p.matches('.').count())
        .map(|(p, _, _)| p)
}

/// Byte offset of the value of field `path`, if the document sets it.
pub fn locate(text: &str, path: &str) -> Option<usize> {
    entries(text)
        .into_iter()
        .find(|(p, _, _)| p == path)
        .map(|(_, _, v)| v.start)
}

/// The key path toml recorded for a deserialisation error (shown by its `Display` when the
/// error carries no input), e.g. `peers.count`.
pub fn error_keys(e: &toml::de::Error) -> Option<String> {
    let mut e = e.clone();
    e.set_input(None);
    let shown = e.to_string();
    let line = shown.lines().rev().find(|l| l.starts_with("in `"))?;
    let keys = line.strip_prefix("in `")?.strip_suffix('`')?;
    (!keys.is_empty()).then(|| keys.to_string())
}

/// The keys of table `table` (a top-level table such as `expect`) in the order the document
/// lists them; empty when the document does not parse or has no such table.
pub fn keys_in_order(text: &str, table: &str) -> Vec<String> {
    let Ok(doc) = DeTable::parse(text) else {
        return Vec::new();
    };
    let Some(DeValue::Table(t)) = doc
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == table)
        .map(|(_, v)| v.get_ref())
    else {
        return Vec::new();
    };
    let mut keys: Vec<(usize, String)> = t
        .iter()
        .map(|(k, _)| (k.span().start, k.get_ref().to_string()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}
