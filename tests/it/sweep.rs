//! `reload-sim sweep`, `--shard` and `merge` as a user runs them: identical bytes at any
//! thread count and after sharding, resumption after an interruption, and clear errors
//! before anything runs.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{TINY, bin, scratch};

use reload_sim::runner::{simulate, simulate_with_progress};
use reload_sim::scenario::parse;

/// [`TINY`] swept over 3 × 2 points, two seeds each.
fn sweep_toml() -> String {
    format!(
        "{TINY}{}",
        r#"
[sweep]
seeds = 2
metrics = ["lookups.issued"]
[sweep.grid]
"peers.count" = [8, 16, 32]
"network.loss" = [0.0, 0.02]
"#
    )
}

fn scenario_file(dir: &Path, text: &str) -> String {
    let p = dir.join("sweep.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn sweep(file: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", file, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    bin(&args)
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir` but the host.json files, relative path → bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.file_name().unwrap() != "host.json" {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn same_bytes_at_one_and_two_threads_and_after_merging_shards() {
    let d = scratch("sweep-bytes");
    let file = scenario_file(&d, &sweep_toml());
    let (j1, j2) = (d.join("j1"), d.join("j2"));
    ok(&sweep(&file, &j1, &["-j", "1"]));
    ok(&sweep(&file, &j2, &["-j", "2"]));
    let a = tree(&j1);
    // 6 points × 2 seeds, each a full run folder, plus sweep.json, scenario.toml, aggregate.csv.
    let summaries = a
        .iter()
        .filter(|(p, _)| p.ends_with("summary.json"))
        .count();
    assert_eq!(summaries, 12);
    assert!(a.iter().any(|(p, _)| p == "aggregate.csv"));
    assert_eq!(a, tree(&j2), "-j1 and -j2 differ");

    let shards: Vec<PathBuf> = (0..3).map(|i| d.join(format!("shard-{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        let o = sweep(&file, s, &["--shard", &format!("{i}/3"), "-j", "1"]);
        ok(&o);
        assert!(
            !s.join("aggregate.csv").exists(),
            "a shard is not the whole"
        );
    }
    let merged = d.join("merged");
    let mut args = vec!["merge"];
    let names: Vec<String> = shards.iter().map(|s| s.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    ok(&bin(&args));
    assert_eq!(
        a,
        tree(&merged),
        "merged shards differ from the unsharded sweep"
    );

    // A merge with a shard missing names what is missing; the documented recovery runs just
    // those runs and leaves the folder byte-identical to the unsharded sweep.
    let partial = d.join("partial");
    let o = bin(&[
        "merge",
        &names[0],
        &names[1],
        "--out",
        partial.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("4 of 12 runs are in none of the shards"),
        "{err}"
    );
    let recover = partial.join("scenario.toml");
    let o = sweep(recover.to_str().unwrap(), &partial, &["-j", "1"]);
    ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ran 4, skipped 8"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        a,
        tree(&partial),
        "a recovered merge differs from the unsharded sweep"
    );
}

#[test]
fn aggregate_has_mean_and_ci_per_point_and_metric() {
    let d = scratch("sweep-aggregate");
    let file = scenario_file(&d, &sweep_toml());
    ok(&sweep(&file, &d.join("out"), &[]));
    let csv = std::fs::read_to_string(d.join("out/aggregate.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "point,network.loss,peers.count,metric,runs,mean,ci95_low,ci95_high"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 16 default figures + 1 extra, for 6 points, less the three call and availability
    // figures, which are undefined without SIP and so have no rows.
    assert_eq!(rows.len(), 6 * 14);
    assert!(!rows.iter().any(|r| r[3].starts_with("calls.")));
    let hops: Vec<&Vec<&str>> = rows.iter().filter(|r| r[3] == "hops.mean").collect();
    assert_eq!(hops[0][..3], ["0", "0.0", "8"]);
    assert_eq!(hops[5][..3], ["5", "0.02", "32"]);
    for r in &hops {
        assert_eq!(r[4], "2");
        let (m, lo, hi): (f64, f64, f64) = (
            r[5].parse().unwrap(),
            r[6].parse().unwrap(),
            r[7].parse().unwrap(),
        );
        assert!(lo <= m && m <= hi && m > 1.0, "{r:?}");
    }
    assert!(rows.iter().any(|r| r[3] == "lookups.issued"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("out/sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["points"].as_array().unwrap().len(), 6);
    assert_eq!(manifest["points"][5]["values"]["peers.count"], 32);
    assert_eq!(manifest["points"][5]["runs"][1], "point-005/seed-8");
}

#[test]
fn an_interrupted_sweep_keeps_finished_runs_and_resumes() {
    let d = scratch("sweep-resume");
    let file = scenario_file(&d, &sweep_toml());
    let whole = d.join("whole");
    ok(&sweep(&file, &whole, &[]));
    let expected = tree(&whole);
    // An interruption: one run never finished (its half-written folder remains), another
    // never started, and aggregate.csv was never written.
    let part = d.join("part");
    ok(&sweep(&file, &part, &[]));
    std::fs::remove_dir_all(part.join("point-002/seed-7")).unwrap();
    std::fs::rename(
        part.join("point-004/seed-8"),
        part.join("point-004/seed-8.partial"),
    )
    .unwrap();
    std::fs::remove_file(part.join("point-004/seed-8.partial/summary.json")).unwrap();
    std::fs::remove_file(part.join("aggregate.csv")).unwrap();
    let o = sweep(&file, &part, &[]);
    ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ran 2, skipped 10"), "{out}");
    assert!(!part.join("point-004/seed-8.partial").exists());
    assert_eq!(expected, tree(&part));
}

#[test]
fn bad_sweeps_fail_before_any_run() {
    let d = scratch("sweep-bad");
    let cases: [(&str, &str, &str); 6] = [
        (
            "\"peers.count\" = [8, 16, 32]",
            "\"peers.cuont\" = [8]",
            "sweep.grid.peers.cuont",
        ),
        (
            "\"network.loss\" = [0.0, 0.02]",
            "\"network.loss\" = []",
            "has no values",
        ),
        (
            "\"peers.count\" = [8, 16, 32]",
            "\"peers.count\" = [8, \"x\"]",
            "invalid type",
        ),
        ("seeds = 2", "seeds = 0", "sweep.seeds"),
        (
            "\"network.loss\" = [0.0, 0.02]",
            "\"scenario.seed\" = [1, 2]",
            "not a grid field",
        ),
        (
            "metrics = [\"lookups.issued\"]",
            "metrics = [\"lookups.nope\"]",
            "lookups.nope",
        ),
    ];
    for (from, to, says) in cases {
        let file = scenario_file(&d, &sweep_toml().replace(from, to));
        let out = d.join("out");
        let o = sweep(&file, &out, &[]);
        assert_eq!(o.status.code(), Some(2), "{to}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("sweep.toml"),
            "{to}: {err}"
        );
        assert!(!out.exists(), "{to}: output written");
    }
    let file = scenario_file(&d, &sweep_toml());
    for spec in ["3/3", "1", "x/2", "0/0"] {
        let o = sweep(&file, &d.join("out"), &["--shard", spec]);
        assert_eq!(o.status.code(), Some(2), "{spec}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("bad shard"));
    }
    let o = bin(&[
        "sweep",
        "scenarios/quickstart.toml",
        "--out",
        "/nonexistent/x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no [sweep] table"));
    // Shards of two different sweeps do not merge.
    let (a, b) = (d.join("a"), d.join("b"));
    ok(&sweep(&file, &a, &["--shard", "0/2"]));
    let other = d.join("other.toml");
    std::fs::write(&other, sweep_toml().replace("seeds = 2", "seeds = 1")).unwrap();
    let other = other.display().to_string();
    ok(&sweep(&other, &b, &["--shard", "1/2"]));
    let merged = d.join("m");
    let o = bin(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not shards of one sweep"));
    assert!(!merged.exists());
    // A folder of another sweep is not overwritten.
    let o = sweep(&file, &b, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds another sweep"));
}

#[test]
fn progress_reporting_does_not_change_results() {
    let s = parse(&sweep_toml(), "sweep.toml", &[]).unwrap();
    let mut calls = 0;
    let a = simulate_with_progress(&s, &mut |r| {
        assert!(r.now <= r.end);
        calls += 1;
    });
    assert!(calls >= 100, "{calls}");
    let b = simulate(&s);
    assert_eq!(a.trace_digest, b.trace_digest);
    assert_eq!(a.samples, b.samples);
    assert_eq!(a.lookups.records(), b.lookups.records());
}
