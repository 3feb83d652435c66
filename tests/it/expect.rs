//! `[expect]` bounds: `run` reports violations with the measured value and exits 3;
//! `check` prints a pass/fail table; unknown figures fail before the run.

use crate::common::{TINY as BASE, bin, scratch};

fn write(dir: &std::path::Path, name: &str, expect: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{BASE}\n[expect]\n{expect}\n")).unwrap();
    p.display().to_string()
}

#[test]
fn run_reports_violated_bounds_and_exits_3() {
    let d = scratch("expect-run");
    let file = write(
        &d,
        "x.toml",
        "\"lookups.success_rate\" = { min = 0.9 }\n\"hops.mean\" = { max = 1.0 }\n\
         \"calls.by_outcome.timeout\" = { max = 0 }",
    );
    let out = d.join("out");
    let o = bin(&["run", &file, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("expectation violated: hops.mean = ") && err.contains("expected <= 1"),
        "{err}"
    );
    assert!(!err.contains("lookups.success_rate"), "{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("expect.json")).unwrap()).unwrap();
    assert_eq!(v["pass"], false);
    let bounds = v["bounds"].as_array().unwrap();
    assert_eq!(bounds.len(), 3);
    let hops = bounds.iter().find(|b| b["figure"] == "hops.mean").unwrap();
    assert!(hops["measured"].as_f64().unwrap() > 1.0);
    assert_eq!(hops["pass"], false);
    // Everything else was written as usual.
    assert!(out.join("summary.json").exists() && out.join("lookups.csv").exists());

    let file = write(&d, "y.toml", "\"hops.mean\" = { min = 1.0, max = 9.0 }");
    let o = bin(&["run", &file, "--out", d.join("out2").to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn unknown_figures_and_empty_bounds_fail_before_the_run() {
    let d = scratch("expect-bad");
    for (expect, says) in [
        ("\"hops.men\" = { max = 5 }", "expect.hops.men"),
        ("\"hops.mean\" = {}", "give `min`, `max` or both"),
        (
            "\"hops.mean\" = { min = 3, max = 2 }",
            "min 3 is above max 2",
        ),
        ("\"hops.mean\" = { maximum = 2 }", "maximum"),
    ] {
        let file = write(&d, "bad.toml", expect);
        let out = d.join("out");
        let o = bin(&["run", &file, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{expect}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("bad.toml"),
            "{expect}: {err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn check_prints_a_table_and_fails_on_any_violation() {
    let d = scratch("expect-check");
    let good = write(&d, "good.toml", "\"lookups.success_rate\" = { min = 0.5 }");
    let bad = write(&d, "bad.toml", "\"hops.p99\" = { max = 1 }");
    let none = d.join("none.toml");
    std::fs::write(&none, BASE).unwrap();
    let out = d.join("results");
    let o = bin(&[
        "check",
        &good,
        none.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("lookups.success_rate") && text.contains("pass"),
        "{text}"
    );
    // A scenario without [expect] is not run, and says so.
    assert!(
        text.contains(&format!("{}: no [expect] table, skipped", none.display())),
        "{text}"
    );
    assert!(text.contains("1 skipped"), "{text}");
    assert!(!out.join("none").exists(), "none.toml was run");
    assert!(out.join("good/summary.json").exists());

    let o = bin(&["check", &good, &bad, "--out", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{text}");
    let line = text.lines().find(|l| l.contains("hops.p99")).unwrap();
    assert!(line.contains("<= 1") && line.ends_with("FAIL"), "{line}");
    assert!(text.contains("2 scenarios, 2 bounds: 1 violated"), "{text}");

    let o = bin(&[
        "check",
        &good,
        "missing.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ERROR missing.toml"));
}

#[test]
fn check_rows_follow_the_scenarios_and_bounds_as_given() {
    let d = scratch("expect-order");
    // Bounds in the file in anti-alphabetical order.
    let z = write(
        &d,
        "z.toml",
        "\"lookups.success_rate\" = { min = 0.5 }\n\"hops.mean\" = { max = 9 }\n\"final.ring_correct_fraction\" = { min = 0.5 }",
    );
    let a = write(&d, "a.toml", "\"hops.p99\" = { max = 99 }");
    let out = d.join("results");
    let o = bin(&["check", &z, &a, "--out", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let figures: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|f| f.contains('.'))
        .collect();
    assert_eq!(
        figures,
        [
            "lookups.success_rate",
            "hops.mean",
            "final.ring_correct_fraction",
            "hops.p99"
        ],
        "{text}"
    );
    // expect.json lists the bounds in the same order.
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("z/expect.json")).unwrap()).unwrap();
    assert_eq!(v["bounds"][0]["figure"], "lookups.success_rate");
    assert_eq!(v["bounds"][2]["figure"], "final.ring_correct_fraction");
}

#[test]
fn check_gives_scenarios_of_one_file_stem_their_own_folders() {
    let d = scratch("expect-stems");
    for (sub, seed) in [("a", 11), ("b", 12)] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
        let text = BASE.replace("seed = 7", &format!("seed = {seed}"));
        let p = d.join(sub).join("x.toml");
        std::fs::write(
            &p,
            format!("{text}\n[expect]\n\"hops.mean\" = {{ max = 9 }}\n"),
        )
        .unwrap();
    }
    let (a, b) = (d.join("a/x.toml"), d.join("b/x.toml"));
    let out = d.join("results");
    let o = bin(&[
        "check",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("2 scenarios, 2 bounds"), "{text}");
    for (folder, seed) in [("a_x", 11), ("b_x", 12)] {
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(folder).join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["seed"], seed, "{folder}");
        assert!(out.join(folder).join("expect.json").is_file());
    }
    assert!(!out.join("x").exists());

    // The same file twice would share a folder: refused before anything runs.
    let o = bin(&[
        "check",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--out",
        d.join("twice").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("given twice"));
    assert!(!d.join("twice").exists());
}

#[test]
fn bounds_given_as_expressions_scale_with_the_scenario_as_run() {
    let d = scratch("expect-expr");
    // log2(20) = 4.32: the bound is 0.5 * 4.32 + 9 = 11.16 with the file's N, and with
    // `--set peers.count=24` it is 0.5 * log2(24) + 9 = 11.29.
    let file = write(
        &d,
        "x.toml",
        "\"hops.mean\" = { max = \"0.5 * log2(peers.count) + 9\" }\n\
         \"lookups.success_rate\" = { min = \"min(0.9, 1 - 1 / peers.count)\" }",
    );
    let out = d.join("out");
    let o = bin(&[
        "run",
        &file,
        "--set",
        "peers.count=24",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("expect.json")).unwrap()).unwrap();
    let bounds = v["bounds"].as_array().unwrap();
    let hops = bounds.iter().find(|b| b["figure"] == "hops.mean").unwrap();
    let want = 0.5 * 24f64.log2() + 9.0;
    assert!(
        (hops["max"].as_f64().unwrap() - want).abs() < 1e-12,
        "{hops}"
    );
    let rate = bounds
        .iter()
        .find(|b| b["figure"] == "lookups.success_rate")
        .unwrap();
    assert_eq!(rate["min"].as_f64(), Some(0.9));

    // The same expression, violated: the message gives the evaluated number.
    let file = write(
        &d,
        "y.toml",
        "\"hops.mean\" = { max = \"log2(peers.count) / 10\" }",
    );
    let o = bin(&["run", &file, "--out", d.join("out2").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    let want = format!("expected <= {}", 20f64.log2() / 10.0);
    assert!(err.contains("hops.mean") && err.contains(&want), "{err}");
}

#[test]
fn bad_bound_expressions_fail_before_the_run_naming_the_field() {
    let d = scratch("expect-expr-bad");
    for (expect, says) in [
        (
            "\"hops.mean\" = { max = \"0.5 * log2(peers.cout)\" }",
            "no scenario field `peers.cout`",
        ),
        (
            "\"hops.mean\" = { max = \"0.5 *\" }",
            "expected a number, a field or `(`",
        ),
        (
            "\"hops.mean\" = { max = \"log2(peers.count\" }",
            "expected `)`",
        ),
        (
            "\"hops.mean\" = { max = \"scenario.name + 1\" }",
            "is not a number",
        ),
        ("\"hops.mean\" = { max = \"logg(peers.count)\" }", "logg"),
        (
            "\"hops.mean\" = { max = \"1 / (peers.count - 20)\" }",
            "not a finite number",
        ),
        (
            "\"hops.mean\" = { min = \"peers.count\", max = 2 }",
            "min 20 is above max 2",
        ),
    ] {
        let file = write(&d, "bad.toml", expect);
        let out = d.join("out");
        let o = bin(&["run", &file, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{expect}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("bad.toml") && err.contains("expect.hops.mean"),
            "{expect}: {err}"
        );
        assert!(!out.exists());
    }
}
