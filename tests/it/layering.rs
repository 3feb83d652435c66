//! `src/proto` is sans-IO: no sockets, clocks, threads, global randomness, or simulator and
//! adapter imports.

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
