//! The `reen-host` command line: `reen-host up [--build]` serves a Spin app like `spin up`.
//! In the library so that a test crate's binary can be the same command (the end-to-end
//! suite runs it as a child process to kill it mid-request).

use crate::{AppOptions, RunningApp, StateDir, builder, manifest::Manifest};
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "reen-host",
    version,
    about = "Run a Spin application locally on wasmtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application (like `spin up`).
    Up(UpArgs),
    /// Run every component's build command (like `spin build`).
    Build {
        /// The application manifest.
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        manifest: PathBuf,
    },
}

#[derive(clap::Args)]
struct UpArgs {
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Build the components before starting.
    #[arg(long)]
    build: bool,
    /// Address to listen on.
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Runtime configuration file (storage, variables providers).
    #[arg(long = "runtime-config-file", env = "RUNTIME_CONFIG_FILE")]
    runtime_config_file: Option<PathBuf>,
    /// Directory for default stores and databases; "" keeps them in memory.
    #[arg(long = "state-dir")]
    state_dir: Option<PathBuf>,
    /// Local development: give each required secret without a value a random local value,
    /// kept in `<state dir>/dev-secrets.toml` (0600) and reused by later starts.
    #[arg(long)]
    dev: bool,
    /// Set an application variable (`name=value`); wins over every provider.
    #[arg(long = "variable", value_parser = parse_variable)]
    variables: Vec<(String, String)>,
}

fn parse_variable(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected name=value, got `{s}`"))
}

/// Runs the command line with the process's arguments; what `main` returns.
pub fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn".into()),
        )
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build { manifest } => Manifest::load(&manifest)
            .map_err(anyhow::Error::from)
            .and_then(|m| builder::build_all(&m)),
        Command::Up(args) => up(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn up(args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        builder::build_all(&Manifest::load(&args.manifest)?)?;
    }
    let mut options = AppOptions::new(&args.manifest);
    options.listen = args.listen;
    options.runtime_config = args.runtime_config_file;
    options.variables = args.variables.into_iter().collect();
    // Only `up` starts a local Redis when nothing answers at the app's address; the library
    // default (tests) never does.
    options.local_redis = true;
    options.dev_secrets = args.dev;
    if let Some(dir) = args.state_dir {
        options.state_dir = if dir.as_os_str().is_empty() {
            StateDir::None
        } else {
            StateDir::Path(dir)
        };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let app = RunningApp::start(options).await?;
        // Loud on purpose: the app runs on made-up secrets, which must never go unnoticed.
        for line in app.dev_notice().map(|n| n.lines()).unwrap_or_default() {
            tracing::warn!("{line}");
        }
        println!("Serving {}", app.base_url());
        println!("Available Routes:");
        for (component, route) in app.routes() {
            println!(
                "  {component}: {}{}",
                app.base_url(),
                route.trim_end_matches("/...")
            );
        }
        // Like `spin up`'s Redis trigger: one block per server, one line per channel.
        let mut server = None;
        for channel in app.redis_channels() {
            if server != Some(&channel.address) {
                println!("Active Channels on {}:", channel.address);
                server = Some(&channel.address);
            }
            println!(
                "\t{}/{}: [{}]",
                channel.address,
                channel.channel,
                channel.components.join(",")
            );
        }
        shutdown_signal().await?;
        println!("Shutting down");
        app.stop().await;
        Ok(())
    })
}

/// Ctrl-C, or SIGTERM (`kill`, process managers): either way the app stops cleanly, which
/// also stops any `redis-server` that `up` started.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        ctrl_c = tokio::signal::ctrl_c() => ctrl_c.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}
