//! The real application (`spin.toml`, `runtime-config.toml`) on reen-host, with every database
//! and key-value store in a private directory, as a child process (see [`crate::servers`]).

use crate::servers::Server;
use anyhow::{Context as _, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (this crate lives in `benches/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ is inside the workspace")
        .to_owned()
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The commit checked out in `root`, with `+dirty` when tracked files differ from it, so a
/// report names exactly what it measured.
pub fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown commit".to_owned();
    };
    match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if changes.is_empty() => head,
        _ => format!("{head}+dirty"),
    }
}

/// Runs `cargo ARGS` in the workspace root (the same cargo that runs us, when there is one).
pub fn cargo(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Builds reen-host with the dev profile and answers the binary's path.
pub fn build_host(root: &Path) -> anyhow::Result<PathBuf> {
    cargo(root, &["build", "-p", "reen-host"])?;
    Ok(target_dir(root).join("debug/reen-host"))
}

/// The repository's runtime config with every store moved into `dir` (SQLite databases and
/// key-value files alike), written to `dir/runtime-config.toml`.
pub fn runtime_config(root: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(root.join("runtime-config.toml"))?;
    let moved = text.replace("path = \".spin/", &format!("path = \"{}/", dir.display()));
    let path = dir.join("runtime-config.toml");
    std::fs::write(&path, moved)?;
    Ok(path)
}

/// The development variables of `.env.example`, so the required secrets are set.
const VARIABLES: &[&str] = &[
    "jwt_secret=bench-jwt-secret-0123456789abcdef-0123",
    "clerk_secret_key=sk_test_bench",
    "clerk_webhook_secret=whsec_YmVuY2gtc2VjcmV0",
    "stripe_secret_key=sk_test_bench",
    "stripe_webhook_secret=whsec_bench",
    "redrive_secret=bench-redrive-secret-0123",
    "cookie_secure=false",
];

/// [`VARIABLES`] as (name, value) pairs, for hosts that take them another way (Spin: from
/// `SPIN_VARIABLE_*`).
pub fn variables() -> impl Iterator<Item = (&'static str, &'static str)> {
    VARIABLES
        .iter()
        .filter_map(|variable| variable.split_once('='))
}

/// The value [`VARIABLES`] gives `name` (a bench that plays a third party, such as Stripe,
/// needs the app's secrets for it).
pub fn variable(name: &str) -> Option<&'static str> {
    variables()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// `reen-host up` on the real `spin.toml` listening on `addr`, its stores in `dir` (which
/// must hold the file [`runtime_config`] wrote); `build` adds `--build` (every component's
/// build command, as `cargo up` runs them).
pub fn command(host: &Path, root: &Path, dir: &Path, addr: SocketAddr, build: bool) -> Command {
    command_for(host, &root.join("spin.toml"), root, dir, addr, build)
}

/// [`command`] for another manifest than the repository's (one that adds a fixture).
pub fn command_for(
    host: &Path,
    manifest: &Path,
    root: &Path,
    dir: &Path,
    addr: SocketAddr,
    build: bool,
) -> Command {
    let mut command = Command::new(host);
    command
        .arg("up")
        .arg("-f")
        .arg(manifest)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--runtime-config-file")
        .arg(dir.join("runtime-config.toml"))
        .current_dir(root);
    if build {
        command.arg("--build");
    }
    for (name, value) in variables() {
        command.arg("--variable").arg(format!("{name}={value}"));
    }
    command
}

/// Starts the real app ([`command`]) as a [`Server`] with `RUST_LOG=warn` (reen-host logs every
/// request at info level, and logging is not what is measured), its output going to
/// `dir/log`. Wait for it with [`Server::wait_ready`].
pub fn start(
    host: &Path,
    root: &Path,
    dir: &Path,
    addr: SocketAddr,
    build: bool,
    log: &str,
) -> anyhow::Result<Server> {
    start_command(command(host, root, dir, addr, build), dir, log)
}

/// [`start`] with `variables` on top of the development ones (a bench playing Stripe or the
/// email API points the app at itself).
pub fn start_with_variables(
    host: &Path,
    root: &Path,
    dir: &Path,
    addr: SocketAddr,
    build: bool,
    variables: &[(&str, String)],
    log: &str,
) -> anyhow::Result<Server> {
    let mut command = command(host, root, dir, addr, build);
    for (name, value) in variables {
        command.arg("--variable").arg(format!("{name}={value}"));
    }
    start_command(command, dir, log)
}

/// Starts `command` (from [`command`] or [`command_for`]) as [`start`] does.
pub fn start_command(mut command: Command, dir: &Path, log: &str) -> anyhow::Result<Server> {
    command.env("RUST_LOG", "warn");
    Server::spawn(command, &dir.join(log))
}
