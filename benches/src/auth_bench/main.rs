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

use anyhow::bail;
use benches::client::{self, Client};
use benches::{app, servers};
use clap::Parser;
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
    let root = app::repo_root();
    let scratch = tempfile::tempdir()?;
    let addr = servers::free_addr()?;
    let host = app::build_host(&root)?;
    app::runtime_config(&root, scratch.path())?;
    let command = app::command(&host, &root, scratch.path(), addr, true);
    let _app = servers::Server::spawn(command, &scratch.path().join("app.log"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        client::wait_ready(addr, Duration::from_secs(600)).await?;
        let mut c = Client::connect(addr).await?;
        let email = "bench@example.com";
        let token = client::sign_up(&mut c, "Bench", email, PASSWORD).await?.token;
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
