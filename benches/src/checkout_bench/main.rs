//! Checkout benchmark: `POST /api/v1/checkout` and Stripe's signed webhook
//! (`POST /api/v1/webhooks/stripe`) next to the products list (`GET
//! /api/v1/products?page=1&limit=10`, a cache hit, the baseline), on reen-host and on the real
//! Spin CLI, one run each, against a fake Stripe on loopback and a real `redis-server`.
//!
//! ```text
//! cargo run -p benches --bin checkout-bench -- [--connections 16] [--duration 8] [--warmup 1]
//!     [--sequential 3] [--paid-pool 6000] [--only reen-host|spin] [--kind KIND ...] [--keep]
//! ```
//!
//! 1. A fake Stripe (`fake_stripe.rs`) in this process, a private `redis-server` (without one
//!    installed, `redis_url` points at a port nothing listens on and saga starts wait in the
//!    outbox; the report says so), and `reen-host up --build` on the repository's `spin.toml`
//!    and `runtime-config.toml` with every store in a temporary directory, `stripe_api_base` and
//!    `redis_url` pointing at them.
//! 2. Seeding through the API (`seed.rs`): a seller lists 6 products with ample stock; one buyer
//!    per connection puts 3 of them in their cart; `--paid-pool` more buyers each open a
//!    checkout of the other 3 (so the pool's holds do not slow the checkout runs' products).
//!    reen-host is stopped and Spin gets a copy of the stores (`benches::spin_app`), so both
//!    hosts start from the same data, the same open checkouts included (the fake Stripe keeps
//!    their sessions).
//! 3. On each host in turn (reen-host started again on its stores, then `spin up`): the buyers
//!    sign in, then closed-loop runs at `--connections` (keep-alive, warm-up, measured window),
//!    then every kind again at one connection for `--sequential` seconds (latency alone):
//!    - the products list (the baseline);
//!    - checkout: each connection is its own buyer, so every request after a buyer's first
//!      replaces their open checkout — the old session is expired at Stripe and its stock and
//!      balance holds are given back — then prices the cart, holds again and creates a new
//!      session (the double-click path);
//!    - the webhook, `checkout.session.completed` with `payment_status: paid`, each request a
//!      new event: for a session not ours (signature over the raw body, inbox insert, two
//!      look-ups, a log line, 200), and paying one of the pool's open checkouts (marked paid,
//!      the saga start recorded in the outbox and published to Redis);
//!    - cheaper deliveries, to see where the webhook's time goes: the same event again (the
//!      inbox finds it; nothing is written), and a bad signature (400 before any storage);
//!    - the health route (the smallest component), for the cost of an instance alone.
//! 4. Checks: every answer must be the expected status (201, 200, or 400 for the bad signature);
//!    the fake Stripe's counts and `checkout.db` (`check.rs`) must show the work was done, and
//!    the pool must not run dry; any failure fails the bench after the report.

mod check;
mod report;

use anyhow::{Context as _, ensure};
use benches::checkout_seed::{self as seed, PASSWORD};
use benches::client::{self, Client};
use benches::fake_stripe::{Counts, FakeStripe};
use benches::load::{self, LoadConfig, LoadReport, Outgoing, Requests};
use benches::servers::{self, Server};
use benches::spin_app::SpinHome;
use benches::stripe_webhook::{Pool, Webhook};
use benches::{app, cpu};
use bytes::Bytes;
use check::Ledger;
use clap::{Parser, ValueEnum};
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const LIST: &str = "/api/v1/products?page=1&limit=10";
const HEALTH: &str = "/api/v1/health";
const CHECKOUT: &str = "/api/v1/checkout";

#[derive(Parser)]
#[command(
    name = "checkout-bench",
    about = "POST /api/v1/checkout and the signed Stripe webhook next to the products list, \
             on reen-host and Spin"
)]
struct Cli {
    /// Concurrent keep-alive connections (and buyers of the checkout runs).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Measured seconds of every kind at one connection (0: none).
    #[arg(long, default_value_t = 3)]
    sequential: u64,
    /// Open checkouts made while seeding for the webhook runs that pay them, one per request
    /// (each needs its own buyer, so a sign-up); both hosts pay from the same pool.
    #[arg(long, default_value_t = 6_000)]
    paid_pool: usize,
    /// Measure only this host.
    #[arg(long, value_enum)]
    only: Option<Host>,
    /// Measure only these kinds (repeatable; all when none): list, checkout, webhook-foreign,
    /// webhook-pays, webhook-duplicate, webhook-bad-signature, health.
    #[arg(long = "kind", value_enum)]
    kinds: Vec<Kind>,
    /// Keep the state directory (databases, key-value files, logs) and print its path.
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Host {
    ReenHost,
    Spin,
}

/// A kind of request measured.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Kind {
    List,
    Checkout,
    WebhookForeign,
    WebhookPays,
    WebhookDuplicate,
    WebhookBadSignature,
    Health,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::List,
        Kind::Checkout,
        Kind::WebhookForeign,
        Kind::WebhookPays,
        Kind::WebhookDuplicate,
        Kind::WebhookBadSignature,
        Kind::Health,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::List => "GET products list, page 1 (cache hit)",
            Kind::Checkout => "POST checkout (replaces the open one)",
            Kind::WebhookForeign => "webhook: paid, session not ours",
            Kind::WebhookPays => "webhook: pays an open checkout",
            Kind::WebhookDuplicate => "webhook: same event again",
            Kind::WebhookBadSignature => "webhook: bad signature (400)",
            Kind::Health => "GET health (smallest component)",
        }
    }
}

/// One measured run.
pub struct Run {
    kind: Kind,
    connections: usize,
    report: LoadReport,
    /// Requests sent (warm-up and measured window, including any cut off at the end).
    sent: u64,
    /// CPU time of the server's processes over the run (warm-up included).
    server_cpu: Option<Duration>,
    /// CPU time that went to neither the server nor the bench, in % of the machine.
    others: Option<f64>,
}

impl Run {
    /// The server's CPU time per request sent.
    fn cpu_per_request(&self) -> Option<Duration> {
        let cpu = self.server_cpu?;
        (self.sent > 0).then(|| cpu / self.sent as u32)
    }
}

/// Everything measured on one host.
pub struct HostRuns {
    host: Host,
    /// `reen-host (dev build)`, `spin 4.1.0-pre0`.
    name: String,
    runs: Vec<Run>,
    /// What `checkout.db` gained during the runs.
    ledger: Ledger,
    /// What the fake Stripe answered during the runs.
    stripe: Counts,
    pool_used: usize,
    pool_short: u64,
}

/// What the runs on both hosts share.
struct Bench {
    cli: Cli,
    root: PathBuf,
    stripe: FakeStripe,
    /// `stripe_api_base` and `redis_url`, on top of `app::variables()`.
    variables: Vec<(&'static str, String)>,
    webhook_secret: &'static str,
    seeded: seed::Seeded,
    /// The pool's sessions as the fake Stripe holds them (open).
    pool: Vec<Value>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ensure!(
        cli.connections > 0 && cli.duration > 0,
        "--connections and --duration must be positive"
    );
    // 15-minute access tokens, signed in again before each host's runs: those must fit.
    let per_host = (Kind::ALL.len() as u64) * (cli.warmup + cli.duration + cli.sequential + 2);
    ensure!(
        per_host < 600,
        "one host's runs must last less than 10 minutes"
    );
    let root = app::repo_root();
    let host = app::build_host(&root)?;
    let not_wanted =
        (cli.only == Some(Host::ReenHost)).then_some("not asked for: --only reen-host");
    let spin = benches::spin::for_runs(not_wanted, false)?;
    let scratch = tempfile::Builder::new()
        .prefix("checkout-bench-")
        .tempdir()?;
    let state = scratch.path().join("reen-host");
    std::fs::create_dir_all(&state)?;
    app::runtime_config(&root, &state)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let keep = cli.keep;
    let outcome = runtime.block_on(async {
        let redis = reen_host::testing::RedisServer::start().await;
        let redis_url = match &redis {
            Ok(redis) => redis.url(),
            Err(e) => {
                eprintln!("no redis-server ({e}): saga starts will wait in the outbox");
                format!("redis://{}", servers::free_addr()?)
            }
        };
        let secret_key = app::variable("stripe_secret_key").context("stripe_secret_key")?;
        let stripe = FakeStripe::start(secret_key).await?;
        let variables = vec![
            ("stripe_api_base", stripe.base_url()),
            ("redis_url", redis_url.clone()),
        ];

        let started = Instant::now();
        let addr = servers::free_addr()?;
        eprintln!("reen-host up --build (builds every component of spin.toml) ...");
        let mut server =
            app::start_with_variables(&host, &root, &state, addr, true, &variables, "seed.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        let seeded = seed::seed(addr, cli.connections, cli.paid_pool).await?;
        drop(server);
        let seeding = started.elapsed();
        let pool = seeded
            .open_sessions
            .iter()
            .map(|id| {
                stripe
                    .session(id)
                    .context("a pool session the fake never made")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let spin_home = match &spin {
            Ok(_) => Some(SpinHome::prepare(&root, &state, &scratch.path().join("spin")).await?),
            Err(_) => None,
        };
        let bench = Bench {
            webhook_secret: app::variable("stripe_webhook_secret")
                .context("stripe_webhook_secret")?,
            cli,
            root: root.clone(),
            stripe,
            variables,
            seeded,
            pool,
        };

        let mut hosts = Vec::new();
        if bench.cli.only != Some(Host::Spin) {
            let addr = servers::free_addr()?;
            let mut server = app::start_with_variables(
                &host,
                &root,
                &state,
                addr,
                false,
                &bench.variables,
                "app.log",
            )?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(300))
                .await?;
            let name = "reen-host (dev build)".to_owned();
            let checkout_db = state.join("checkout.db");
            hosts.push(
                bench
                    .measure_host(Host::ReenHost, name, addr, &server, &checkout_db)
                    .await?,
            );
        }
        if let (Ok((binary, version)), Some(home)) = (&spin, &spin_home) {
            let addr = servers::free_addr()?;
            let command = home.command_with(binary, &root, addr, &bench.variables);
            eprintln!("spin up (compiles every component first) ...");
            let mut server = home.spawn(command, "spin.log")?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(900))
                .await?;
            let checkout_db = home.store("checkout.db");
            hosts.push(
                bench
                    .measure_host(Host::Spin, version.clone(), addr, &server, &checkout_db)
                    .await?,
            );
        }
        let context = report::Context {
            cli: &bench.cli,
            root: &bench.root,
            seeding,
            redis: match &redis {
                Ok(_) => format!("redis-server at {redis_url}"),
                Err(e) => format!("none ({e}): saga starts wait in the outbox"),
            },
            pool: bench.pool.len(),
            spin: spin.as_ref().err().cloned(),
        };
        report::print(&context, &hosts);
        anyhow::Ok(hosts)
    });
    if keep || outcome.is_err() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    let hosts = outcome?;
    report::verdict(&hosts)
}

/// `requests`, counting what was sent.
fn counting(requests: Requests) -> (Requests, Arc<AtomicU64>) {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let counted: Requests = Arc::new(move |connection| {
        counter.fetch_add(1, Ordering::Relaxed);
        requests(connection)
    });
    (counted, sent)
}

/// `POST /api/v1/checkout` (no body) of the connection's own buyer, expecting 201.
fn checkouts(tokens: Arc<Vec<HeaderValue>>) -> Requests {
    Arc::new(move |connection| Outgoing {
        method: Method::POST,
        path: CHECKOUT.to_owned(),
        headers: vec![(
            header::AUTHORIZATION,
            tokens[connection % tokens.len()].clone(),
        )],
        body: Bytes::new(),
        expect: StatusCode::CREATED,
    })
}

impl Bench {
    async fn measure_host(
        &self,
        host: Host,
        name: String,
        addr: SocketAddr,
        server: &Server,
        checkout_db: &Path,
    ) -> anyhow::Result<HostRuns> {
        eprintln!("{name}: the buyers sign in ...");
        let mut c = Client::connect(addr).await?;
        let mut tokens = Vec::new();
        for email in &self.seeded.buyers {
            let token = client::sign_in(&mut c, email, PASSWORD).await?;
            tokens.push(HeaderValue::try_from(format!("Bearer {token}"))?);
        }
        let tokens = Arc::new(tokens);
        let pool = Pool::new(self.pool.clone());
        let ledger_before = Ledger::read(checkout_db)?;
        let stripe_before = self.stripe.counts();
        let (connections, seconds) = (self.cli.connections, self.cli.duration);
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| self.cli.kinds.is_empty() || self.cli.kinds.contains(k))
            .collect();
        let mut plan: Vec<_> = kinds.iter().map(|&k| (k, connections, seconds)).collect();
        if self.cli.sequential > 0 {
            plan.extend(kinds.iter().map(|&k| (k, 1, self.cli.sequential)));
        }
        eprintln!("{name}: server process {}", server.id());
        let mut runs = Vec::new();
        for (kind, connections, seconds) in plan {
            eprintln!(
                "{name}: {} at {connections} connection(s) ...",
                kind.label()
            );
            let requests = match kind {
                Kind::List => load::gets(load::fixed(LIST), load::Headers::default()),
                Kind::Health => load::gets(load::fixed(HEALTH), load::Headers::default()),
                Kind::Checkout => checkouts(tokens.clone()),
                Kind::WebhookForeign => Webhook::Foreign.requests(self.webhook_secret),
                Kind::WebhookPays => Webhook::Pays(pool.clone()).requests(self.webhook_secret),
                Kind::WebhookDuplicate => Webhook::duplicate().requests(self.webhook_secret),
                Kind::WebhookBadSignature => Webhook::BadSignature.requests(self.webhook_secret),
            };
            runs.push(
                self.measure(kind, connections, seconds, addr, server, requests)
                    .await,
            );
        }
        // Requests cut off at the end of the last run still finish in the server.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let ledger = Ledger::read(checkout_db)?.since(&ledger_before);
        let stripe_after = self.stripe.counts();
        Ok(HostRuns {
            host,
            name,
            runs,
            ledger,
            stripe: Counts {
                connections: stripe_after.connections - stripe_before.connections,
                created: stripe_after.created - stripe_before.created,
                replayed: stripe_after.replayed - stripe_before.replayed,
                expired: stripe_after.expired - stripe_before.expired,
                expire_refused: stripe_after.expire_refused - stripe_before.expire_refused,
                unauthorized: stripe_after.unauthorized - stripe_before.unauthorized,
                bad_requests: stripe_after.bad_requests - stripe_before.bad_requests,
            },
            pool_used: pool.used(),
            pool_short: pool.short(),
        })
    }

    async fn measure(
        &self,
        kind: Kind,
        connections: usize,
        seconds: u64,
        addr: SocketAddr,
        server: &Server,
        requests: Requests,
    ) -> Run {
        let (requests, sent) = counting(requests);
        let config = LoadConfig {
            addr,
            connections,
            warmup: Duration::from_secs(self.cli.warmup),
            duration: Duration::from_secs(seconds),
            requests,
        };
        let before = cpu::sample(server.id());
        let report = load::run(config).await;
        let after = cpu::sample(server.id());
        // Requests cut off at the end still finish in the server: let them, before the next run.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Run {
            kind,
            connections,
            report,
            sent: sent.load(Ordering::Relaxed),
            server_cpu: cpu::server_time(before, after),
            others: cpu::others_percent(before, after),
        }
    }
}
