//! Records the simulator's own git revision at build time, so every summary.json names
//! the code that produced it, wherever the run is started.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let rev = git(&["rev-parse", "HEAD"]).filter(|r| !r.is_empty());
    // Uncommitted changes to tracked files (untracked files do not count).
    let dirty = rev
        .as_ref()
        .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
        .map(|s| !s.is_empty());
    println!(
        "cargo:rustc-env=RELOAD_SIM_GIT_REV={}",
        rev.unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=RELOAD_SIM_GIT_DIRTY={}",
        dirty.map_or("", |d| if d { "true" } else { "false" })
    );
    for p in [
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "tests",
        "benches",
        "scenarios",
        "docs",
        "README.md",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
    for p in ["HEAD", "index", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git(&["rev-parse", "--git-path", &head_ref]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
