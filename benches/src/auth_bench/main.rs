//! Auth benchmark: what signing in costs (Argon2id inside the component) and how many
//! protected requests per second the auth component serves through token verification.
//!
//! ```text
//! cargo run -p benches --bin auth-bench -- [--sign-ins 30] [--duration 5] [--connections 16]
//! ```
//!
//! It starts the real app (`spin.toml`) with `reen-host up --build` in a child process, on a
//! free port with its databases in a temporary directory, then measures from this process:
//! 1. sequential sign-ins with the right password, a wrong password and an unknown email
//!    (the three should cost the same: one Argon2id hash each), next to a cheap protected GET;
//! 2. `GET /api/v1/auth/users/me` with an HS256 access token on N keep-alive connections.

mod client;

use anyhow::{Context as _, bail};
use clap::Parser;
use client::Client;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "auth-bench",
    about = "Sign-in latency and protected-route throughput of the auth component"
)]
struct Cli {
    /// Sequential sign-ins measured per kind.
    #[arg(long, default_value_t = 30)]
    sign_ins: usize,
    /// Seconds of protected-route load.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent keep-alive connections for the protected-route load.
    #[arg(long, default_value_t = 16)]
    connections: usize,
}

const PASSWORD: &str = "correct horse battery";

/// The app as a child process, killed on drop.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The repository's runtime config with every store moved into `dir`.
fn runtime_config(root: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(root.join("runtime-config.toml"))?;
    let moved = text.replace("path = \".spin/", &format!("path = \"{}/", dir.display()));
    let path = dir.join("runtime-config.toml");
    std::fs::write(&path, moved)?;
    Ok(path)
}

fn start(root: &Path, dir: &Path, addr: SocketAddr) -> anyhow::Result<App> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "reen-host"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        bail!("building reen-host failed");
    }
    let log = std::fs::File::create(dir.join("app.log"))?;
    let child = Command::new(root.join("target/debug/reen-host"))
        .arg("up")
        .arg("--build")
        .arg("-f")
        .arg(root.join("spin.toml"))
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--runtime-config-file")
        .arg(runtime_config(root, dir)?)
        .args([
            "--variable",
            "jwt_secret=bench-jwt-secret-0123456789abcdef-0123",
        ])
        .args(["--variable", "clerk_secret_key=sk_test_bench"])
        .args(["--variable", "clerk_webhook_secret=whsec_YmVuY2gtc2VjcmV0"])
        .args(["--variable", "cookie_secure=false"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting reen-host")?;
    Ok(App(child))
}

/// Summary statistics of latencies in microseconds.
fn summary(samples: &mut [u64]) -> String {
    samples.sort_unstable();
    let pick = |p: f64| {
        let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1] as f64 / 1000.0
    };
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64 / 1000.0;
    format!(
        "mean {mean:7.2} ms   p50 {:7.2} ms   p95 {:7.2} ms",
        pick(50.0),
        pick(95.0)
    )
}

async fn timed(
    client: &mut Client,
    f: impl AsyncFnOnce(&mut Client) -> anyhow::Result<u16>,
    expect: u16,
) -> anyhow::Result<u64> {
    let started = Instant::now();
    let status = f(client).await?;
    if status != expect {
        bail!("expected {expect}, got {status}");
    }
    Ok(started.elapsed().as_micros() as u64)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("repo root")?
        .to_owned();
    let scratch = tempfile::tempdir()?;
    let addr = free_addr()?;
    let _app = start(&root, scratch.path(), addr)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        client::wait_ready(addr, Duration::from_secs(600)).await?;
        let mut c = Client::connect(addr).await?;
        let email = "bench@example.com";
        let (status, body) = c
            .post_json("/api/v1/auth/sign-up", &format!(r#"{{"name":"Bench","email":"{email}","password":"{PASSWORD}"}}"#), None)
            .await?;
        if status != 201 {
            bail!("sign-up answered {status}: {body}");
        }
        let token = client::json_field(&body, "accessToken").context("accessToken")?;
        let sign_in = |password: &'static str, email: String| {
            async move |c: &mut Client| -> anyhow::Result<u16> {
                let body = format!(r#"{{"email":"{email}","password":"{password}"}}"#);
                Ok(c.post_json("/api/v1/auth/sign-in", &body, None).await?.0)
            }
        };

        let mut right = Vec::new();
        let mut wrong = Vec::new();
        let mut unknown = Vec::new();
        let mut cheap = Vec::new();
        for i in 0..cli.sign_ins {
            right.push(timed(&mut c, sign_in(PASSWORD, email.to_owned()), 200).await?);
            // Wrong passwords count towards the throttle; a right one afterwards resets it.
            wrong.push(timed(&mut c, sign_in("wrong password!", email.to_owned()), 401).await?);
            unknown.push(timed(&mut c, sign_in(PASSWORD, format!("nobody{i}@example.com")), 401).await?);
            let me = async |c: &mut Client| Ok(c.get("/api/v1/auth/users/me", Some(&token)).await?.0);
            cheap.push(timed(&mut c, me, 200).await?);
        }
        println!("auth sign-in latency, sequential, {} each (reen-host, wasm32-wasip2 release build):", cli.sign_ins);
        println!("  sign-in, right password   {}", summary(&mut right));
        println!("  sign-in, wrong password   {}", summary(&mut wrong));
        println!("  sign-in, unknown email    {}", summary(&mut unknown));
        println!("  GET users/me (no hashing) {}", summary(&mut cheap));
        let argon = |s: &[u64]| s[s.len() / 2] as f64 / 1000.0;
        println!(
            "  => Argon2id cost per sign-in ≈ {:.1} ms (median sign-in minus median protected GET)",
            argon(&right) - argon(&cheap)
        );

        let report = client::load(addr, cli.connections, Duration::from_secs(cli.duration), "/api/v1/auth/users/me", &token).await?;
        println!(
            "protected route GET /api/v1/auth/users/me (HS256 token verified, user read from SQLite), {} connections, {} s:",
            cli.connections, cli.duration
        );
        println!("  {}", report);
        Ok(())
    })
}
