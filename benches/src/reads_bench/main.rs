//! Reads benchmark (issue 18): the reads shoppers make most, on the real Spin CLI and on
//! reen-host in one run, each as a share of Spin's own floor (the health route, the smallest
//! component) measured in the same run, with a native server running the list's queries.
//!
//! ```text
//! cargo run -p benches --bin reads-bench -- [--connections 16] [--duration 8] [--warmup 1]
//!     [--products 1000] [--cart-items 10] [--orders 20] [--call-duration 3]
//!     [--only reen-host|spin] [--keep]
//! ```
//!
//! 1. Fakes of Stripe and of the email API in this process, a private `redis-server`, and
//!    `reen-host up --build` on the repository's `spin.toml` and `runtime-config.toml`, every
//!    store in a temporary directory.
//! 2. Seeding (`seed.rs`): a catalogue of `--products`, a shopper with a `--cart-items` cart,
//!    a buyer with `--orders` COMPLETED orders (checkout, signed webhook, saga). reen-host is
//!    stopped; Spin gets a copy of the stores in its own journal mode (`benches::spin_app`).
//! 3. On each host in turn, closed-loop runs at `--connections` (keep-alive, warm-up, measured
//!    window): the health route (the floor); the storefront's first products page (a cache
//!    hit: one request fills it first); a name search for a random string per request (a
//!    query anyone can vary at will, so never cached); the shopper's cart read; the buyer's
//!    order history. Then the native server (`benches::native_products`, hyper + rusqlite on
//!    reen-host's files): the same first page from an in-process cache, and queried every time.
//! 4. The profile behind the figures (`host_calls.rs`): on each host, the `host-calls` fixture
//!    alone on the same stores, pricing each kind of host call the reads make.
//! 5. Every answer must be 200; any other fails the bench after the report, which prints
//!    req/s, p50/p99 and each route's share of the Spin floor, against the issue's targets,
//!    then the host calls' price list.

mod host_calls;
mod report;
mod seed;

use anyhow::{Context as _, ensure};
use benches::checkout_seed::PASSWORD;
use benches::client::{self, Client};
use benches::fake_email::FakeEmail;
use benches::fake_stripe::FakeStripe;
use benches::load::{self, LoadConfig, LoadReport, Paths};
use benches::servers::{self, Server};
use benches::spin_app::SpinHome;
use benches::{app, native_products};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const HEALTH: &str = "/api/v1/health";
const PAGE_ONE: &str = "/api/v1/products?page=1&limit=10";
const CART: &str = "/api/v1/cart-items";
const ORDERS: &str = "/api/v1/orders";
const EMAIL_KEY: &str = "re_bench_key";

#[derive(Parser)]
#[command(
    name = "reads-bench",
    about = "The reads shoppers make most, on Spin and reen-host, as shares of Spin's floor"
)]
pub struct Cli {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Products in the catalogue.
    #[arg(long, default_value_t = 1_000)]
    products: usize,
    /// Items in the shopper's cart.
    #[arg(long, default_value_t = 10)]
    cart_items: usize,
    /// Orders (of three lines) in the buyer's history.
    #[arg(long, default_value_t = 20)]
    orders: usize,
    /// Measured seconds per run of the host-calls fixture (after the warm-up).
    #[arg(long, default_value_t = 3)]
    call_duration: u64,
    /// Measure only this host (the native server runs either way).
    #[arg(long, value_enum)]
    only: Option<Host>,
    /// Keep the state directory (databases, logs) and print its path.
    #[arg(long)]
    keep: bool,
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
        #[arg(long)]
        products: PathBuf,
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        cache: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Host {
    ReenHost,
    Spin,
}

/// What a run asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    Health,
    PageOne,
    NameSearch,
    Cart,
    Orders,
}

impl Route {
    const ALL: [Route; 5] = [
        Route::Health,
        Route::PageOne,
        Route::NameSearch,
        Route::Cart,
        Route::Orders,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Route::Health => "health (the floor)",
            Route::PageOne => "products page 1 (hosts: a hit)",
            Route::NameSearch => "products ?name=<random>",
            Route::Cart => "cart read",
            Route::Orders => "orders list",
        }
    }
}

/// Who served a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Served {
    Host(Host),
    /// The native server with its in-process cache, or querying every time.
    Native {
        cached: bool,
    },
}

pub struct Run {
    pub server: Served,
    pub route: Route,
    pub report: LoadReport,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Internal::NativeServer {
        listen,
        products,
        identity,
        cache,
    }) = cli.command
    {
        return native_products::serve(listen, products, identity, cache, false);
    }
    ensure!(
        cli.connections > 0 && cli.duration > 0 && cli.cart_items > 0 && cli.call_duration > 0,
        "--connections, --duration, --cart-items and --call-duration must be positive"
    );
    let root = app::repo_root();
    let host = app::build_host(&root)?;
    let not_wanted =
        (cli.only == Some(Host::ReenHost)).then_some("not asked for: --only reen-host");
    let spin = benches::spin::for_runs(not_wanted, cli.only == Some(Host::Spin))?;
    let scratch = tempfile::Builder::new().prefix("reads-bench-").tempdir()?;
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
            .context("the orders are made by the saga on a Redis trigger: install redis-server")?;
        let secret_key = app::variable("stripe_secret_key").context("stripe_secret_key")?;
        let webhook_secret =
            app::variable("stripe_webhook_secret").context("stripe_webhook_secret")?;
        let stripe = FakeStripe::start(secret_key).await?;
        let email = FakeEmail::start(EMAIL_KEY).await?;
        let variables = vec![
            ("stripe_api_base", stripe.base_url()),
            ("email_api_base", email.base_url()),
            ("email_api_key", EMAIL_KEY.to_owned()),
            ("redis_url", redis.url()),
        ];

        let addr = servers::free_addr()?;
        eprintln!("reen-host up --build (builds every component of spin.toml) ...");
        let mut server =
            app::start_with_variables(&host, &root, &state, addr, true, &variables, "seed.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        eprintln!(
            "seeding: {} products, a {}-item cart, {} orders through the saga ...",
            cli.products, cli.cart_items, cli.orders
        );
        let mut c = Client::connect(addr).await?;
        let sizes = (cli.products, cli.cart_items, cli.orders);
        seed::seed(
            &mut c,
            &state.join("products.db"),
            &stripe,
            webhook_secret,
            sizes,
        )
        .await?;
        drop(server);
        let spin_home = match &spin {
            Ok(_) => Some(SpinHome::prepare(&root, &state, &scratch.path().join("spin")).await?),
            Err(_) => None,
        };

        let fixture = host_calls::prepare(&root, scratch.path())?;
        let (mut baselines, mut calls) = (Vec::new(), Vec::new());
        let mut runs = Vec::new();
        if cli.only != Some(Host::Spin) {
            let addr = servers::free_addr()?;
            let mut server = app::start_with_variables(
                &host, &root, &state, addr, false, &variables, "app.log",
            )?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(300))
                .await?;
            runs.extend(measure_host(&cli, Host::ReenHost, addr).await?);
            drop(server);
            let addr = servers::free_addr()?;
            let mut server = host_calls::start_reen_host(&host, &root, &fixture, &state, addr)?;
            let (baseline, runs) =
                host_calls::measure(&cli, Host::ReenHost, &mut server, addr).await?;
            baselines.push(baseline);
            calls.extend(runs);
        }
        if let (Ok((binary, _)), Some(home)) = (&spin, &spin_home) {
            let addr = servers::free_addr()?;
            let command = home.command_with(binary, &root, addr, &variables);
            eprintln!("spin up (compiles every component first) ...");
            let mut server = home.spawn(command, "spin.log")?;
            server
                .wait_ready(addr, HEALTH, Duration::from_secs(900))
                .await?;
            runs.extend(measure_host(&cli, Host::Spin, addr).await?);
            drop(server);
            let addr = servers::free_addr()?;
            let mut server = host_calls::start_spin(home, binary, &fixture, addr)?;
            let (baseline, runs) = host_calls::measure(&cli, Host::Spin, &mut server, addr).await?;
            baselines.push(baseline);
            calls.extend(runs);
        }
        for cached in [true, false] {
            let addr = servers::free_addr()?;
            let mut server = native(&state, addr, cached)?;
            server
                .wait_ready(addr, PAGE_ONE, Duration::from_secs(30))
                .await?;
            eprintln!("native (cached: {cached}): {} ...", Route::PageOne.label());
            let report = measure(&cli, addr, load::fixed(PAGE_ONE), None).await;
            runs.push(Run {
                server: Served::Native { cached },
                route: Route::PageOne,
                report,
            });
        }
        let context = report::Context {
            cli: &cli,
            root: &root,
            spin: spin.as_ref().map(|(_, v)| v.clone()).map_err(Clone::clone),
        };
        report::print(&context, &runs);
        host_calls::print(&baselines, &calls);
        let failed = host_calls::errors(&baselines, &calls);
        ensure!(
            failed == 0,
            "{failed} host-calls fixture requests did not answer 200"
        );
        anyhow::Ok(runs)
    });
    if keep || outcome.is_err() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    report::verdict(&outcome?)
}

/// This binary's native server on reen-host's files.
fn native(state: &Path, addr: SocketAddr, cached: bool) -> anyhow::Result<Server> {
    let me = std::env::current_exe().context("locating the reads-bench binary")?;
    let mut command = Command::new(me);
    command
        .arg("native-server")
        .args(["--listen", &addr.to_string()])
        .arg("--products")
        .arg(state.join("products.db"))
        .arg("--identity")
        .arg(state.join("identity_kv.db"));
    if cached {
        command.arg("--cache");
    }
    Server::spawn(command, &state.join("native.log"))
}

/// A new name no product has, per request: a search anyone can vary at will.
fn random_names() -> Paths {
    let next = Arc::new(AtomicU64::new(0));
    Arc::new(move || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let scrambled = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24;
        format!("/api/v1/products?name=q{scrambled:010x}")
    })
}

async fn measure_host(cli: &Cli, host: Host, addr: SocketAddr) -> anyhow::Result<Vec<Run>> {
    let mut c = Client::connect(addr).await?;
    let shopper = client::sign_in(&mut c, seed::SHOPPER, PASSWORD).await?;
    let buyer = client::sign_in(&mut c, seed::BUYER, PASSWORD).await?;
    // Fills the first page's cache entry, so the runs measure hits.
    c.get_ok(PAGE_ONE, None).await?;
    let mut runs = Vec::new();
    for route in Route::ALL {
        eprintln!("{host:?}: {} ...", route.label());
        let (paths, token) = match route {
            Route::Health => (load::fixed(HEALTH), None),
            Route::PageOne => (load::fixed(PAGE_ONE), None),
            Route::NameSearch => (random_names(), None),
            Route::Cart => (load::fixed(CART), Some(shopper.as_str())),
            Route::Orders => (load::fixed(ORDERS), Some(buyer.as_str())),
        };
        let report = measure(cli, addr, paths, token).await;
        runs.push(Run {
            server: Served::Host(host),
            route,
            report,
        });
    }
    Ok(runs)
}

async fn measure(cli: &Cli, addr: SocketAddr, paths: Paths, token: Option<&str>) -> LoadReport {
    let headers = match token {
        Some(token) => load::bearer(token).unwrap_or_default(),
        None => load::Headers::default(),
    };
    let config = LoadConfig {
        addr,
        connections: cli.connections,
        warmup: Duration::from_secs(cli.warmup),
        duration: Duration::from_secs(cli.duration),
        requests: load::gets(paths, headers),
    };
    let report = load::run(config).await;
    // Requests cut off at the end still finish in the server: let them, before the next run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    report
}
