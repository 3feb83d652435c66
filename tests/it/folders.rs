//! Results folders are never destroyed silently: `run`, `sweep` and `merge` refuse a
//! folder holding another kind of result, another scenario or unrelated files unless given
//! `--force`; a rerun replaces the previous result set and nothing else; `--out` naming a
//! file is refused before anything runs.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{TINY, bin, scratch};

/// [`TINY`] swept over two points, one seed each.
fn sweep_toml() -> String {
    format!("{TINY}\n[sweep]\nseeds = 1\n[sweep.grid]\n\"peers.count\" = [8, 16]\n")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Asserts a refusal before anything ran: status 2 and stderr naming the folder and `says`.
fn refused(o: &Output, dir: &Path, says: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&dir.display().to_string()), "{err}");
    assert!(err.contains(says), "{err}");
}

/// Every file under `dir`, relative path → bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
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

/// A shard folder (the whole sweep as shard 0/1) to merge from.
fn shard(d: &Path, file: &str) -> PathBuf {
    let sh = d.join("shard");
    ok(&bin(&["sweep", file, "--shard", "0/1", "--out", s(&sh)]));
    sh
}

#[test]
fn sweep_and_merge_refuse_a_run_folder_unless_forced() {
    let d = scratch("folders-run");
    let tiny = write(&d, "tiny.toml", TINY);
    let sweep = write(&d, "sweep.toml", &sweep_toml());
    let run = d.join("run");
    ok(&bin(&["run", &tiny, "--no-plots", "--out", s(&run)]));
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    let before = files(&run);

    let o = bin(&["sweep", &sweep, "--out", s(&run)]);
    refused(
        &o,
        &run,
        "holds a run of scenario tiny (summary.json); use --force",
    );
    let sh = shard(&d, &sweep);
    let o = bin(&["merge", s(&sh), "--out", s(&run)]);
    refused(
        &o,
        &run,
        "holds a run of scenario tiny (summary.json); use --force",
    );
    assert_eq!(before, files(&run), "a refused command changed the folder");

    ok(&bin(&["sweep", &sweep, "--out", s(&run), "--force"]));
    assert!(run.join("sweep.json").is_file() && run.join("aggregate.csv").is_file());
    for gone in [
        "summary.json",
        "lookups.csv",
        "timeseries.csv",
        "expect.json",
    ] {
        assert!(!run.join(gone).exists(), "{gone} left behind");
    }
    assert_eq!(std::fs::read(run.join("notes.txt")).unwrap(), b"mine");
}

#[test]
fn run_refuses_a_sweep_folder_unless_forced() {
    let d = scratch("folders-sweep");
    let tiny = write(&d, "tiny.toml", TINY);
    let sweep = write(&d, "sweep.toml", &sweep_toml());
    let sw = d.join("sw");
    ok(&bin(&["sweep", &sweep, "--out", s(&sw)]));
    let before = files(&sw);
    let o = bin(&["run", &tiny, "--out", s(&sw)]);
    refused(
        &o,
        &sw,
        "holds a sweep of scenario tiny (sweep.json); use --force",
    );
    assert_eq!(before, files(&sw), "a refused run changed the sweep folder");

    ok(&bin(&[
        "run",
        &tiny,
        "--no-plots",
        "--out",
        s(&sw),
        "--force",
    ]));
    assert!(sw.join("summary.json").is_file());
    for gone in [
        "sweep.json",
        "aggregate.csv",
        "point-000",
        "plots",
        "report.html",
    ] {
        assert!(!sw.join(gone).exists(), "{gone} left behind");
    }
}

#[test]
fn a_run_folder_of_another_scenario_and_unrelated_folders_are_refused() {
    let d = scratch("folders-other");
    let tiny = write(&d, "tiny.toml", TINY);
    let other = write(
        &d,
        "other.toml",
        &TINY.replace("name = \"tiny\"", "name = \"other\""),
    );
    let run = d.join("run");
    ok(&bin(&["run", &tiny, "--no-plots", "--out", s(&run)]));
    let o = bin(&["run", &other, "--out", s(&run)]);
    refused(
        &o,
        &run,
        "holds a run of scenario tiny (summary.json); use --force",
    );
    ok(&bin(&[
        "run",
        &other,
        "--no-plots",
        "--out",
        s(&run),
        "--force",
    ]));
    let summary = std::fs::read_to_string(run.join("summary.json")).unwrap();
    assert!(summary.contains("\"scenario\": \"other\""), "{summary}");

    // A folder with files but neither summary.json nor sweep.json.
    let sweep = write(&d, "sweep.toml", &sweep_toml());
    let sh = shard(&d, &sweep);
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let o = bin(&["merge", s(&sh), "--out", s(&mine)]);
    refused(
        &o,
        &mine,
        "holds notes.txt and no summary.json or sweep.json",
    );
    assert_eq!(files(&mine).len(), 1);
    let o = bin(&["run", &tiny, "--out", s(&mine)]);
    refused(&o, &mine, "use --force");
    ok(&bin(&["merge", s(&sh), "--out", s(&mine), "--force"]));
    assert!(mine.join("aggregate.csv").is_file());
    assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"mine");
    // A second merge of the same sweep into it is no overwrite: it works without --force.
    ok(&bin(&["merge", s(&sh), "--out", s(&mine)]));
}

#[test]
fn a_rerun_replaces_the_previous_result_set_and_nothing_else() {
    let d = scratch("folders-rerun");
    let with_expect = write(
        &d,
        "a.toml",
        &format!("{TINY}\n[expect]\n\"lookups.success_rate\" = {{ min = 0.5 }}\n"),
    );
    let without = write(&d, "b.toml", TINY);
    let run = d.join("run");
    ok(&bin(&["run", &with_expect, "--out", s(&run)]));
    assert!(run.join("expect.json").is_file() && run.join("plots/hops.png").is_file());
    std::fs::write(run.join("notes.txt"), "mine").unwrap();
    std::fs::write(run.join("plots/sketch.txt"), "mine too").unwrap();

    // The same scenario name, no [expect], no plots: nothing of the first run may stay.
    ok(&bin(&["run", &without, "--no-plots", "--out", s(&run)]));
    let left: Vec<String> = files(&run).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        left,
        [
            "call_setups.csv",
            "events.csv",
            "host.json",
            "lookups.csv",
            "notes.txt",
            "plots/sketch.txt",
            "scenario.toml",
            "source.toml",
            "summary.json",
            "timeseries.csv",
            "traffic.csv",
        ]
    );
    assert_eq!(
        std::fs::read(run.join("source.toml")).unwrap(),
        TINY.as_bytes()
    );
    assert_eq!(std::fs::read(run.join("notes.txt")).unwrap(), b"mine");

    // Rerunning from the folder's own scenario.toml works: it is read before it is replaced.
    let own = run.join("scenario.toml");
    let o = bin(&["run", s(&own), "--no-plots", "--out", s(&run)]);
    ok(&o);
    assert!(run.join("summary.json").is_file() && run.join("source.toml").is_file());
}

#[test]
fn out_naming_a_file_is_refused_before_anything_runs() {
    let d = scratch("folders-file");
    let tiny = write(&d, "tiny.toml", TINY);
    let sweep = write(&d, "sweep.toml", &sweep_toml());
    let sh = shard(&d, &sweep);
    let file = d.join("taken");
    std::fs::write(&file, "data").unwrap();
    let says = format!("--out {} is a file, not a folder", file.display());
    for args in [
        vec!["run", &tiny, "--out", s(&file)],
        vec!["sweep", &sweep, "--out", s(&file)],
        vec!["merge", s(&sh), "--out", s(&file)],
        vec!["check", &tiny, "--out", s(&file)],
    ] {
        let o = bin(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&says), "{args:?}: {err}");
        assert!(!err.contains("os error"), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} ran something");
        assert_eq!(std::fs::read(&file).unwrap(), b"data");
    }
    // A file further up the path is named too.
    let under = file.join("sub");
    let o = bin(&["run", &tiny, "--out", s(&under)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{} is a file, not a folder", file.display())),
        "{err}"
    );
}
