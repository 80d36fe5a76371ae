//! Cart-read benchmark: `GET /api/v1/cart-items` of a signed-in shopper whose cart holds 10
//! items — each read verifies the token, reads the cart's lines and makes exactly one chained
//! call to the products component's private batch lookup — next to the products list
//! (`GET /api/v1/products?page=1&limit=10`, the storefront's first page, a cache hit as it is
//! normally served), measured in the same run on the same app instance.
//!
//! ```text
//! cargo run -p benches --bin cart-bench -- [--connections 64] [--also-at 16] [--sequential 3]
//!     [--duration 8] [--warmup 1] [--items 10] [--products 50] [--keep]
//! ```
//!
//! Build with the dev profile, as `cargo run -p benches` (dependencies at opt-level 3).
//!
//! 1. `reen-host up --build` on the repository's `spin.toml` and `runtime-config.toml`, every
//!    store in a temporary directory, `RUST_LOG=warn`; this one process serves every run.
//! 2. Seeding through the real API (`seed.rs`): sellers become ADMINs and bulk-create products,
//!    shoppers sign up and fill their carts.
//! 3. Checking (`check.rs`), before and after the runs: each cart read answers 200 with exactly
//!    its lines, each with its nested product equal to what `GET /api/v1/products/{id}` shows;
//!    the products list's first page is full. The reads also warm the products cache.
//! 4. Measuring, under the closed-loop load of `load.rs` (keep-alive connections, warm-up, then
//!    the measured window), the cart with `--items` items of one seller and the products list
//!    at `--connections`, then a single product (`GET /api/v1/products/{id}`), an empty cart
//!    (no chained call), a one-item cart and a cart of `--items` different sellers, which break
//!    the cart read's cost down; the cart and the list again at `--also-at` connections; every kind at one
//!    connection for `--sequential` seconds (latency without queueing). Cart requests carry the
//!    shopper's access token (15 minutes): before each run the bench checks the token outlives
//!    the run and signs in again if not. Every answer other than 200 is counted; any fails the
//!    bench after the report. The products cache file must not be written during the runs
//!    (every list read a hit; a product by id is never cached).

mod check;
mod seed;

use anyhow::{Context as _, ensure};
use benches::app;
use benches::cache::CacheFile;
use benches::client::{self, Client};
use benches::cpu;
use benches::load::{self, LoadConfig, LoadReport};
use benches::servers::{self, Server};
use clap::Parser;
use seed::{Seeded, Shopper};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "correct horse battery";
const CART: &str = "/api/v1/cart-items";
const LIST: &str = "/api/v1/products?page=1&limit=10";
const LIMIT: usize = 10;
const HEALTH: &str = "/api/v1/health";
/// The most lines a cart holds (and a batch lookup takes).
const MAX_ITEMS: usize = 100;

#[derive(Parser)]
#[command(
    name = "cart-bench",
    about = "GET /api/v1/cart-items (10 items, one chained call) next to the products list"
)]
struct Cli {
    /// Concurrent keep-alive connections of the main runs.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Also measure the cart and the list at this many connections (0: not).
    #[arg(long, default_value_t = 16)]
    also_at: usize,
    /// Measured seconds of every kind of request at one connection (0: none).
    #[arg(long, default_value_t = 3)]
    sequential: u64,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Lines in the measured cart (each a different product).
    #[arg(long, default_value_t = 10)]
    items: usize,
    /// Products of the cart's seller (the other sellers list one each).
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Keep the state directory (databases, key-value files, app.log) and print its path.
    #[arg(long)]
    keep: bool,
}

/// A kind of request measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The headline: the shopper's cart, `items` products of one seller.
    Cart,
    /// The products list's first page, a cache hit (no token, as a visitor browses).
    List,
    /// One of the cart's products, `GET /api/v1/products/{id}` (never cached: one row).
    Product,
    /// A signed-in shopper's empty cart: no chained call.
    CartEmpty,
    /// A cart of one product: the chained call's fixed cost.
    CartOne,
    /// A cart of `items` products of `items` different sellers.
    CartSellers,
}

impl Kind {
    /// Every kind, in the order measured: the headline pair first.
    const ALL: [Kind; 6] = [
        Kind::Cart,
        Kind::List,
        Kind::Product,
        Kind::CartEmpty,
        Kind::CartOne,
        Kind::CartSellers,
    ];

    fn label(self, items: usize) -> String {
        match self {
            Kind::Cart => format!("cart, {items} items of 1 seller"),
            Kind::List => "products list, page 1".into(),
            Kind::Product => "one product by id".into(),
            Kind::CartEmpty => "cart, empty (no chained call)".into(),
            Kind::CartOne => "cart, 1 item".into(),
            Kind::CartSellers => format!("cart, {items} items of {items} sellers"),
        }
    }
}

/// One measured run.
struct Run {
    kind: Kind,
    connections: usize,
    report: LoadReport,
    /// Requests sent (warm-up and measured window, including any cut off at the end).
    sent: u64,
    /// CPU time of the reen-host process over the run (warm-up included).
    server_cpu: Option<Duration>,
    /// CPU time that went to neither reen-host nor the bench, in % of the machine.
    others: Option<f64>,
}

impl Run {
    /// reen-host's CPU time per request sent.
    fn cpu_per_request(&self) -> Option<Duration> {
        let cpu = self.server_cpu?;
        (self.sent > 0).then(|| cpu / self.sent as u32)
    }
}

struct Bench {
    cli: Cli,
    addr: SocketAddr,
    server: Server,
    client: Client,
    seeded: Seeded,
    /// Each cart's products as `GET /api/v1/products/{id}` showed them at the first check.
    expected: HashMap<String, Value>,
    /// Sign-ins made because a token would have expired during a run.
    renewed: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ensure!(
        cli.connections > 0 && cli.duration > 0,
        "--connections and --duration must be positive"
    );
    ensure!(
        (1..=MAX_ITEMS).contains(&cli.items),
        "--items must be 1..={MAX_ITEMS}"
    );
    ensure!(
        cli.products >= cli.items.max(LIMIT),
        "--products must be at least --items and at least {LIMIT} (a full first page of \
         the cart seller's products)"
    );
    let keep = cli.keep;
    let root = app::repo_root();
    let host = app::build_host(&root)?;
    let scratch = tempfile::Builder::new().prefix("cart-bench-").tempdir()?;
    let state = scratch.path();
    app::runtime_config(&root, state)?;
    let addr = servers::free_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        eprintln!("reen-host up --build (builds every component of spin.toml) ...");
        let mut server = app::start(&host, &root, state, addr, true, "app.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        let mut client = Client::connect(addr).await?;
        eprintln!(
            "seeding through the API: {} sellers, {} products, 4 shoppers ...",
            cli.items,
            cli.products + cli.items - 1
        );
        let seeded = seed::seed(&mut client, cli.products, cli.items).await?;
        let mut bench = Bench {
            cli,
            addr,
            server,
            client,
            seeded,
            expected: HashMap::new(),
            renewed: 0,
        };
        bench
            .check(true)
            .await
            .context("checking before the runs")?;
        let cache = CacheFile::new(&state.join("cache_kv.db"));
        let writes_before = cache.writes();
        let runs = bench.measure_all().await?;
        let writes = match (writes_before, cache.writes()) {
            (Ok(before), Ok(after)) => Ok(after.wrapping_sub(before)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        bench
            .check(false)
            .await
            .context("checking after the runs")?;
        print_report(&bench, &runs, writes);
        anyhow::Ok(runs)
    });
    // A failed run keeps its state too: app.log explains it.
    if keep || outcome.is_err() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    let runs = outcome?;
    let failed: u64 = runs.iter().map(|r| r.report.errors).sum();
    ensure!(
        failed == 0,
        "{failed} requests did not answer 200 during the runs (see the table)"
    );
    Ok(())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Bench {
    fn shopper(&self, kind: Kind) -> Option<&Shopper> {
        match kind {
            Kind::Cart => Some(&self.seeded.shopper),
            Kind::CartEmpty => Some(&self.seeded.empty),
            Kind::CartOne => Some(&self.seeded.single),
            Kind::CartSellers => Some(&self.seeded.mixed),
            Kind::List | Kind::Product => None,
        }
    }

    fn shopper_mut(&mut self, kind: Kind) -> Option<&mut Shopper> {
        match kind {
            Kind::Cart => Some(&mut self.seeded.shopper),
            Kind::CartEmpty => Some(&mut self.seeded.empty),
            Kind::CartOne => Some(&mut self.seeded.single),
            Kind::CartSellers => Some(&mut self.seeded.mixed),
            Kind::List | Kind::Product => None,
        }
    }

    /// The measured single product: the cart's first.
    fn product_path(&self) -> String {
        format!("/api/v1/products/{}", self.seeded.shopper.cart[0])
    }

    fn path(&self, kind: Kind) -> String {
        match kind {
            Kind::Cart | Kind::CartEmpty | Kind::CartOne | Kind::CartSellers => CART.to_owned(),
            Kind::List => LIST.to_owned(),
            Kind::Product => self.product_path(),
        }
    }

    /// Every cart answers exactly its lines with their products as the catalogue shows them;
    /// page 1 of the list is full; the single product answers. `first`: record the products
    /// as shown now; later checks expect the same (nothing was written in between).
    async fn check(&mut self, first: bool) -> anyhow::Result<()> {
        let ids: Vec<String> = [Kind::Cart, Kind::CartSellers]
            .iter()
            .flat_map(|&k| self.shopper(k).map(|s| s.cart.clone()).unwrap_or_default())
            .collect();
        if first {
            for id in ids {
                let shown = self
                    .client
                    .get_ok(&format!("/api/v1/products/{id}"), None)
                    .await?;
                self.expected.insert(id, shown);
            }
        }
        for kind in [
            Kind::Cart,
            Kind::CartSellers,
            Kind::CartOne,
            Kind::CartEmpty,
        ] {
            let shopper = self.shopper(kind).context("a cart kind has a shopper")?;
            let expected: HashMap<String, Value> = shopper
                .cart
                .iter()
                .map(|id| (id.clone(), self.expected[id].clone()))
                .collect();
            let (token, email) = (shopper.account.token.clone(), shopper.account.email.clone());
            let body = self.client.get_ok(CART, Some(&token)).await?;
            check::cart(&body, &expected).with_context(|| format!("GET {CART} of {email}"))?;
        }
        for _warm in 0..2 {
            let page = self.client.get_ok(LIST, None).await?;
            check::first_page(&page, LIMIT, self.seeded.total_products)?;
            let path = self.product_path();
            let product = self.client.get_ok(&path, None).await?;
            ensure!(
                product == self.expected[&self.seeded.shopper.cart[0]],
                "GET {path} changed during the runs"
            );
        }
        Ok(())
    }

    /// The token of `kind`'s shopper, valid for at least `window` more (signing in again
    /// when the current one would expire sooner).
    async fn token(&mut self, kind: Kind, window: Duration) -> anyhow::Result<String> {
        // Tolerated clock skew (5 s) and the time to start the run.
        let needed = window.as_secs() as i64 + 30;
        let shopper = self
            .shopper_mut(kind)
            .context("a cart kind has a shopper")?;
        let left = |token: &str| {
            client::token_expiry(token)
                .map(|exp| exp - unix_now())
                .context("an access token without exp")
        };
        if left(&shopper.account.token)? >= needed {
            return Ok(shopper.account.token.clone());
        }
        let email = shopper.account.email.clone();
        let token = client::sign_in(&mut self.client, &email, PASSWORD).await?;
        let remaining = left(&token)?;
        ensure!(
            remaining >= needed,
            "a fresh access token lasts {remaining} s, less than a run ({needed} s)"
        );
        self.renewed += 1;
        let shopper = self
            .shopper_mut(kind)
            .context("a cart kind has a shopper")?;
        shopper.account.token = token.clone();
        Ok(token)
    }

    async fn measure(
        &mut self,
        kind: Kind,
        connections: usize,
        seconds: u64,
    ) -> anyhow::Result<Run> {
        let (warmup, duration) = (
            Duration::from_secs(self.cli.warmup),
            Duration::from_secs(seconds),
        );
        eprintln!(
            "measuring {} at {connections} connection(s) ...",
            kind.label(self.cli.items)
        );
        let headers = match self.shopper(kind) {
            Some(_) => load::bearer(&self.token(kind, warmup + duration).await?)?,
            None => load::Headers::default(),
        };
        let (paths, sent) = load::counting(load::fixed(&self.path(kind)));
        let config = LoadConfig {
            addr: self.addr,
            connections,
            warmup,
            duration,
            requests: load::gets(paths, headers),
        };
        let pid = self.server.id();
        let before = cpu::sample(pid);
        let report = load::run(config).await;
        let after = cpu::sample(pid);
        // Requests cut off at the end still finish in the server: let them, before the next run.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Run {
            kind,
            connections,
            report,
            sent: sent.load(std::sync::atomic::Ordering::Relaxed),
            server_cpu: cpu::server_time(before, after),
            others: cpu::others_percent(before, after),
        })
    }

    async fn measure_all(&mut self) -> anyhow::Result<Vec<Run>> {
        let (main, seconds) = (self.cli.connections, self.cli.duration);
        let mut plan: Vec<_> = Kind::ALL.iter().map(|&k| (k, main, seconds)).collect();
        if self.cli.also_at > 0 {
            plan.push((Kind::Cart, self.cli.also_at, seconds));
            plan.push((Kind::List, self.cli.also_at, seconds));
        }
        if self.cli.sequential > 0 {
            plan.extend(Kind::ALL.iter().map(|&k| (k, 1, self.cli.sequential)));
        }
        let mut runs = Vec::new();
        for (kind, connections, seconds) in plan {
            runs.push(self.measure(kind, connections, seconds).await?);
        }
        Ok(runs)
    }
}

fn print_report(bench: &Bench, runs: &[Run], cache_writes: anyhow::Result<u32>) {
    let cli = &bench.cli;
    let items = cli.items;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!();
    println!(
        "GET {CART} of a signed-in shopper ({items} items, one chained call to \
         products' POST /internal/v1/products/batch) next to GET {LIST}, one reen-host instance"
    );
    println!(
        "catalogue: {} products ({} of the cart's seller, {} of other sellers), all through \
         the API; the list, the product and every cart checked before and after the runs",
        bench.seeded.total_products,
        cli.products,
        items - 1
    );
    println!(
        "reen-host: dev-profile build, RUST_LOG=warn, components as `cargo up` builds them \
         (wasm32-wasip2, release); list reads are cache hits, product reads query (no token)"
    );
    println!(
        "machine: {cores} cores shared by the load generator and reen-host; CPU/req: \
         reen-host's CPU time (all threads, user + system) per request sent; other: CPU time \
         taken by anything else, in % of the machine"
    );
    println!(
        "load: closed loop, HTTP/1.1 keep-alive, {} s warm-up + {} s measured per run \
         ({} s at 1 connection)",
        cli.warmup, cli.duration, cli.sequential
    );
    println!();
    println!(
        "{:<36}{:>6}{:>9}{:>11}{:>11}{:>9}{:>8}{:>10}{:>7}",
        "request", "conns", "req/s", "p50", "p99", "non-200", "failed", "CPU/req", "other"
    );
    for run in runs {
        println!(
            "{:<36}{:>6}{:>9.0}{:>11}{:>11}{:>9}{:>8}{:>10}{:>7}",
            run.kind.label(items),
            run.connections,
            run.report.requests_per_sec(),
            load::millis(run.report.percentile(50.0)),
            load::millis(run.report.percentile(99.0)),
            run.report.non_ok(),
            run.report.transport_errors(),
            load::millis(run.cpu_per_request()),
            run.others
                .map_or_else(|| "-".to_owned(), |o| format!("{o:.0}%")),
        );
    }

    let find = |kind: Kind, connections: usize| {
        runs.iter()
            .find(|r| r.kind == kind && r.connections == connections)
    };
    println!();
    for connections in [cli.connections, cli.also_at] {
        if let (Some(cart), Some(list)) =
            (find(Kind::Cart, connections), find(Kind::List, connections))
        {
            println!(
                "cart read vs products list at {connections} connections: {:.2}x the req/s \
                 ({:.0} vs {:.0}), p99 {} vs {}",
                cart.report.requests_per_sec() / list.report.requests_per_sec(),
                cart.report.requests_per_sec(),
                list.report.requests_per_sec(),
                load::millis(cart.report.percentile(99.0)),
                load::millis(list.report.percentile(99.0)),
            );
        }
    }

    println!();
    println!(
        "where a cart read's time goes: reen-host CPU per request at {} connections, and \
         latency alone (p50 at 1 connection)",
        cli.connections
    );
    let cost = |kind: Kind| {
        let cpu = find(kind, cli.connections).and_then(Run::cpu_per_request);
        let alone = find(kind, 1).and_then(|r| r.report.percentile(50.0));
        (cpu, alone)
    };
    for kind in [
        Kind::CartEmpty,
        Kind::CartOne,
        Kind::Cart,
        Kind::CartSellers,
        Kind::Product,
        Kind::List,
    ] {
        let (cpu, alone) = cost(kind);
        println!(
            "  {:<36}{:>10} CPU{:>11} alone",
            kind.label(items),
            load::millis(cpu),
            load::millis(alone)
        );
    }
    // (a - b) / per, in ms.
    let delta = |a: Option<Duration>, b: Option<Duration>, per: usize| match (a, b) {
        (Some(a), Some(b)) if per > 0 => {
            let d = (a.as_secs_f64() - b.as_secs_f64()) / per as f64;
            format!("{:+.2} ms", d * 1000.0)
        }
        _ => "-".into(),
    };
    let (empty, one, cart, sellers) = (
        cost(Kind::CartEmpty),
        cost(Kind::CartOne),
        cost(Kind::Cart),
        cost(Kind::CartSellers),
    );
    println!(
        "  => the chained call with {items} items (products instance, batch query, seller \
         look-ups in both components, the JSON both ways): {} CPU, {} alone",
        delta(cart.0, empty.0, 1),
        delta(cart.1, empty.1, 1)
    );
    println!(
        "     of which fixed (1 item against none): {} CPU, {} alone; each further item: {} \
         CPU, {} alone",
        delta(one.0, empty.0, 1),
        delta(one.1, empty.1, 1),
        delta(cart.0, one.0, items - 1),
        delta(cart.1, one.1, items - 1)
    );
    println!(
        "  => {items} sellers instead of 1 ({} more identity look-ups in cart and in products): \
         {} CPU, {} alone",
        items - 1,
        delta(sellers.0, cart.0, 1),
        delta(sellers.1, cart.1, 1)
    );

    println!();
    let non_ok: u64 = runs.iter().map(|r| r.report.non_ok()).sum();
    let failed: u64 = runs.iter().map(|r| r.report.transport_errors()).sum();
    let mut statuses = std::collections::BTreeMap::new();
    for run in runs {
        for (status, count) in &run.report.statuses {
            *statuses.entry(*status).or_insert(0u64) += count;
        }
    }
    println!(
        "answers other than 200 during the runs: {non_ok} {statuses:?}; requests without an \
         answer: {failed} (both must be 0)"
    );
    match cache_writes {
        Ok(0) => println!(
            "cache check: the products cache file was not written during the runs (every list \
             read was a hit)"
        ),
        Ok(n) => println!(
            "cache check: the products cache file was written {n} times during the runs \
             (expected 0: some list reads missed)"
        ),
        Err(e) => println!("cache check: not made ({e:#})"),
    }
    println!(
        "tokens: every cart run checked its shopper's access token outlives it; {} sign-ins \
         renewed one",
        bench.renewed
    );
}
