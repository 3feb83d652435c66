//! A small, bounded XML reader for the subset of XML that §11.1 configuration documents
//! use: elements, attributes, character data, the five predefined entities and numeric
//! character references, CDATA sections, comments, processing instructions (the XML
//! declaration) and namespaces (`xmlns`, `xmlns:prefix`). Document type declarations are
//! refused, so no entity can expand. It reads untrusted bytes: every error is a
//! [`ConfigDocError`], never a panic, and nesting is limited to [`MAX_DEPTH`].
//!
//! The result is a flat tree: each [`Element`] keeps its namespace URI, local name,
//! attributes, direct character data, children, and its byte span (from the first `<` of
//! its start tag to the last `>` of its end tag), which is what §11.1 signatures cover.

use std::ops::Range;

use super::ConfigDocError;

/// Deepest element nesting accepted (the §11.1 grammar needs 5 levels).
pub const MAX_DEPTH: usize = 32;

/// One element.
#[derive(Clone, Debug)]
pub struct Element<'a> {
    /// Namespace URI, empty for none.
    pub ns: String,
    /// Local name (after the prefix).
    pub local: &'a str,
    /// Attributes as written: (qualified name, decoded value).
    pub attrs: Vec<(&'a str, String)>,
    /// Character data directly inside the element, entities decoded.
    pub text: String,
    /// Child elements, indices into [`Tree::elements`].
    pub children: Vec<usize>,
    /// Bytes of the element, start tag to end tag inclusive.
    pub span: Range<usize>,
}

impl Element<'_> {
    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed document: its elements, the root first.
#[derive(Clone, Debug)]
pub struct Tree<'a> {
    /// Every element in document order; index 0 is the root.
    pub elements: Vec<Element<'a>>,
}

impl<'a> Tree<'a> {
    /// The root element.
    pub fn root(&self) -> &Element<'a> {
        &self.elements[0]
    }

    /// The children of `e` in namespace `ns` called `local`.
    pub fn children<'t>(
        &'t self,
        e: &'t Element<'a>,
        ns: &'t str,
        local: &'t str,
    ) -> impl Iterator<Item = &'t Element<'a>> + 't {
        e.children
            .iter()
            .map(|&i| &self.elements[i])
            .filter(move |c| c.ns == ns && c.local == local)
    }

    /// The first child of `e` in namespace `ns` called `local`.
    pub fn child<'t>(
        &'t self,
        e: &'t Element<'a>,
        ns: &'t str,
        local: &'t str,
    ) -> Option<&'t Element<'a>> {
        self.children(e, ns, local).next()
    }
}

/// Namespace bindings in force: (element depth that declared it, prefix, URI). The
/// default namespace has the empty prefix.
struct Scopes {
    bindings: Vec<(usize, String, String)>,
}

impl Scopes {
    fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace");
        }
        self.bindings
            .iter()
            .rev()
            .find(|(_, p, _)| p == prefix)
            .map(|(_, _, uri)| uri.as_str())
    }
}

fn syntax(offset: usize, what: &'static str) -> ConfigDocError {
    ConfigDocError::Syntax { offset, what }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_name_byte(c: u8) -> bool {
    !is_space(c) && !matches!(c, b'<' | b'>' | b'/' | b'=' | b'"' | b'\'' | b'&')
}

/// Parses `bytes` (UTF-8) into a tree. `default_ns` is the default namespace in force
/// before the root (for a ConfigUpdate's kind-blocks, `config-base`, §6.5.4.1).
pub fn parse<'a>(bytes: &'a [u8], default_ns: &str) -> Result<Tree<'a>, ConfigDocError> {
    let s = std::str::from_utf8(bytes).map_err(|_| ConfigDocError::NotUtf8)?;
    let b = s.as_bytes();
    let mut p = Parser {
        s,
        pos: 0,
        elements: Vec::new(),
        open: Vec::new(),
        scopes: Scopes {
            bindings: vec![(0, String::new(), default_ns.to_string())],
        },
        root_done: false,
    };
    while p.pos < b.len() {
        let Some(lt) = s[p.pos..].find('<').map(|i| p.pos + i) else {
            p.text(p.pos, b.len())?;
            break;
        };
        p.text(p.pos, lt)?;
        let rest = &s[lt..];
        if rest.starts_with("<?") {
            p.pos = p.skip_past(lt, "?>")?;
        } else if rest.starts_with("<!--") {
            p.pos = p.skip_past(lt, "-->")?;
        } else if rest.starts_with("<![CDATA[") {
            let end = p.skip_past(lt, "]]>")?;
            let data = &s[lt + 9..end - 3];
            p.top_text(lt)?.push_str(data);
            p.pos = end;
        } else if rest.starts_with("<!") {
            return Err(syntax(lt, "document type declarations are not supported"));
        } else if rest.starts_with("</") {
            p.end_tag(lt)?;
        } else {
            p.start_tag(lt)?;
        }
    }
    if !p.open.is_empty() {
        return Err(syntax(b.len(), "unclosed element"));
    }
    if p.elements.is_empty() {
        return Err(syntax(0, "no root element"));
    }
    Ok(Tree {
        elements: p.elements,
    })
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    elements: Vec<Element<'a>>,
    /// Open elements: index and qualified name.
    open: Vec<(usize, &'a str)>,
    scopes: Scopes,
    root_done: bool,
}

impl<'a> Parser<'a> {
    /// The offset just past the next `end` after `from`.
    fn skip_past(&self, from: usize, end: &str) -> Result<usize, ConfigDocError> {
        self.s[from..]
            .find(end)
            .map(|i| from + i + end.len())
            .ok_or(syntax(from, "unterminated markup"))
    }

    fn top_text(&mut self, at: usize) -> Result<&mut String, ConfigDocError> {
        match self.open.last() {
            Some(&(i, _)) => Ok(&mut self.elements[i].text),
            None => Err(syntax(at, "character data outside the root element")),
        }
    }

    /// Character data in `from..to`: appended to the open element, or only whitespace
    /// outside the root.
    fn text(&mut self, from: usize, to: usize) -> Result<(), ConfigDocError> {
        let raw = &self.s[from..to];
        if self.open.is_empty() {
            if raw.bytes().all(is_space) {
                return Ok(());
            }
            return Err(syntax(from, "character data outside the root element"));
        }
        let decoded = unescape(raw, from)?;
        self.top_text(from)?.push_str(&decoded);
        Ok(())
    }

    /// A name starting at `at`; returns it and the offset after it.
    fn name(&self, at: usize) -> Result<(&'a str, usize), ConfigDocError> {
        let b = self.s.as_bytes();
        let mut end = at;
        while end < b.len() && is_name_byte(b[end]) {
            end += 1;
        }
        if end == at {
            return Err(syntax(at, "expected a name"));
        }
        Ok((&self.s[at..end], end))
    }

    fn skip_space(&self, mut at: usize) -> usize {
        let b = self.s.as_bytes();
        while at < b.len() && is_space(b[at]) {
            at += 1;
        }
        at
    }

    fn start_tag(&mut self, lt: usize) -> Result<(), ConfigDocError> {
        if self.root_done && self.open.is_empty() {
            return Err(syntax(lt, "a second root element"));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(ConfigDocError::TooDeep);
        }
        let b = self.s.as_bytes();
        let (qname, mut at) = self.name(lt + 1)?;
        let mut attrs: Vec<(&'a str, String)> = Vec::new();
        let empty = loop {
            let next = self.skip_space(at);
            match b.get(next) {
                Some(b'>') => {
                    at = next + 1;
                    break false;
                }
                Some(b'/') if b.get(next + 1) == Some(&b'>') => {
                    at = next + 2;
                    break true;
                }
                None => return Err(syntax(next, "unterminated start tag")),
                _ if next == at => return Err(syntax(next, "expected whitespace")),
                _ => {}
            }
            let (name, after) = self.name(next)?;
            let eq = self.skip_space(after);
            if b.get(eq) != Some(&b'=') {
                return Err(syntax(eq, "expected '='"));
            }
            let q = self.skip_space(eq + 1);
            let quote = match b.get(q) {
                Some(c @ (b'"' | b'\'')) => *c,
                _ => return Err(syntax(q, "expected a quoted value")),
            };
            let close = self.s[q + 1..]
                .find(char::from(quote))
                .map(|i| q + 1 + i)
                .ok_or(syntax(q, "unterminated attribute value"))?;
            let raw = &self.s[q + 1..close];
            if raw.contains('<') {
                return Err(syntax(q, "'<' in an attribute value"));
            }
            if attrs.iter().any(|(n, _)| *n == name) {
                return Err(syntax(next, "duplicate attribute"));
            }
            attrs.push((name, unescape(raw, q + 1)?));
            at = close + 1;
        };
        let depth = self.open.len() + 1;
        for (name, value) in &attrs {
            if *name == "xmlns" {
                self.scopes
                    .bindings
                    .push((depth, String::new(), value.clone()));
            } else if let Some(prefix) = name.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(syntax(lt, "empty namespace for a prefix"));
                }
                self.scopes
                    .bindings
                    .push((depth, prefix.to_string(), value.clone()));
            }
        }
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        let ns = self
            .scopes
            .lookup(prefix)
            .ok_or(ConfigDocError::UnboundPrefix { offset: lt })?
            .to_string();
        let index = self.elements.len();
        self.elements.push(Element {
            ns,
            local,
            attrs,
            text: String::new(),
            children: Vec::new(),
            span: lt..at,
        });
        if let Some(&(parent, _)) = self.open.last() {
            self.elements[parent].children.push(index);
        }
        self.pos = at;
        if empty {
            self.close(depth);
        } else {
            self.open.push((index, qname));
        }
        Ok(())
    }

    fn end_tag(&mut self, lt: usize) -> Result<(), ConfigDocError> {
        let (qname, after) = self.name(lt + 2)?;
        let gt = self.skip_space(after);
        if self.s.as_bytes().get(gt) != Some(&b'>') {
            return Err(syntax(gt, "expected '>'"));
        }
        match self.open.pop() {
            Some((index, open)) if open == qname => {
                self.elements[index].span.end = gt + 1;
                self.close(self.open.len() + 1);
                self.pos = gt + 1;
                Ok(())
            }
            _ => Err(syntax(lt, "end tag does not match the open element")),
        }
    }

    /// Drops the namespace bindings of the element closed at `depth`.
    fn close(&mut self, depth: usize) {
        while self
            .scopes
            .bindings
            .last()
            .is_some_and(|(d, _, _)| *d >= depth && *d > 0)
        {
            self.scopes.bindings.pop();
        }
        if self.open.is_empty() {
            self.root_done = true;
        }
    }
}

/// `raw` with entity and character references replaced.
fn unescape(raw: &str, offset: usize) -> Result<String, ConfigDocError> {
    if !raw.contains('&') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let at = offset + (raw.len() - rest.len()) + amp;
        let semi = rest[amp..]
            .find(';')
            .ok_or(syntax(at, "unterminated reference"))?;
        let name = &rest[amp + 1..amp + semi];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .filter(|c| *c != '\0')
                    .ok_or(syntax(at, "unknown or invalid reference"))?
            }
        };
        out.push(c);
        rest = &rest[amp + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `text` with `<`, `>`, `&` and `"` escaped, for character data and attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['<', '>', '&', '"']) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_namespaces_text_and_spans() {
        let doc = br#"<?xml version="1.0"?>
<!-- c --><a xmlns="urn:x" xmlns:p="urn:p"><p:b k='v &amp; w'>1 &lt; 2</p:b><c/><![CDATA[<z>]]></a>"#;
        let t = parse(doc, "").unwrap();
        let a = t.root();
        assert_eq!((a.ns.as_str(), a.local), ("urn:x", "a"));
        let b = t.child(a, "urn:p", "b").unwrap();
        assert_eq!(b.attr("k"), Some("v & w"));
        assert_eq!(b.text, "1 < 2");
        assert_eq!(&doc[b.span.clone()], b"<p:b k='v &amp; w'>1 &lt; 2</p:b>");
        let c = t.child(a, "urn:x", "c").unwrap();
        assert_eq!(&doc[c.span.clone()], b"<c/>");
        assert_eq!(a.text, "<z>");
        assert_eq!(doc.len(), a.span.end);
        assert_eq!(escape("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }

    #[test]
    fn malformed_documents_are_typed_errors() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a><b></a></b>",
            b"<a/><b/>",
            b"text<a/>",
            b"<a x=1/>",
            b"<a x='1' x='2'/>",
            b"<a>&bogus;</a>",
            b"<a>&#0;</a>",
            b"<p:a/>",
            b"<!DOCTYPE a><a/>",
            b"<a><!-- </a>",
            b"\xff<a/>",
            b"<a",
            b"< a/>",
        ] {
            assert!(
                parse(bad, "").is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(deep.as_bytes(), "").unwrap_err(),
            ConfigDocError::TooDeep
        );
    }
}
