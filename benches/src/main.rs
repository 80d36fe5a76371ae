//! Throughput of reen-host against a native hyper server, `wasmtime serve` and real Spin, all
//! serving the `hello` fixture component (or its native equivalent) under the same load.
//!
//! Run from the workspace root with the dev profile (it optimises every dependency, wasmtime
//! included, at opt-level 3; the release profile's fat LTO would take very long to build):
//!
//! ```text
//! cargo run -p benches -- [--duration 8] [--connections 32] [--warmup 1]
//! ```
//!
//! Each server runs as its own process on a free loopback port and is killed before the next one
//! starts. The load generator runs in this process and shares the machine's cores with the
//! server, which is the same for every server, so the ratios between them are meaningful.

mod native;

use anyhow::{Context as _, bail};
use benches::app::{cargo, target_dir};
use benches::cpu;
use benches::load::{self, LoadConfig, LoadReport};
use benches::servers::{self, Server};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a server may take to answer its first request (wasm runtimes compile on start).
const READY_LIMIT: Duration = Duration::from_secs(120);

#[derive(Parser)]
#[command(
    name = "benches",
    about = "Compare reen-host with native hyper, `wasmtime serve` and Spin on the hello component"
)]
struct Cli {
    /// Measured seconds per server (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Warm-up seconds per server, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    #[command(subcommand)]
    command: Option<Internal>,
}

#[derive(Subcommand)]
enum Internal {
    /// The native baseline server (started by the benchmark itself).
    #[command(hide = true)]
    NativeServer {
        #[arg(long)]
        listen: SocketAddr,
    },
}

/// One server to measure: how to start it on a given address, or why it is skipped.
struct Contender {
    name: &'static str,
    launch: Result<Box<dyn Fn(SocketAddr) -> Command>, String>,
}

enum Outcome {
    /// The load report and the CPU taken by anything else during it, in % of the machine.
    Measured(LoadReport, Option<f64>),
    Skipped(String),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Internal::NativeServer { listen }) = cli.command {
        return native::serve(listen);
    }
    if cli.connections == 0 || cli.duration == 0 {
        bail!("--connections and --duration must be positive");
    }
    let root = benches::app::repo_root();
    let target = target_dir(&root);
    let scratch = tempfile::tempdir()?;

    let wasm = target.join("wasm32-wasip2/release/hello.wasm");
    let reen_host = target.join("debug/reen-host");
    cargo(
        &root,
        &[
            "build",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            "hello",
        ],
    )?;
    cargo(&root, &["build", "-p", "reen-host"])?;
    let manifest = write_manifest(scratch.path(), &wasm)?;

    let contenders = vec![
        native_contender()?,
        reen_host_contender(reen_host, manifest.clone()),
        wasmtime_contender(&target, wasm.clone()),
        spin_contender(manifest, scratch.path())?,
    ];

    let config = |addr| LoadConfig {
        addr,
        connections: cli.connections,
        warmup: Duration::from_secs(cli.warmup),
        duration: Duration::from_secs(cli.duration),
        requests: load::gets(load::fixed("/"), load::Headers::default()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for contender in &contenders {
        let outcome = match &contender.launch {
            Err(reason) => Outcome::Skipped(reason.clone()),
            Ok(launch) => {
                eprintln!("measuring {} ...", contender.name);
                let log = scratch.path().join(format!("{}.log", contender.name));
                runtime
                    .block_on(measure(launch, &log, config))
                    .with_context(|| format!("measuring {}", contender.name))
                    .map(|(report, others)| Outcome::Measured(report, others))?
            }
        };
        results.push((contender.name, outcome));
    }

    print_report(&cli, &benches::app::commit(&root), &results);
    Ok(())
}

/// Starts a server, waits until it answers, loads it, and kills it; answers the load report and
/// the share of the machine other processes took meanwhile (a disturbed run shows there).
async fn measure(
    launch: &dyn Fn(SocketAddr) -> Command,
    log: &Path,
    config: impl Fn(SocketAddr) -> LoadConfig,
) -> anyhow::Result<(LoadReport, Option<f64>)> {
    let addr = servers::free_addr()?;
    let mut server = Server::spawn(launch(addr), log)?;
    server.wait_ready(addr, "/", READY_LIMIT).await?;
    let before = cpu::sample(server.id());
    let report = load::run(config(addr)).await;
    let others = cpu::others_percent(before, cpu::sample(server.id()));
    drop(server);
    Ok((report, others))
}

/// The smallest Spin app: every path goes to the `hello` component.
fn write_manifest(dir: &Path, wasm: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("spin.toml");
    let text = format!(
        r#"spin_manifest_version = 2

[application]
name = "bench-hello"
version = "0.1.0"

[[trigger.http]]
route = "/..."
component = "hello"

[component.hello]
source = "{}"
"#,
        wasm.display()
    );
    std::fs::write(&manifest, text).context("writing the bench manifest")?;
    Ok(manifest)
}

/// `RUST_LOG=warn` for every server: reen-host logs each request at info level, and logging is
/// not what is measured.
fn quiet(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env("RUST_LOG", "warn");
    command
}

fn native_contender() -> anyhow::Result<Contender> {
    let me = std::env::current_exe().context("locating the benches binary")?;
    Ok(Contender {
        name: "native hyper",
        launch: Ok(Box::new(move |addr: SocketAddr| {
            let mut command = quiet(&me);
            command.args(["native-server", "--listen", &addr.to_string()]);
            command
        })),
    })
}

fn reen_host_contender(binary: PathBuf, manifest: PathBuf) -> Contender {
    Contender {
        name: "reen-host",
        launch: Ok(Box::new(move |addr: SocketAddr| {
            let mut command = quiet(&binary);
            command
                .arg("up")
                .arg("--from")
                .arg(&manifest)
                .args(["--listen", &addr.to_string()]);
            command
        })),
    }
}

fn wasmtime_contender(target: &Path, wasm: PathBuf) -> Contender {
    let local = target.join("tools/wasmtime-cli/bin/wasmtime");
    let binary = if local.is_file() {
        Some(local.clone())
    } else {
        servers::find_on_path("wasmtime")
    };
    Contender {
        name: "wasmtime serve",
        launch: match binary {
            None => Err(format!("no wasmtime at {} or on PATH", local.display())),
            Some(binary) => Ok(Box::new(move |addr: SocketAddr| {
                let mut command = quiet(&binary);
                command
                    .args(["serve", "--addr", &addr.to_string(), "-S", "cli=y"])
                    .arg(&wasm);
                command
            })),
        },
    }
}

fn spin_contender(manifest: PathBuf, scratch: &Path) -> anyhow::Result<Contender> {
    let binary = match benches::spin::locate() {
        Ok(binary) => binary,
        Err(reason) => {
            return Ok(Contender {
                name: "spin",
                launch: Err(reason),
            });
        }
    };
    eprintln!(
        "spin: {} ({})",
        binary.display(),
        benches::spin::version(&binary)
    );
    let spin_home = scratch.join("spin-home");
    std::fs::create_dir_all(&spin_home)?;
    Ok(Contender {
        name: "spin",
        launch: Ok(Box::new(move |addr: SocketAddr| {
            let mut command = quiet(&binary);
            command
                .env("SPIN_HOME", &spin_home)
                .arg("up")
                .arg("--from")
                .arg(&manifest)
                .args(["--listen", &addr.to_string()]);
            command
        })),
    })
}

fn print_report(cli: &Cli, commit: &str, results: &[(&str, Outcome)]) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!("hello component (\"Hello, REEN!\"), GET / over HTTP/1.1 keep-alive, commit {commit}");
    println!(
        "machine: {cores} cores, shared by the load generator and the server under test \
         (same for every server); \"other\": CPU time taken by anything else during the run, \
         in % of the machine"
    );
    println!(
        "load: {} connections, {} s warm-up + {} s measured per server",
        cli.connections, cli.warmup, cli.duration
    );
    println!("servers run with RUST_LOG=warn (reen-host otherwise logs every request)");
    println!("reen-host is the dev-profile build: dependencies at opt-level 3, its own code at 1");
    println!();

    let rate = |name: &str| {
        results.iter().find_map(|(n, outcome)| match outcome {
            Outcome::Measured(report, _) if *n == name => Some(report.requests_per_sec()),
            _ => None,
        })
    };
    let references: Vec<(&str, f64)> = [
        ("vs native", "native hyper"),
        ("vs wasmtime", "wasmtime serve"),
        ("vs spin", "spin"),
    ]
    .into_iter()
    .filter_map(|(column, name)| rate(name).map(|r| (column, r)))
    .collect();

    print!(
        "{:<16}{:>10}{:>11}{:>11}{:>8}",
        "server", "req/s", "p50", "p99", "errors"
    );
    for (column, _) in &references {
        print!("{column:>13}");
    }
    println!("{:>7}", "other");
    for (name, outcome) in results {
        match outcome {
            Outcome::Skipped(reason) => println!("{name:<16}skipped: {reason}"),
            Outcome::Measured(report, others) => {
                let rps = report.requests_per_sec();
                print!(
                    "{name:<16}{rps:>10.0}{:>11}{:>11}{:>8}",
                    load::millis(report.percentile(50.0)),
                    load::millis(report.percentile(99.0)),
                    report.errors
                );
                for (_, reference) in &references {
                    print!("{:>13}", format!("{:.2}x", rps / reference));
                }
                println!(
                    "{:>7}",
                    others.map_or_else(|| "-".to_owned(), |o| format!("{o:.0}%"))
                );
            }
        }
    }
}
