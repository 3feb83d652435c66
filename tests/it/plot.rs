//! Plots and `report.html`: `reload-sim run` draws them, `reload-sim plot` redraws them,
//! the bytes are the same every time, bad input is an error naming the file, and a sweep
//! folder gets its log2 N plot with the fitted line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use reload_sim::html;
use reload_sim::plot::{self, stats, sweep};

/// 30 peers, lookups from 20 s, SIP calls from 40 s: every run plot has data.
const SMALL: &str = r#"
[scenario]
name = "plot-small"
duration_s = 80
sample_interval_s = 5
[peers]
count = 30
arrival = "staggered"
arrival_window_s = 5
[overlay]
chord_update_interval_s = 20
chord_ping_interval_s = 40
[network]
latency = "coordinates"
latency_ms = 40
[workload]
lookup_rate_per_peer_per_s = 0.2
start_s = 20
[sip]
enabled = true
register_start_s = 15
call_rate_per_s = 1
call_start_s = 30
"#;

const RUN_PLOTS: [&str; 5] = [
    "hops",
    "lookup_latency_cdf",
    "ring",
    "maintenance_bandwidth",
    "call_setup_cdf",
];

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reload-sim"))
}

fn root() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("reload-sim-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_cli(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

/// One `reload-sim run` of [`SMALL`] (with plots), shared by the tests; they copy it
/// before changing anything.
fn small_run() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = root();
        let scn = root.join("small.toml");
        std::fs::write(&scn, SMALL).unwrap();
        let out = root.join("run");
        let o = run_cli(&[
            "run",
            scn.to_str().unwrap(),
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("plots: 10 files"), "{text}");
        out
    })
}

/// A copy of the shared run folder's input files (no plots, no report) under `name`.
fn copy_run(name: &str) -> PathBuf {
    let src = small_run();
    let dst = root().join(name);
    let _ = std::fs::remove_dir_all(&dst);
    std::fs::create_dir_all(&dst).unwrap();
    for f in [
        "summary.json",
        "scenario.toml",
        "lookups.csv",
        "call_setups.csv",
        "timeseries.csv",
        "traffic.csv",
    ] {
        std::fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    dst
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(p: &Path) -> String {
    String::from_utf8(read(p)).unwrap()
}

/// Width and height of a PNG, decoded in full.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let mut reader = png::Decoder::new(bytes).read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    (info.width, info.height)
}

/// Every file under `dir/plots` and `dir/report.html`, with their bytes, sorted by name.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read(&p),
            )
        })
        .collect();
    v.push(("report.html".into(), read(&dir.join("report.html"))));
    v.sort();
    v
}

#[test]
fn run_draws_every_plot_as_png_and_svg_and_a_self_contained_report() {
    let dir = small_run();
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&dir.join("summary.json"))).unwrap();
    assert!(summary["lookups"]["completed"].as_u64().unwrap() > 0);
    assert!(summary["calls"]["ok"].as_u64().unwrap() > 0);
    let labels: [(&str, &[&str]); 5] = [
        (
            "hops",
            &["hops (overlay transmissions", "completed lookups (count)"],
        ),
        (
            "lookup_latency_cdf",
            &["(ms)", "fraction of completed lookups"],
        ),
        (
            "ring",
            &["time (s)", "peers (count)", "ring correct fraction (0..1)"],
        ),
        (
            "maintenance_bandwidth",
            &["time (s)", "bytes per live node per second (B/s"],
        ),
        ("call_setup_cdf", &["(ms)", "fraction of ok calls"]),
    ];
    for (name, axis) in labels {
        let (w, h) = png_size(&read(&dir.join("plots").join(format!("{name}.png"))));
        assert!(w > 0 && h > 0, "{name}.png is {w}x{h}");
        let svg = text(&dir.join("plots").join(format!("{name}.svg")));
        assert!(svg.starts_with("<svg"), "{name}.svg");
        assert!(
            svg.contains("plot-small (seed 3): "),
            "{name}.svg has no title"
        );
        for a in axis {
            assert!(svg.contains(a), "{name}.svg lacks the axis label {a:?}");
        }
    }
    assert!(text(&dir.join("plots/maintenance_bandwidth.svg")).contains("update_req"));
    let html = text(&dir.join("report.html"));
    assert!(html.contains("plot-small (seed 3)"));
    assert!(
        html.contains(">lookups.success_rate<"),
        "summary rows are flattened"
    );
    assert!(html.contains("<caption>traffic.by_method</caption>"));
    for name in RUN_PLOTS {
        let at = html
            .find(&format!("<figure id=\"plot-{name}\">\n<svg"))
            .unwrap_or_else(|| panic!("report.html lacks {name} inline"));
        assert!(html[at..].contains("</svg>"));
    }
    assert_eq!(html.matches("<svg").count(), RUN_PLOTS.len());
    for bad in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script",
        "<img",
        "url(",
    ] {
        assert!(!html.contains(bad), "report.html refers outside: {bad}");
    }
}

#[test]
fn drawing_twice_gives_identical_bytes() {
    let dir = copy_run("twice");
    let first = html::draw_folder(&dir).unwrap();
    assert_eq!(first.len(), 2 * RUN_PLOTS.len() + 1);
    let a = outputs(&dir);
    html::draw_folder(&dir).unwrap();
    let b = outputs(&dir);
    assert_eq!(a, b);
    // The same as what `reload-sim run` drew.
    assert_eq!(a, outputs(small_run()));
}

#[test]
fn plot_command_redraws_a_run_folder() {
    let dir = copy_run("cli");
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(listed.lines().count(), 2 * RUN_PLOTS.len() + 1, "{listed}");
    assert!(
        listed.contains("hops.png") && listed.contains("report.html"),
        "{listed}"
    );
    let first = outputs(&dir);
    std::fs::remove_dir_all(dir.join("plots")).unwrap();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(outputs(&dir), first);
}

#[test]
fn plot_command_rejects_a_folder_that_is_not_a_result() {
    let dir = root().join("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a result folder"), "{err}");
}

#[test]
fn run_with_no_plots_writes_no_plots() {
    let root = root();
    let scn = root.join("noplots.toml");
    std::fs::write(&scn, SMALL.replace("duration_s = 80", "duration_s = 20")).unwrap();
    let out = root.join("noplots");
    let o = run_cli(&[
        "run",
        scn.to_str().unwrap(),
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("summary.json").is_file());
    assert!(!out.join("plots").exists());
    assert!(!out.join("report.html").exists());
}

#[test]
fn malformed_csv_is_an_error_naming_file_and_line() {
    let dir = copy_run("malformed");
    let path = dir.join("lookups.csv");
    let mut lines: Vec<String> = text(&path).lines().map(str::to_string).collect();
    // Line 3 of the file: hops is the fourth column.
    let mut cols: Vec<&str> = lines[2].split(',').collect();
    cols[3] = "many";
    lines[2] = cols.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let e = plot::draw_run(&dir).unwrap_err().to_string();
    assert!(e.contains("lookups.csv:3:") && e.contains("hops"), "{e}");
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lookups.csv:3:"), "{err}");

    // A row with a missing field.
    std::fs::write(
        &path,
        "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n1,a\n",
    )
    .unwrap();
    let e = plot::draw_run(&dir).unwrap_err().to_string();
    assert!(e.contains("lookups.csv:2:"), "{e}");

    // Broken summary.json.
    let dir = copy_run("badjson");
    std::fs::write(dir.join("summary.json"), "{\"scenario\": ").unwrap();
    let e = plot::draw_run(&dir).unwrap_err().to_string();
    assert!(e.contains("summary.json"), "{e}");
}

#[test]
fn a_missing_csv_skips_its_plot() {
    let dir = copy_run("nocalls");
    std::fs::remove_file(dir.join("call_setups.csv")).unwrap();
    std::fs::remove_file(dir.join("traffic.csv")).unwrap();
    let files = plot::draw_run(&dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hops.png",
            "hops.svg",
            "lookup_latency_cdf.png",
            "lookup_latency_cdf.svg",
            "ring.png",
            "ring.svg"
        ]
    );
    // Header only: no rows, no plot.
    std::fs::write(
        dir.join("lookups.csv"),
        "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n",
    )
    .unwrap();
    assert_eq!(plot::draw_run(&dir).unwrap().len(), 2);
}

/// mean hops per N from the README's log N table; latency without CI at one point.
const AGGREGATE: &str = "\
point,peers.count,metric,runs,mean,ci95_low,ci95_high
0,64,hops.mean,3,3.59,3.52,3.66
0,64,latency_ms_p99,3,510.5,,
1,256,hops.mean,3,4.73,4.69,4.77
1,256,latency_ms_p99,3,640.25,630.1,650.4
2,1024,hops.mean,3,5.73,5.70,5.76
2,1024,latency_ms_p99,3,760,751,769
3,4096,hops.mean,3,6.74,6.72,6.76
3,4096,latency_ms_p99,3,NaN,,
";

fn sweep_fixture(name: &str) -> PathBuf {
    let dir = root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let points: Vec<serde_json::Value> = [64, 256, 1024, 4096]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            serde_json::json!({
                "point": i,
                "values": {"peers.count": n},
                "runs": (1..=3).map(|s| format!("point-{i:03}/seed-{s}")).collect::<Vec<_>>(),
            })
        })
        .collect();
    let sweep = serde_json::json!({
        "scenario": "log-n-sweep",
        "scenario_hash": "0123456789abcdef0123456789abcdef01234567",
        "seed": 1,
        "fields": ["peers.count"],
        "seeds_per_point": 3,
        "points": points,
    });
    std::fs::write(dir.join("sweep.json"), sweep.to_string()).unwrap();
    std::fs::write(dir.join("aggregate.csv"), AGGREGATE).unwrap();
    dir
}

#[test]
fn a_sweep_draws_mean_hops_against_log2_n_with_the_fitted_line() {
    let dir = sweep_fixture("sweep");
    let files = plot::draw_sweep(&dir).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "hops_vs_log2n.png",
            "hops_vs_log2n.svg",
            "hops_mean_vs_peers_count.png",
            "hops_mean_vs_peers_count.svg",
            "latency_ms_p99_vs_peers_count.png",
            "latency_ms_p99_vs_peers_count.svg"
        ]
    );
    let pts = [(6.0, 3.59), (8.0, 4.73), (10.0, 5.73), (12.0, 6.74)];
    let fit = stats::least_squares(&pts).unwrap();
    assert!((fit.slope - 0.5225).abs() < 1e-9 && (fit.intercept - 0.495).abs() < 1e-9);
    let label = sweep::fit_label(&fit);
    assert!(
        label.starts_with("hops ≈ 0.52") && label.contains("·log2 N + 0.495"),
        "{label}"
    );
    let svg = text(&dir.join("plots/hops_vs_log2n.svg"));
    assert!(svg.contains(&label), "the legend shows the fit");
    assert!(svg.contains("log-n-sweep (seeds 1–3): mean lookup hops vs log2 N"));
    assert!(
        text(&dir.join("plots/hops_mean_vs_peers_count.svg"))
            .contains("log-n-sweep (seeds 1–3): hops.mean vs peers.count")
    );
    assert!(svg.contains("log2 N (N = peers.count, peers)"));
    let (w, h) = png_size(&read(&dir.join("plots/hops_vs_log2n.png")));
    assert!(w > 0 && h > 0);

    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = text(&dir.join("report.html"));
    assert!(html.contains("log-n-sweep (sweep, seeds 1–3)"));
    assert!(
        !html.contains("seed 1)"),
        "no single seed for a 3-seed sweep"
    );
    assert!(html.contains("<th>peers.count</th>") && html.contains("<th>hops.mean</th>"));
    assert!(
        html.contains("3.59<small>3.52 – 3.66</small>"),
        "mean and CI in the table"
    );
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains(&label));
    assert!(!html.contains("src=\"http"));
    // Redrawing gives the same bytes.
    let before = outputs(&dir);
    html::draw_folder(&dir).unwrap();
    assert_eq!(outputs(&dir), before);
}

#[test]
fn a_malformed_sweep_names_the_file() {
    let dir = sweep_fixture("badsweep");
    std::fs::write(
        dir.join("aggregate.csv"),
        AGGREGATE.replace("2,1024,hops.mean", "two,1024,hops.mean"),
    )
    .unwrap();
    let e = plot::draw_sweep(&dir).unwrap_err().to_string();
    assert!(e.contains("aggregate.csv:6:") && e.contains("point"), "{e}");
    std::fs::write(dir.join("aggregate.csv"), "metric,mean\nx,1\n").unwrap();
    let e = plot::draw_sweep(&dir).unwrap_err().to_string();
    assert!(e.contains("aggregate.csv:1:"), "{e}");
    std::fs::write(dir.join("sweep.json"), "[]").unwrap();
    let e = plot::draw_sweep(&dir).unwrap_err().to_string();
    assert!(e.contains("sweep.json") && e.contains("scenario"), "{e}");
}

/// The `[p50, p99]` a CDF legend of `svg` shows: `…: p50 <a> ms, p99 <b> ms`.
fn legend_quantiles(svg: &str) -> [String; 2] {
    let at = svg.find(": p50 ").expect("a p50/p99 legend") + ": p50 ".len();
    let rest = &svg[at..];
    let p50 = rest.split(" ms").next().unwrap().to_string();
    let p99 = rest
        .split("p99 ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .unwrap()
        .to_string();
    [p50, p99]
}

/// Nearest-rank quantiles of column `col` of `file` over the rows whose outcome is `ok`,
/// formatted as the legend does (one decimal, no trailing zero).
fn csv_quantiles(dir: &Path, file: &str, col: &str) -> [String; 2] {
    let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
    let h = r.headers().unwrap().clone();
    let (c, o) = (
        h.iter().position(|x| x == col).unwrap(),
        h.iter().position(|x| x == "outcome").unwrap(),
    );
    let v = stats::sorted(
        r.records()
            .map(Result::unwrap)
            .filter(|rec| &rec[o] == "ok")
            .filter_map(|rec| rec[c].parse::<f64>().ok()),
    );
    [0.5, 0.99].map(|q| reload_sim::plot::style::num(stats::quantile(&v, q).unwrap(), 1))
}

#[test]
fn cdf_legends_quote_the_summary_quantiles_and_fall_back_to_the_csv() {
    let dir = copy_run("quantiles");
    let path = dir.join("summary.json");
    let mut s: serde_json::Value = serde_json::from_slice(&read(&path)).unwrap();
    s["latency_ms"]["p50"] = serde_json::json!(123.4);
    s["latency_ms"]["p99"] = serde_json::json!(4567.8);
    s["calls"]["total_ms"]["p50"] = serde_json::json!(700);
    s["calls"]["total_ms"]["p99"] = serde_json::json!(10217.3);
    std::fs::write(&path, s.to_string()).unwrap();
    plot::draw_run(&dir).unwrap();
    let lat = text(&dir.join("plots/lookup_latency_cdf.svg"));
    assert_eq!(legend_quantiles(&lat), ["123.4", "4567.8"]);
    let calls = text(&dir.join("plots/call_setup_cdf.svg"));
    assert_eq!(legend_quantiles(&calls), ["700", "10217.3"]);

    // Without them (absent, or null) the legend computes them from the CSV.
    s["latency_ms"].as_object_mut().unwrap().remove("p99");
    s["calls"]["total_ms"]["p50"] = serde_json::Value::Null;
    std::fs::write(&path, s.to_string()).unwrap();
    plot::draw_run(&dir).unwrap();
    let lat = text(&dir.join("plots/lookup_latency_cdf.svg"));
    assert_eq!(
        legend_quantiles(&lat),
        csv_quantiles(&dir, "lookups.csv", "latency_ms")
    );
    let calls = text(&dir.join("plots/call_setup_cdf.svg"));
    assert_eq!(
        legend_quantiles(&calls),
        csv_quantiles(&dir, "call_setups.csv", "total_ms")
    );
}

#[test]
fn a_one_seed_sweep_names_its_seed() {
    let dir = sweep_fixture("oneseed");
    let path = dir.join("sweep.json");
    let mut s: serde_json::Value = serde_json::from_slice(&read(&path)).unwrap();
    s["seed"] = serde_json::json!(5);
    s["seeds_per_point"] = serde_json::json!(1);
    std::fs::write(&path, s.to_string()).unwrap();
    html::draw_folder(&dir).unwrap();
    let svg = text(&dir.join("plots/hops_vs_log2n.svg"));
    assert!(
        svg.contains("log-n-sweep (seed 5): mean lookup hops"),
        "{svg}"
    );
    assert!(text(&dir.join("report.html")).contains("log-n-sweep (sweep, seed 5)"));
}

#[test]
fn null_summary_figures_read_as_undefined() {
    let dir = copy_run("nulls");
    let path = dir.join("summary.json");
    let mut s: serde_json::Value = serde_json::from_slice(&read(&path)).unwrap();
    s["calls"]["success_rate"] = serde_json::Value::Null;
    for k in ["final", "mean", "min"] {
        s["availability"][k] = serde_json::Value::Null;
    }
    s["latency_ms"]["p99"] = serde_json::Value::Null;
    std::fs::write(&path, s.to_string()).unwrap();
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = text(&dir.join("report.html"));
    for key in [
        "calls.success_rate",
        "availability.final",
        "availability.mean",
        "availability.min",
        "latency_ms.p99",
    ] {
        let row = format!("<tr><td class=\"key\">{key}</td><td>undefined</td></tr>");
        assert!(html.contains(&row), "{key} is not shown as undefined");
    }
    assert!(!html.contains("<td>–</td>"), "no dash for a null figure");
    // Figures that are numbers still are.
    assert!(html.contains("<tr><td class=\"key\">calls.issued</td><td class=\"num\">"));
}

#[test]
fn sweep_points_without_a_row_for_a_metric_are_skipped() {
    let dir = sweep_fixture("missingrows");
    let agg: String = AGGREGATE
        .lines()
        .filter(|l| !l.starts_with("1,256,latency_ms_p99") && !l.starts_with("2,1024,hops.mean"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("aggregate.csv"), agg).unwrap();
    let o = run_cli(&["plot", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, figs) = sweep::sweep_figures(&dir).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "hops_vs_log2n",
            "hops_mean_vs_peers_count",
            "latency_ms_p99_vs_peers_count"
        ]
    );
    let points = |name: &str| match &figs.iter().find(|f| f.name == name).unwrap().body {
        plot::figure::Body::Xy(xy) => xy.series[0].points.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        points("hops_vs_log2n"),
        [(6.0, 3.59), (8.0, 4.73), (12.0, 6.74)]
    );
    assert_eq!(
        points("latency_ms_p99_vs_peers_count"),
        [(64.0, 510.5), (1024.0, 760.0)]
    );
    let html = text(&dir.join("report.html"));
    let missing = "<td class=\"num\" title=\"no run defines it\">undefined</td>";
    assert_eq!(html.matches(missing).count(), 2, "{html}");
    // Point 3's latency row has no mean: undefined too.
    assert!(html.contains("<td class=\"num\" title=\"3 runs\">undefined</td>"));
    assert_eq!(html.matches("<svg").count(), 3);
}

/// `dir`'s timeseries.csv with a `live_clients` column after `live_peers`, valued by
/// `clients(row index)`.
/// Rewrites `timeseries.csv`'s `live_clients` column (the one after `live_peers`) with
/// `clients(row)`, or removes it with `None`, as a folder written before the column
/// existed has it.
fn set_live_clients(dir: &Path, clients: Option<&dyn Fn(usize) -> u64>) {
    let path = dir.join("timeseries.csv");
    let old = text(&path);
    let mut out = String::new();
    for (i, line) in old.lines().enumerate() {
        let mut cols: Vec<String> = line.split(',').map(str::to_string).collect();
        if i == 0 {
            assert_eq!(cols[1..3], ["live_peers", "live_clients"]);
        }
        match clients {
            None => {
                cols.remove(2);
            }
            Some(f) if i > 0 => cols[2] = f(i).to_string(),
            Some(_) => {}
        }
        out += &cols.join(",");
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
}

fn ring_labels(dir: &Path) -> Vec<String> {
    let (_, figs) = plot::run::run_figures(dir).unwrap();
    let ring = figs.iter().find(|f| f.name == "ring").expect("a ring plot");
    let plot::figure::Body::Xy(xy) = &ring.body else {
        panic!("{ring:?}")
    };
    xy.series.iter().map(|s| s.label.clone()).collect()
}

#[test]
fn the_ring_plot_draws_live_clients_when_the_column_has_them() {
    // The column after live_peers, all zero (a run without clients): no line.
    let dir = copy_run("noclients");
    assert_eq!(ring_labels(&dir), ["live peers", "joined peers"]);
    // Old folders: no column, no clients line.
    set_live_clients(&dir, None);
    assert_eq!(ring_labels(&dir), ["live peers", "joined peers"]);

    let dir = copy_run("clients");
    set_live_clients(&dir, Some(&|i| 2 * i as u64));
    assert_eq!(
        ring_labels(&dir),
        ["live peers", "joined peers", "live clients"]
    );
    plot::draw_run(&dir).unwrap();
    let svg = text(&dir.join("plots/ring.svg"));
    assert!(svg.contains("live clients"), "the legend names the clients");
    assert!(
        svg.contains("peers and clients (count)"),
        "the axis counts both"
    );
    // The other columns are still read by name: the bandwidth plot uses timeseries times.
    assert!(dir.join("plots/maintenance_bandwidth.svg").is_file());
}

/// A run folder with a `summary.json` naming scenario `degenerate`, seed 1, and `files`
/// (name, contents) beside it.
fn fixture_run(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("summary.json"),
        r#"{"scenario": "degenerate", "seed": 1}"#,
    )
    .unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

const LOOKUP_HEADER: &str = "time_s,origin,key,hops,latency_ms,outcome,correct,responder\n";

/// lookups.csv with one `ok` row per (hops, latency_ms).
fn lookups_csv(rows: &[(u16, f64)]) -> String {
    let mut s = LOOKUP_HEADER.to_string();
    for (i, (h, ms)) in rows.iter().enumerate() {
        s += &format!("{i},a,b,{h},{ms},ok,true,c\n");
    }
    s
}

/// A text element of an SVG: position, anchor and text.
#[derive(Debug)]
struct SvgText {
    x: i32,
    y: i32,
    anchor: String,
    rotated: bool,
    dy: String,
    text: String,
}

/// Attribute `name` of an element's attribute text (what follows `<text ` or `<rect `).
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let at = if tag.starts_with(&key) {
        key.len()
    } else {
        tag.find(&format!(" {key}"))? + key.len() + 1
    };
    tag[at..].split('"').next()
}

fn svg_texts(svg: &str) -> Vec<SvgText> {
    svg.split("<text ")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').unwrap();
            SvgText {
                x: attr(tag, "x").unwrap().parse().unwrap(),
                y: attr(tag, "y").unwrap().parse().unwrap(),
                anchor: attr(tag, "text-anchor").unwrap_or("").to_string(),
                rotated: tag.contains("transform="),
                dy: attr(tag, "dy").unwrap_or("").to_string(),
                text: rest.split("</text>").next().unwrap().trim().to_string(),
            }
        })
        .collect()
}

/// The x axis tick labels of a plot, left to right.
fn x_ticks(svg: &str) -> Vec<(i32, String)> {
    let mut v: Vec<(i32, String)> = svg_texts(svg)
        .into_iter()
        .filter(|t| t.anchor == "middle" && !t.rotated && t.dy == "0.76em" && t.y > 60)
        .map(|t| (t.x, t.text))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The left y axis tick labels of a plot, bottom to top.
fn y_ticks(svg: &str) -> Vec<(i32, String)> {
    let mut v: Vec<(i32, String)> = svg_texts(svg)
        .into_iter()
        .filter(|t| t.anchor == "end" && !t.rotated)
        .map(|t| (-t.y, t.text))
        .collect();
    v.sort();
    // plotters may draw a label twice on the same spot (log axes): one label to the eye.
    v.dedup();
    v
}

/// Tick labels that are all different, at least two of them.
fn assert_distinct(what: &str, ticks: &[(i32, String)]) {
    let mut texts: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
    assert!(texts.len() >= 2, "{what}: ticks {ticks:?}");
    texts.sort();
    texts.dedup();
    assert_eq!(
        texts.len(),
        ticks.len(),
        "{what}: repeated tick labels {ticks:?}"
    );
}

/// The bars of a bar chart: (left x, width) of the rectangles in the first palette colour
/// standing on the `0` y tick.
fn bars(svg: &str) -> Vec<(f64, f64)> {
    let zero_y = svg_texts(svg)
        .into_iter()
        .find(|t| t.anchor == "end" && t.text == "0")
        .expect("a 0 count tick")
        .y;
    svg.split("<rect ")
        .skip(1)
        .map(|r| r.split_once("/>").unwrap().0)
        .filter(|r| attr(r, "fill") == Some("#4E79A7"))
        .filter_map(|r| {
            let n = |k: &str| attr(r, k).unwrap().parse::<f64>().unwrap();
            ((n("y") + n("height")).round() as i32 == zero_y).then(|| (n("x"), n("width")))
        })
        .collect()
}

/// Asserts the bar of `category` is drawn centred on its tick label.
fn assert_bar_on_tick(svg: &str, category: &str) {
    let ticks = x_ticks(svg);
    let (tick_x, _) = ticks
        .iter()
        .find(|t| t.1 == category)
        .unwrap_or_else(|| panic!("no tick {category}: {ticks:?}"));
    let b = bars(svg);
    assert!(
        b.iter()
            .any(|&(x, w)| w > 4.0 && (x + w / 2.0 - f64::from(*tick_x)).abs() <= 2.0),
        "no bar centred on tick {category} at {tick_x}: bars {b:?}"
    );
}

#[test]
fn all_zero_hops_and_latencies_give_a_centred_bar_and_readable_ticks() {
    let dir = fixture_run(
        "zeros",
        &[("lookups.csv", lookups_csv(&[(0, 0.0), (0, 0.0), (0, 0.0)]))],
    );
    plot::draw_run(&dir).unwrap();
    let hops = text(&dir.join("plots/hops.svg"));
    assert_eq!(x_ticks(&hops).len(), 1, "{:?}", x_ticks(&hops));
    assert_bar_on_tick(&hops, "0");
    assert_distinct("hops y", &y_ticks(&hops));
    let cdf = text(&dir.join("plots/lookup_latency_cdf.svg"));
    assert_distinct("latency x", &x_ticks(&cdf));
    assert_distinct("latency y", &y_ticks(&cdf));
}

#[test]
fn a_single_lookup_gives_sane_axes() {
    let dir = fixture_run("single", &[("lookups.csv", lookups_csv(&[(3, 42.5)]))]);
    plot::draw_run(&dir).unwrap();
    let hops = text(&dir.join("plots/hops.svg"));
    assert_bar_on_tick(&hops, "3");
    assert_distinct("hops x", &x_ticks(&hops));
    let cdf = text(&dir.join("plots/lookup_latency_cdf.svg"));
    assert_distinct("latency x", &x_ticks(&cdf));
}

#[test]
fn a_hop_count_outlier_becomes_an_overflow_bar() {
    let mut rows: Vec<(u16, f64)> = (0..200).map(|i| (i % 11, 10.0)).collect();
    rows.push((101, 10.0));
    let dir = fixture_run("outlier", &[("lookups.csv", lookups_csv(&rows))]);
    plot::draw_run(&dir).unwrap();
    let svg = text(&dir.join("plots/hops.svg"));
    let ticks = x_ticks(&svg);
    let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
    let mut expected: Vec<String> = (0..=10).map(|h| h.to_string()).collect();
    expected.push("≥ 11".into());
    assert_eq!(labels, expected);
    assert_bar_on_tick(&svg, "≥ 11");
    assert_bar_on_tick(&svg, "5");
    assert_eq!(bars(&svg).len(), 12);
    assert!(
        svg.contains("201 completed lookups, mean "),
        "legend counts all"
    );
    assert!(svg.contains(", max 101"), "the legend gives the longest");
    // Without an outlier every hop count has its own bar.
    let dir = fixture_run("nooutlier", &[("lookups.csv", lookups_csv(&rows[..200]))]);
    plot::draw_run(&dir).unwrap();
    let svg = text(&dir.join("plots/hops.svg"));
    assert_eq!(x_ticks(&svg).last().unwrap().1, "10");
    assert!(!svg.contains('≥'));
}

#[test]
fn one_sample_and_all_zero_samples_give_sane_axes() {
    let ts = "time_s,live_peers,joined_peers,ring_correct_fraction\n5,0,0,0\n";
    let traffic = "time_s,method,messages,bytes,live_peers\n5,ping_req,1,100,1\n";
    let dir = fixture_run(
        "onesample",
        &[
            ("timeseries.csv", ts.to_string()),
            ("traffic.csv", traffic.to_string()),
        ],
    );
    plot::draw_run(&dir).unwrap();
    for name in ["ring", "maintenance_bandwidth"] {
        let svg = text(&dir.join(format!("plots/{name}.svg")));
        assert_distinct(&format!("{name} x"), &x_ticks(&svg));
        assert_distinct(&format!("{name} y"), &y_ticks(&svg));
    }
}

#[test]
fn every_message_type_in_the_bandwidth_plot_looks_different() {
    let mut methods = reload_sim::sim::metrics::Metrics::new()
        .method_names()
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>();
    methods.push("unknown".into());
    assert!(methods.len() > 30, "{}", methods.len());
    let mut traffic = "time_s,method,messages,bytes,live_peers\n".to_string();
    for (i, m) in methods.iter().enumerate() {
        for t in [5, 10] {
            traffic += &format!("{t},{m},1,{},10\n", 1000 + i);
        }
    }
    let dir = fixture_run("allmethods", &[("traffic.csv", traffic)]);
    let (_, figs) = plot::run::run_figures(&dir).unwrap();
    let plot::figure::Body::Xy(xy) = &figs[0].body else {
        panic!("{:?}", figs[0])
    };
    assert_eq!(xy.series.len(), methods.len());
    let looks: Vec<_> = xy
        .series
        .iter()
        .map(|s| (plot::style::color(s.color), s.line))
        .collect();
    for (i, a) in looks.iter().enumerate() {
        for (j, b) in looks.iter().enumerate().skip(i + 1) {
            assert_ne!(
                a, b,
                "{} and {} share colour and line",
                xy.series[i].label, xy.series[j].label
            );
        }
    }
    plot::draw_run(&dir).unwrap();
}

#[test]
fn a_one_point_sweep_gives_sane_axes() {
    let dir = sweep_fixture("onepoint");
    std::fs::write(
        dir.join("aggregate.csv"),
        "point,peers.count,metric,runs,mean,ci95_low,ci95_high\n0,64,hops.mean,3,3.59,3.52,3.66\n",
    )
    .unwrap();
    html::draw_folder(&dir).unwrap();
    for name in ["hops_vs_log2n", "hops_mean_vs_peers_count"] {
        let svg = text(&dir.join(format!("plots/{name}.svg")));
        assert_distinct(&format!("{name} x"), &x_ticks(&svg));
        assert_distinct(&format!("{name} y"), &y_ticks(&svg));
    }
}
