//! What each Spin host call the reads make costs on each host: the `host-calls` fixture
//! (`benches/fixtures/host-calls`) served alone on the bench's stores, one kind of call per
//! route, once and five times per request, under the same load as the reads. The difference
//! in the machine's time per request (1 / req/s, both cores, load generator included) between
//! two runs is the price of the calls that differ: this is the profile behind the reads'
//! figures (docs/performance.md).

use crate::{Cli, Host};
use anyhow::Context as _;
use benches::load::{self, LoadConfig, LoadReport};
use benches::servers::Server;
use benches::spin_app::SpinHome;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The calls, as the fixture names them, and what the report says they are.
pub const CALLS: [(&str, &str); 7] = [
    ("variable", "variable read"),
    ("kv-open", "key-value store open"),
    ("kv-get", "key-value read (store open once)"),
    ("sqlite-open", "SQLite open + header read (no schema)"),
    (
        "sqlite-schema",
        "SQLite open + first statement (loads products' schema)",
    ),
    ("sqlite-statement", "SQLite statement on an open connection"),
    ("chain", "chained request to a component doing nothing"),
];

/// How many calls the second run of each kind makes.
pub const MANY: u32 = 5;

/// One kind of call, measured once and [`MANY`] times per request.
pub struct CallRun {
    pub host: Host,
    pub label: &'static str,
    pub once: LoadReport,
    pub many: LoadReport,
}

/// The fixture's requests with nothing in them, per host: the baseline of every call.
pub struct Baseline {
    pub host: Host,
    pub report: LoadReport,
}

/// Builds the fixture and writes its manifest into `dir`.
pub fn prepare(root: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            "host-calls",
        ])
        .current_dir(root)
        .status()
        .context("running cargo build -p host-calls")?;
    anyhow::ensure!(status.success(), "cargo build -p host-calls failed");
    let wasm = benches::app::target_dir(root).join("wasm32-wasip2/release/host_calls.wasm");
    let manifest = dir.join("host-calls.toml");
    let text = format!(
        r#"spin_manifest_version = 2

[application]
name = "host-calls"
version = "0.1.0"

[variables]
probe = {{ default = "a value" }}

[[trigger.http]]
route = "/host-calls/..."
component = "host-calls"

[component.host-calls]
source = "{}"
sqlite_databases = ["products"]
key_value_stores = ["identity"]
allowed_outbound_hosts = ["http://host-calls.spin.internal"]

[component.host-calls.variables]
probe = "{{{{ probe }}}}"
"#,
        wasm.display()
    );
    std::fs::write(&manifest, text).context("writing the host-calls manifest")?;
    Ok(manifest)
}

/// `reen-host up` on the fixture's manifest and reen-host's stores in `state`.
pub fn start_reen_host(
    host: &Path,
    root: &Path,
    manifest: &Path,
    state: &Path,
    addr: std::net::SocketAddr,
) -> anyhow::Result<Server> {
    let command = benches::app::command_for(host, manifest, root, state, addr, false);
    benches::app::start_command(command, state, "host-calls.log")
}

/// `spin up` on the fixture's manifest and the Spin home's stores.
pub fn start_spin(
    home: &SpinHome,
    spin: &Path,
    manifest: &Path,
    addr: std::net::SocketAddr,
) -> anyhow::Result<Server> {
    home.spawn(home.command_for(spin, manifest, addr), "host-calls.log")
}

/// Measures the baseline and every call on the fixture served at `addr`.
pub async fn measure(
    cli: &Cli,
    host: Host,
    server: &mut Server,
    addr: std::net::SocketAddr,
) -> anyhow::Result<(Baseline, Vec<CallRun>)> {
    server
        .wait_ready(addr, "/host-calls/none", Duration::from_secs(300))
        .await?;
    eprintln!("{host:?}: host calls ...");
    let run = |path: String| async move {
        let config = LoadConfig {
            addr,
            connections: cli.connections,
            warmup: Duration::from_secs(cli.warmup),
            duration: Duration::from_secs(cli.call_duration),
            requests: load::gets(load::fixed(&path), load::Headers::default()),
        };
        let report = load::run(config).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        report
    };
    let baseline = Baseline {
        host,
        report: run("/host-calls/none".to_owned()).await,
    };
    let mut runs = Vec::new();
    for (call, label) in CALLS {
        runs.push(CallRun {
            host,
            label,
            once: run(format!("/host-calls/{call}?n=1")).await,
            many: run(format!("/host-calls/{call}?n={MANY}")).await,
        });
    }
    Ok((baseline, runs))
}

/// The machine's time per request, in µs, at the run's throughput.
pub fn micros_per_request(report: &LoadReport) -> f64 {
    1e6 / report.requests_per_sec().max(f64::MIN_POSITIVE)
}

/// Prints the price list: per host, each call's first and each further call's cost.
pub fn print(baselines: &[Baseline], runs: &[CallRun]) {
    println!(
        "\nwhat each host call costs (the host-calls fixture alone on the same stores; µs of the \
         machine per request = 1 / req/s; first: 1 call against none; more: each of {} more)",
        MANY - 1
    );
    println!(
        "  {:<10} {:<56} {:>9} {:>9} {:>9} {:>9}",
        "host", "call", "req/s ×1", "req/s ×5", "first µs", "more µs"
    );
    for baseline in baselines {
        let none = micros_per_request(&baseline.report);
        println!(
            "  {:<10} {:<56} {:>9.0} {:>9} {:>9} {:>9}",
            host_name(baseline.host),
            "none (the fixture's own request)",
            baseline.report.requests_per_sec(),
            "-",
            "-",
            "-"
        );
        for run in runs.iter().filter(|r| r.host == baseline.host) {
            let once = micros_per_request(&run.once);
            let many = micros_per_request(&run.many);
            println!(
                "  {:<10} {:<56} {:>9.0} {:>9.0} {:>9.1} {:>9.1}",
                host_name(run.host),
                run.label,
                run.once.requests_per_sec(),
                run.many.requests_per_sec(),
                once - none,
                (many - once) / f64::from(MANY - 1)
            );
        }
    }
}

/// The fixture's requests that did not answer 200 (any fails the bench).
pub fn errors(baselines: &[Baseline], runs: &[CallRun]) -> u64 {
    baselines.iter().map(|b| b.report.errors).sum::<u64>()
        + runs
            .iter()
            .map(|r| r.once.errors + r.many.errors)
            .sum::<u64>()
}

fn host_name(host: Host) -> &'static str {
    match host {
        Host::ReenHost => "reen-host",
        Host::Spin => "spin",
    }
}
