//! `src/proto` is sans-IO: no sockets, clocks, threads, global randomness, or simulator and
//! adapter imports; `src/plot` and `src/report` do not import `src/html` (which builds on
//! both), and `src/report` does not import `src/plot`.

const FORBIDDEN: &[&str] = &[
    "UdpSocket",
    "TcpStream",
    "TcpListener",
    "std::net::Udp",
    "std::net::Tcp",
    "Instant",
    "SystemTime",
    "std::thread",
    "thread::spawn",
    "thread_rng",
    "rand::rng(",
    "OsRng",
    "tokio",
    "crate::sim",
    "crate::io",
    "std::fs",
    "std::env",
];

fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for f in FORBIDDEN {
                    if code.contains(f) {
                        found.push(format!("{}:{}: {f}", path.display(), n + 1));
                    }
                }
            }
        }
    }
}

#[test]
fn proto_is_sans_io() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto");
    let mut found = Vec::new();
    visit(&root, &mut found);
    assert!(
        found.is_empty(),
        "src/proto must stay sans-IO:\n{}",
        found.join("\n")
    );
}

/// The code of a Rust file without `//` comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file names through `crate::` paths, braced groups included
/// (`crate::{plot, report::csv}` names `plot` and `report`).
fn crate_modules(text: &str) -> Vec<String> {
    let code = code(text);
    let mut out = Vec::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split at commas outside nested braces.
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// `path: crate::module` for every file under `src/<dir>` that names one of `forbidden`
/// through `crate::`.
fn imports_of(dir: &str, forbidden: &[&str]) -> Vec<String> {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(dir);
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for m in crate_modules(&text) {
            if forbidden.contains(&m.as_str()) {
                found.push(format!("{}: crate::{m}", f.display()));
            }
        }
    }
    found
}

#[test]
fn crate_paths_are_read_with_braced_groups() {
    let text = "use crate::{plot::figure, report::{csv, summary}};\n\
                // use crate::html;\nlet x = crate:: sim::rng::x();";
    assert_eq!(crate_modules(text), ["plot", "report", "sim"]);
}

#[test]
fn the_html_report_sits_above_plot_and_report() {
    let mut found = imports_of("plot", &["html"]);
    found.extend(imports_of("report", &["plot", "html"]));
    assert!(
        found.is_empty(),
        "src/html builds on src/plot and src/report; they must not import it or each \
         other that way:\n{}",
        found.join("\n")
    );
}
