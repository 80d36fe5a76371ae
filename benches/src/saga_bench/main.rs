//! Saga benchmark: paid Checkout Sessions through Stripe's signed webhook until their orders
//! are COMPLETED, on reen-host and on the real Spin CLI, against a fake Stripe and a fake email
//! API on loopback and a real `redis-server` (the events component's trigger).
//!
//! ```text
//! cargo run -p benches --bin saga-bench -- [--sagas 200] [--connections 16] [--only reen-host|spin] [--keep]
//! ```
//!
//! 1. The fakes in this process (`benches::fake_stripe`, `benches::fake_email`), a private
//!    `redis-server` (required: without it no saga runs), and `reen-host up --build` on the
//!    repository's `spin.toml` and `runtime-config.toml`, every store in a temporary directory.
//! 2. Seeding through the API (`benches::checkout_seed`): a seller lists products, then one
//!    buyer per saga signs up, fills a 3-line cart and opens a checkout (stock and balance held,
//!    a session created at the fake Stripe). reen-host is stopped and Spin gets a copy of the
//!    stores, so both hosts start from the same data.
//! 3. On each host in turn, two runs of `--sagas` sagas each, every one a new
//!    `checkout.session.completed` (paid) for one open checkout, signed as Stripe signs:
//!    - one at a time: the next webhook is sent once the previous order is COMPLETED (the
//!      latency of one saga alone);
//!    - a burst: all of them at `--connections` connections as fast as the webhook answers
//!      (the saga rate, and the latency with sagas queueing behind each other).
//! 4. The latency of a saga is from the bench sending the webhook to the order's move to
//!    COMPLETED as `orders.db` records it (`updated_at`, milliseconds); where the time goes
//!    comes from the timestamps the app writes on the way (`timeline.rs`).
//! 5. Checks: every webhook answered 200, every order COMPLETED (none refunded), exactly one
//!    buyer and one seller email per saga at the fake email API, no refund at the fake Stripe;
//!    any failure fails the bench after the report. The p50 target is reported, met or missed.

mod report;
mod timeline;

use anyhow::{Context as _, ensure};
use benches::checkout_seed;
use benches::client::Client;
use benches::fake_email::{EmailCounts, FakeEmail};
use benches::fake_stripe::{Counts, FakeStripe};
use benches::servers::{self, Server};
use benches::spin_app::SpinHome;
use benches::{app, stripe_webhook};
use clap::{Parser, ValueEnum};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use timeline::{Orders, Stores, Timeline};

const HEALTH: &str = "/api/v1/health";

/// The email API key the app is given and the fake accepts.
const EMAIL_KEY: &str = "re_bench_key";

/// How long a saga (one at a time) or a burst may take before the bench gives up on it.
const SAGA_LIMIT: Duration = Duration::from_secs(30);
const BURST_LIMIT: Duration = Duration::from_secs(300);

#[derive(Parser)]
#[command(
    name = "saga-bench",
    about = "Paid checkouts through the signed Stripe webhook to COMPLETED orders, on \
             reen-host and Spin"
)]
pub struct Cli {
    /// Sagas per run (two runs per host: one at a time, then a burst).
    #[arg(long, default_value_t = 200)]
    sagas: usize,
    /// Connections the burst's webhooks are sent on.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measure only this host.
    #[arg(long, value_enum)]
    only: Option<Host>,
    /// Keep the state directory (databases, logs) and print its path.
    #[arg(long)]
    keep: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Host {
    ReenHost,
    Spin,
}

/// How a run sends its webhooks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    OneAtATime,
    Burst,
}

/// One run: every saga's timeline by checkout id.
pub struct Run {
    pub mode: Mode,
    pub sagas: HashMap<String, Timeline>,
    /// Webhooks answered with another status than 200 (status, count).
    pub refused: Vec<(u16, usize)>,
    /// Sagas not settled when the bench stopped waiting.
    pub unsettled: usize,
    pub emails: EmailCounts,
}

/// Everything measured on one host.
pub struct HostRuns {
    pub host: Host,
    /// `reen-host (dev build)`, `spin 4.1.0-pre0`.
    pub name: String,
    pub runs: Vec<Run>,
    /// What the fake Stripe answered during the runs (a refund would be a call it refuses).
    pub stripe: Counts,
}

struct Bench {
    cli: Cli,
    stripe: FakeStripe,
    email: FakeEmail,
    webhook_secret: &'static str,
    /// Open sessions (as the fake Stripe holds them), each paid once.
    pool: Vec<Value>,
    next: AtomicUsize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ensure!(
        cli.sagas > 0 && cli.connections > 0,
        "--sagas and --connections must be positive"
    );
    let root = app::repo_root();
    let host = app::build_host(&root)?;
    let not_wanted =
        (cli.only == Some(Host::ReenHost)).then_some("not asked for: --only reen-host");
    let spin = benches::spin::for_runs(not_wanted, cli.only == Some(Host::Spin))?;
    let hosts_measured = if spin.is_ok() && cli.only.is_none() {
        2
    } else {
        1
    };
    let scratch = tempfile::Builder::new().prefix("saga-bench-").tempdir()?;
    let state = scratch.path().join("reen-host");
    std::fs::create_dir_all(&state)?;
    app::runtime_config(&root, &state)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let keep = cli.keep;
    let outcome = runtime.block_on(async {
        let redis = reen_host::testing::RedisServer::start()
            .await
            .context("the saga runs on a Redis trigger: install redis-server")?;
        let secret_key = app::variable("stripe_secret_key").context("stripe_secret_key")?;
        let stripe = FakeStripe::start(secret_key).await?;
        let email = FakeEmail::start(EMAIL_KEY).await?;
        let variables = vec![
            ("stripe_api_base", stripe.base_url()),
            ("email_api_base", email.base_url()),
            ("email_api_key", EMAIL_KEY.to_owned()),
            ("redis_url", redis.url()),
        ];

        let started = Instant::now();
        let addr = servers::free_addr()?;
        eprintln!("reen-host up --build (builds every component of spin.toml) ...");
        let mut server =
            app::start_with_variables(&host, &root, &state, addr, true, &variables, "seed.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        let pool_size = 2 * cli.sagas * hosts_measured;
        let seeded = checkout_seed::seed(addr, 0, pool_size).await?;
        drop(server);
        let seeding = started.elapsed();
        let pool = seeded
            .open_sessions
            .iter()
            .map(|id| stripe.session(id).context("a session the fake never made"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let spin_home = match &spin {
            Ok(_) => Some(SpinHome::prepare(&root, &state, &scratch.path().join("spin")).await?),
            Err(_) => None,
        };
        let bench = Bench {
            webhook_secret: app::variable("stripe_webhook_secret")
                .context("stripe_webhook_secret")?,
            cli,
            stripe,
            email,
            pool,
            next: AtomicUsize::new(0),
        };

        let mut hosts = Vec::new();
        if bench.cli.only != Some(Host::Spin) {
            let addr = servers::free_addr()?;
            let mut server = app::start_with_variables(
                &host, &root, &state, addr, false, &variables, "app.log",
            )?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(300))
                .await?;
            let stores = |name: &str| state.join(name);
            let (checkout, saga, orders) = (
                stores("checkout.db"),
                stores("saga.db"),
                stores("orders.db"),
            );
            let stores = Stores {
                checkout: &checkout,
                saga: &saga,
                orders: &orders,
            };
            let name = "reen-host (dev build)".to_owned();
            hosts.push(
                bench
                    .measure_host(Host::ReenHost, name, addr, &server, &stores)
                    .await?,
            );
        }
        if let (Ok((binary, version)), Some(home)) = (&spin, &spin_home) {
            let addr = servers::free_addr()?;
            let command = home.command_with(binary, &root, addr, &variables);
            eprintln!("spin up (compiles every component first) ...");
            let mut server = home.spawn(command, "spin.log")?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(900))
                .await?;
            let (checkout, saga, orders) = (
                home.store("checkout.db"),
                home.store("saga.db"),
                home.store("orders.db"),
            );
            let stores = Stores {
                checkout: &checkout,
                saga: &saga,
                orders: &orders,
            };
            hosts.push(
                bench
                    .measure_host(Host::Spin, version.clone(), addr, &server, &stores)
                    .await?,
            );
        }
        let context = report::Context {
            cli: &bench.cli,
            root: &root,
            seeding,
            redis: redis.url(),
            spin: spin.as_ref().err().cloned(),
        };
        report::print(&context, &hosts);
        anyhow::Ok(hosts)
    });
    if keep || outcome.is_err() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    report::verdict(&outcome?)
}

/// Milliseconds since the Unix epoch: the clock the app's timestamps use.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Our checkout id of an open session (the saga's and the order's key).
fn checkout_id(session: &Value) -> anyhow::Result<String> {
    session["metadata"]["checkoutId"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("a pool session without metadata.checkoutId: {session}"))
}

impl Bench {
    /// The next `count` open sessions of the pool.
    fn take(&self, count: usize) -> anyhow::Result<Vec<Value>> {
        let from = self.next.fetch_add(count, Ordering::Relaxed);
        self.pool
            .get(from..from + count)
            .map(<[Value]>::to_vec)
            .context("the pool of open checkouts ran dry")
    }

    async fn measure_host(
        &self,
        host: Host,
        name: String,
        addr: SocketAddr,
        server: &Server,
        stores: &Stores<'_>,
    ) -> anyhow::Result<HostRuns> {
        eprintln!("{name}: server process {}", server.id());
        let stripe_before = self.stripe.counts();
        let mut runs = Vec::new();
        for mode in [Mode::OneAtATime, Mode::Burst] {
            eprintln!("{name}: {} sagas, {mode:?} ...", self.cli.sagas);
            let sessions = self.take(self.cli.sagas)?;
            let emails_before = self.email.counts();
            let mut run = match mode {
                Mode::OneAtATime => self.one_at_a_time(addr, &sessions, stores).await?,
                Mode::Burst => self.burst(addr, &sessions, stores).await?,
            };
            // The last emails may follow the order's move (they are later steps).
            tokio::time::sleep(Duration::from_millis(500)).await;
            timeline::read(stores, &mut run.sagas)?;
            let emails = self.email.counts();
            run.emails = EmailCounts {
                sent: emails.sent - emails_before.sent,
                replayed: emails.replayed - emails_before.replayed,
                refused: emails.refused - emails_before.refused,
            };
            runs.push(run);
        }
        let after = self.stripe.counts();
        Ok(HostRuns {
            host,
            name,
            runs,
            stripe: Counts {
                connections: after.connections - stripe_before.connections,
                created: after.created - stripe_before.created,
                replayed: after.replayed - stripe_before.replayed,
                expired: after.expired - stripe_before.expired,
                expire_refused: after.expire_refused - stripe_before.expire_refused,
                unauthorized: after.unauthorized - stripe_before.unauthorized,
                bad_requests: after.bad_requests - stripe_before.bad_requests,
            },
        })
    }

    /// Each webhook once the previous saga's order is settled.
    async fn one_at_a_time(
        &self,
        addr: SocketAddr,
        sessions: &[Value],
        stores: &Stores<'_>,
    ) -> anyhow::Result<Run> {
        let mut c = Client::connect(addr).await?;
        let mut orders = Orders::new(stores.orders);
        let mut run = Run::new(Mode::OneAtATime);
        for session in sessions {
            let id = checkout_id(session)?;
            let delivery = stripe_webhook::pays(self.webhook_secret, session);
            let sent = now_ms();
            let status = c.send_outgoing(&delivery).await?;
            let answered = now_ms();
            run.record(&id, status, sent, answered);
            let deadline = Instant::now() + SAGA_LIMIT;
            while orders.unsettled(std::slice::from_ref(&id))? > 0 {
                if Instant::now() > deadline {
                    run.unsettled += 1;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        Ok(run)
    }

    /// Every webhook as fast as the webhook answers, on `--connections` connections.
    async fn burst(
        &self,
        addr: SocketAddr,
        sessions: &[Value],
        stores: &Stores<'_>,
    ) -> anyhow::Result<Run> {
        let deliveries: Arc<Vec<(String, Value)>> = Arc::new(
            sessions
                .iter()
                .map(|s| Ok((checkout_id(s)?, s.clone())))
                .collect::<anyhow::Result<_>>()?,
        );
        let next = Arc::new(AtomicUsize::new(0));
        let secret = self.webhook_secret;
        let mut senders = Vec::new();
        for _ in 0..self.cli.connections.min(sessions.len()) {
            let (deliveries, next) = (deliveries.clone(), next.clone());
            senders.push(tokio::spawn(async move {
                let mut c = Client::connect(addr).await?;
                let mut sent = Vec::new();
                while let Some((id, session)) = deliveries.get(next.fetch_add(1, Ordering::Relaxed))
                {
                    let delivery = stripe_webhook::pays(secret, session);
                    let at = now_ms();
                    let status = c.send_outgoing(&delivery).await?;
                    sent.push((id.clone(), status, at, now_ms()));
                }
                anyhow::Ok(sent)
            }));
        }
        let mut run = Run::new(Mode::Burst);
        for sender in senders {
            for (id, status, sent, answered) in sender.await.context("a webhook sender")?? {
                run.record(&id, status, sent, answered);
            }
        }
        let ids: Vec<String> = deliveries.iter().map(|(id, _)| id.clone()).collect();
        let mut orders = Orders::new(stores.orders);
        let deadline = Instant::now() + BURST_LIMIT;
        loop {
            run.unsettled = orders.unsettled(&ids)?;
            if run.unsettled == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(run)
    }
}

impl Run {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            sagas: HashMap::new(),
            refused: Vec::new(),
            unsettled: 0,
            emails: EmailCounts::default(),
        }
    }

    fn record(&mut self, id: &str, status: u16, sent: i64, answered: i64) {
        if status != 200 {
            match self.refused.iter_mut().find(|(s, _)| *s == status) {
                Some((_, count)) => *count += 1,
                None => self.refused.push((status, 1)),
            }
        }
        self.sagas.insert(
            id.to_owned(),
            Timeline {
                sent,
                answered,
                ..Timeline::default()
            },
        );
    }
}

/// Where the report says a figure came from.
pub fn storage(host: Host) -> &'static str {
    match host {
        Host::ReenHost => {
            "local SQLite files in WAL (synchronous = FULL), guest connections reused; \
             key-value SQLite files in WAL"
        }
        Host::Spin => {
            "copies of the same files in rollback-journal mode (SQLite's defaults), a new \
             SQLite connection per guest open"
        }
    }
}
