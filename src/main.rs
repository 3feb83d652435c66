//! The `reload-sim` command line. Thin: parse arguments, call the library, print.

use std::io::{Read, Write};

/// With `--features mimalloc`: a faster allocator for long runs, at some memory cost.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use reload_sim::inspect::{self, Item};
use reload_sim::proto::wire::codec::parse_hex;
use reload_sim::proto::wire::storage::KindTable;
use reload_sim::sim::capture::{NodeSet, PcapOptions};
use reload_sim::{check, expect};
use reload_sim::{html, plot, runner, sweep};

/// Deterministic simulator and toolkit for RELOAD (RFC 6940) / CHORD-RELOAD / P2PSIP overlays.
#[derive(Parser)]
#[command(name = "reload-sim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode RELOAD messages from hex, a raw file or a pcap capture and print them.
    Decode(DecodeArgs),
    /// Run a scenario file and write summary.json, lookups.csv, call_setups.csv,
    /// timeseries.csv, traffic.csv, then plots/ and report.html.
    Run(RunArgs),
    /// Run a scenario's [sweep] grid in parallel: one results folder per run, then
    /// aggregate.csv with the mean and 95 % confidence interval per point.
    Sweep(SweepArgs),
    /// Combine the folders of a sharded sweep into the folder an unsharded sweep writes.
    Merge(MergeArgs),
    /// Run scenarios and check their [expect] bounds; print a pass/fail table.
    Check(CheckArgs),
    /// Redraw the plots (plots/*.png, plots/*.svg) and report.html of a run or sweep folder.
    Plot(PlotArgs),
    /// Run a real RELOAD peer on sockets: join the overlay of a §11 configuration document
    /// (or start it, as its first bootstrap node) and serve until SIGINT/SIGTERM.
    Peer(reload_sim::io::peer::PeerOptions),
    /// Talk to a running peer through its control socket and print the answer.
    Ctl(CtlArgs),
    /// An overlay's enrollment authority: make a root CA and its configuration
    /// document, issue node certificates (RFC 6940 §11.3).
    #[command(subcommand)]
    Ca(reload_sim::io::pki::ca::CaCommand),
}

#[derive(Args)]
struct CtlArgs {
    /// The peer's control socket.
    #[arg(long, value_name = "PATH")]
    control: PathBuf,
    /// Print the answer as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: reload_sim::io::control::Request,
}

#[derive(Args)]
struct SweepArgs {
    /// The scenario file, with a [sweep] table.
    scenario: PathBuf,
    /// Runs at once [default: one per core].
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
    /// Run only shard I of N (0-based): the runs whose index is I modulo N.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Output folder [default: results/<name>/sweep, or results/<name>/shard-I-of-N].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a scenario field before the grid is applied. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Write even into a folder that holds another scenario's run, a sweep or other files:
    /// reload-sim's own result files there are removed, nothing else.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct MergeArgs {
    /// The shard folders.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged sweep folder (new, or a previous merge of the same sweep).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write even into a folder that holds another scenario's run, a sweep or other files:
    /// reload-sim's own result files there are removed, nothing else.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct CheckArgs {
    /// Scenario files.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Results go to <DIR>/<scenario file stem> (<DIR>/<differing folders>_<stem> for
    /// scenarios sharing a stem) [default: each scenario's own results folder].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Scenarios run at once [default: one per core].
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Args)]
struct PlotArgs {
    /// A run folder (holds summary.json) or a sweep folder (holds sweep.json).
    dir: PathBuf,
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Master seed; overrides `[scenario] seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder [default: results/<scenario name>/seed-<seed>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Override a scenario field, e.g. `--set peers.count=500`. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Write every frame sent in the run (lost ones too) to this pcap file: IPv4/UDP 6084,
    /// timestamps in simulated time.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Capture only frames sent by or to these slots, e.g. `0-9,42`.
    #[arg(long = "pcap-nodes", value_name = "SPEC", requires = "pcap")]
    pcap_nodes: Option<NodeSet>,
    /// Do not draw plots/ and report.html after the run.
    #[arg(long)]
    no_plots: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Write even into a folder that holds another scenario's run, a sweep or other files:
    /// reload-sim's own result files there are removed, nothing else.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct DecodeArgs {
    /// A file of raw bytes: one RELOAD message, or FramedMessage frames back to back.
    #[arg(conflicts_with_all = ["hex", "pcap"])]
    file: Option<PathBuf>,
    /// The bytes as hex (spaces and colons allowed); `-` reads hex from standard input.
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// A classic pcap capture: decodes every RELOAD frame on the RELOAD port (UDP datagrams
    /// and TCP streams).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// The port that carries RELOAD in the capture.
    #[arg(long, default_value_t = 6084, requires = "pcap")]
    port: u16,
    /// Print one JSON object per message (one per line) instead of text.
    #[arg(long)]
    json: bool,
    /// Data model of a private Kind, as ID=MODEL (MODEL: single, array, dictionary), so its
    /// values can be decoded. Repeatable.
    #[arg(long = "kind", value_name = "ID=MODEL")]
    kinds: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Run(_) | Command::Sweep(_)) {
        reexec_with_huge_pages();
    }
    let result = match cli.command {
        Command::Decode(args) => decode(args),
        Command::Run(args) => run(args),
        Command::Sweep(args) => sweep(args),
        Command::Merge(args) => merge(args),
        Command::Check(args) => check(args),
        Command::Plot(args) => plot(args),
        Command::Peer(args) => peer(args),
        Command::Ctl(args) => ctl(args),
        Command::Ca(cmd) => reload_sim::io::pki::ca::run(&cmd)
            .map(|text| {
                print!("{text}");
                ExitCode::SUCCESS
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("reload-sim: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Runs and sweeps touch their peers' state at random, so at 10^5 peers and more a fifth of
/// their time goes to TLB misses: this re-executes the process (same PID, arguments and
/// environment) with glibc's heap on transparent huge pages, `GLIBC_TUNABLES=
/// glibc.malloc.hugetlb=1` (8 s of lookups on 10^5 prebuilt peers: 128 s → 102.5 s wall,
/// RSS +1.5 %; docs/performance.md). Nothing happens when `GLIBC_TUNABLES` is already set
/// or `RELOAD_SIM_NO_HUGE_PAGES` is; outputs never depend on it.
fn reexec_with_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var_os("RELOAD_SIM_NO_HUGE_PAGES").is_some()
        {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        // `exec` returns only if it failed; the run then goes on as it is.
        let _ = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
            .exec();
    }
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let req = runner::RunRequest {
        scenario: args.scenario,
        seed: args.seed,
        out: args.out,
        sets: args.sets,
        command_line: std::env::args().collect(),
        pcap: args.pcap.map(|path| PcapOptions {
            path,
            nodes: args.pcap_nodes,
        }),
        plots: !args.no_plots,
        force: args.force,
        progress: !args.quiet,
        stop: stop_on_signals()?,
    };
    let done = runner::run(&req).map_err(|e| e.to_string())?;
    println!("{}", runner::human_summary(&done));
    if let Some(sig) = done.stopped {
        eprintln!(
            "reload-sim: {}: stopped at {:.1} s of {:.1} s simulated; the partial results are in {} \
             (summary.json \"complete\": false), the next run removes them",
            signal_name(sig),
            done.output.end.as_secs_f64(),
            done.scenario.scenario.duration_s,
            done.out_dir.display()
        );
        return Ok(exit_on_signal(sig));
    }
    let mut code = ExitCode::SUCCESS;
    match &done.plots {
        None => {}
        Some(Ok(p)) => println!(
            "plots: {} files in {} and {} ({:.2} s)",
            p.files,
            done.out_dir.join(plot::PLOTS_DIR).display(),
            done.out_dir.join(html::REPORT_HTML).display(),
            p.wall_clock_s
        ),
        Some(Err(e)) => {
            eprintln!("reload-sim: plots: {e}");
            code = ExitCode::from(1);
        }
    }
    if let Some(c) = &done.output.capture {
        if let Some(e) = &c.error {
            eprintln!("reload-sim: {e}");
            return Ok(ExitCode::from(1));
        }
        println!("{c}");
    }
    let violations = expect::violations_text(&done.verdicts);
    if !violations.is_empty() {
        eprint!("{violations}");
        return Ok(ExitCode::from(expect::EXIT_VIOLATED));
    }
    Ok(code)
}

/// SIGINT and SIGTERM: the first stops the run or sweep at the simulated time reached
/// (through the returned [`runner::Stop`], which holds the signal number); a second one
/// ends the process at once, as the signal's default action would.
fn stop_on_signals() -> Result<runner::Stop, String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let stop = runner::Stop::default();
    let seen = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let registered = flag::register_conditional_default(sig, Arc::clone(&seen))
            .and_then(|_| flag::register(sig, Arc::clone(&seen)))
            .and_then(|_| flag::register_usize(sig, stop.flag(), sig as usize));
        registered.map_err(|e| format!("cannot handle {}: {e}", signal_name(sig as usize)))?;
    }
    Ok(stop)
}

fn signal_name(sig: usize) -> String {
    match i32::try_from(sig) {
        Ok(signal_hook::consts::SIGINT) => "SIGINT".into(),
        Ok(signal_hook::consts::SIGTERM) => "SIGTERM".into(),
        _ => format!("signal {sig}"),
    }
}

/// The status of a process ended by signal `sig`, as shells report it: 128 + `sig` (130
/// for SIGINT, 143 for SIGTERM).
fn exit_on_signal(sig: usize) -> ExitCode {
    ExitCode::from(u8::try_from(128 + sig).unwrap_or(u8::MAX))
}

fn peer(args: reload_sim::io::peer::PeerOptions) -> Result<ExitCode, String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    reload_sim::io::peer::run(args).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn ctl(args: CtlArgs) -> Result<ExitCode, String> {
    use reload_sim::io::control::{call, human};
    let answer = call(&args.control, &args.command).map_err(|e| e.to_string())?;
    if args.json {
        println!("{answer}");
    } else {
        print!("{}", human(&answer));
    }
    Ok(ExitCode::SUCCESS)
}

fn plot(args: PlotArgs) -> Result<ExitCode, String> {
    let files = html::draw_folder(&args.dir).map_err(|e| e.to_string())?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn sweep(args: SweepArgs) -> Result<ExitCode, String> {
    let shard = match &args.shard {
        Some(s) => Some(s.parse::<sweep::Shard>()?),
        None => None,
    };
    let req = sweep::SweepRequest {
        scenario: args.scenario,
        sets: args.sets,
        out: args.out,
        jobs: args.jobs.unwrap_or(0),
        shard,
        progress: !args.quiet,
        command_line: std::env::args().collect(),
        force: args.force,
        stop: stop_on_signals()?,
    };
    let done = match sweep::run_sweep(&req) {
        Err(sweep::SweepError::Interrupted(sig)) => {
            eprintln!(
                "reload-sim: {}: sweep stopped; its finished runs are kept, the runs in progress \
                 are left as point-<p>/seed-<s>.partial/ (summary.json \"complete\": false); \
                 the same command resumes it",
                signal_name(sig)
            );
            return Ok(exit_on_signal(sig));
        }
        r => r.map_err(|e| e.to_string())?,
    };
    let scope = match shard {
        Some(s) => format!("shard {s}: {} of {} runs", done.assigned, done.total),
        None => format!("{} runs", done.total),
    };
    println!(
        "sweep {scope}; ran {}, skipped {} already finished ({:.1} s wall clock)",
        done.ran, done.skipped, done.wall_clock_s
    );
    if done.complete {
        println!("wrote {} (aggregate.csv)", done.out_dir.display());
    } else {
        println!(
            "wrote {}; combine the shard folders with `reload-sim merge <dirs...> --out DIR`",
            done.out_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(args: MergeArgs) -> Result<ExitCode, String> {
    let done = sweep::merge(&args.dirs, &args.out, args.force).map_err(|e| e.to_string())?;
    println!(
        "merged {} shard folders: {} runs ({} copied) into {}",
        args.dirs.len(),
        done.total,
        done.copied,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let command_line: Vec<String> = std::env::args().collect();
    let checks = check::check_all(
        &args.scenarios,
        args.out.as_deref(),
        args.jobs.unwrap_or(0),
        &command_line,
    )
    .map_err(|e| e.to_string())?;
    let (table, tally) = check::table(&checks);
    print!("{table}");
    Ok(if tally.broken > 0 {
        ExitCode::from(2)
    } else if tally.violated > 0 {
        ExitCode::from(expect::EXIT_VIOLATED)
    } else {
        ExitCode::SUCCESS
    })
}

fn decode(args: DecodeArgs) -> Result<ExitCode, String> {
    let mut kinds = KindTable::default();
    for spec in &args.kinds {
        inspect::parse_kind_spec(spec, &mut kinds)?;
    }
    let mut cut = None;
    let items: Vec<Item> = if let Some(path) = &args.pcap {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (items, c) = inspect::decode_pcap(&bytes, args.port, &kinds)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        cut = c.map(|c| (path.clone(), c));
        items
    } else if let Some(hex) = &args.hex {
        let text = if hex == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("stdin: {e}"))?;
            s
        } else {
            hex.clone()
        };
        let bytes = parse_hex(&text).map_err(|e| format!("--hex: {e}"))?;
        inspect::decode_bytes(&bytes, &kinds).map_err(|e| format!("--hex: {e}"))?
    } else if let Some(path) = &args.file {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        inspect::decode_bytes(&bytes, &kinds).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        return Err("decode needs input: a FILE, --hex HEX or --pcap FILE (see --help)".into());
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut errors = 0;
    for (i, item) in items.iter().enumerate() {
        errors += usize::from(item.is_error());
        let written = if args.json {
            writeln!(out, "{}", inspect::item_json(i + 1, item))
        } else {
            write!(out, "{}", inspect::render_text(i + 1, item))
        };
        if written.is_err() {
            return Ok(ExitCode::SUCCESS); // closed pipe, e.g. `| head`
        }
    }
    let _ = out.flush();
    if let Some((path, c)) = &cut {
        eprintln!(
            "reload-sim: {}: {c}; decoded the {} complete packets before it",
            path.display(),
            c.packet - 1
        );
    }
    if items.is_empty() {
        eprintln!("reload-sim: no RELOAD messages found");
        return Ok(ExitCode::from(1));
    }
    if errors > 0 {
        eprintln!(
            "reload-sim: {errors} of {} item(s) failed to decode",
            items.len()
        );
        return Ok(ExitCode::from(1));
    }
    if cut.is_some() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
