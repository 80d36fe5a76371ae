//! Products-list benchmark: `GET /api/v1/products` pages of a 10,000-product catalogue through reen-host and through the real Spin CLI (the real app, the products
//! component built for `wasm32-wasip2` in release as `cargo up` builds it) next to a native
//! hyper + rusqlite server running the same SQL on the same data, cached and uncached, in one
//! run.
//!
//! ```text
//! cargo run -p benches --bin products-bench -- [--connections 64] [--duration 8] [--warmup 1]
//!     [--products 10000] [--sellers 5] [--keep] [--reuse DIR] [--only RUN]...
//! ```
//!
//! Spin is found as a user has it (`benches::spin`: `SPIN_BIN`, `spin` on `PATH`, then
//! `../shared/tools/spin/spin.xz`); without one its runs are skipped, and the report says so.
//!
//! Build with the dev profile, as `cargo run -p benches` (dependencies at opt-level 3).
//!
//! 1. Seeding: `reen-host up --build` on the repository's `spin.toml` and `runtime-config.toml`
//!    with every store moved into a temporary directory; the sellers sign up through auth; one
//!    `GET /api/v1/products` makes the component create its schema; the products are then
//!    inserted into that `products.db` (see `seed.rs`), where the schema's triggers replace
//!    the cache generation as for any write. Spin gets a copy of those files in its own layout
//!    and journal mode (`benches::spin_app`).
//! 2. Measuring, each server as its own process started for the run and killed after it,
//!    under the closed-loop load of `load.rs` (N keep-alive connections, warm-up, then the
//!    measured window):
//!    - *cached*: every request is `?page=1&limit=10`, the storefront's first page, which the
//!      component caches. reen-host and Spin serve it from the `cache` key-value store (after
//!      reading the cache generation from `products.db`); the native server from an
//!      in-process map.
//!    - *uncached*: request n asks for `?page=(n mod 500)+1&limit=20`, walking the whole
//!      catalogue, a real 20-product page and the total count each time. The component never
//!      caches a 20-product page (only the storefront's pages of 10), so every request runs the
//!      query and stores nothing. The native server queries on every request; `native-open`
//!      does too, on a new SQLite connection per request like the component.
//!
//!    The bench checks the cache behaved as intended: the component writes its cache file once
//!    per miss of a page it caches and never otherwise, so its count of the host's writes to
//!    the file must advance once in a cached run and not at all in an uncached one
//!    (`benches/src/cache.rs`), on reen-host and on Spin alike (Spin's key-value files have the
//!    same table).
//!
//!    Before measuring, Spin's and each native server's bodies for a few pages must equal
//!    reen-host's byte for byte.
//!
//! Every ratio the report prints compares like with like: a cached run with native cached, an
//! uncached run with native uncached (`report.rs`).

mod report;

use anyhow::{Context as _, bail, ensure};
use benches::app;
use benches::cache::CacheFile;
use benches::catalog_seed as seed;
use benches::client::{self, Client};
use benches::cpu;
use benches::load::{self, LoadConfig, LoadReport, Paths};
use benches::native_products as native;
use benches::servers::{self, Server};
use benches::spin_app::SpinHome;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The cached runs' request: the storefront's first page, which the component caches.
const CACHED_PAGE: &str = "/api/v1/products?page=1&limit=10";
/// The uncached runs' page size: the component caches no page of this size.
const LIMIT: u64 = 20;
const PAGE_ONE: &str = "/api/v1/products?page=1&limit=20";
const HEALTH: &str = "/api/v1/health";
const PASSWORD: &str = "correct horse battery";

#[derive(Parser)]
#[command(
    name = "products-bench",
    about = "GET /api/v1/products pages of 10,000 products: reen-host and Spin vs native"
)]
struct Cli {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Products in the catalogue.
    #[arg(long, default_value_t = 10_000)]
    products: usize,
    /// Sellers (signed up through auth) the products are spread over.
    #[arg(long, default_value_t = 5)]
    sellers: usize,
    /// Keep the state directory (databases, key-value files, logs) and print its path.
    #[arg(long)]
    keep: bool,
    /// Use this state directory (one `--keep` left) instead of seeding a new one.
    #[arg(long, value_name = "DIR")]
    reuse: Option<PathBuf>,
    /// Measure only these runs (repeatable): native-cached, reen-host-cached, spin-cached,
    /// native-uncached, native-open-uncached, reen-host-uncached, spin-uncached.
    #[arg(long, value_name = "RUN")]
    only: Vec<String>,
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
        /// A new SQLite connection for every request.
        #[arg(long)]
        open_per_request: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Contender {
    ReenHost,
    /// The real Spin CLI on a copy of the seeded stores (`benches::spin_app`).
    Spin,
    Native,
    /// The native server opening a new SQLite connection per request, as the component's
    /// `Connection::open` does through Spin's API: what that model costs without wasm.
    NativeOpen,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cached,
    Uncached,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::ReenHost => "reen-host",
            Contender::Spin => "spin",
            Contender::Native => "native",
            Contender::NativeOpen => "native-open",
        }
    }

    /// The app's components on a wasm host, as opposed to a native server.
    fn is_wasm(self) -> bool {
        matches!(self, Contender::ReenHost | Contender::Spin)
    }
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Cached => "cached",
            Mode::Uncached => "uncached",
        }
    }
}

/// One measured run.
struct Run {
    server: Contender,
    mode: Mode,
    report: LoadReport,
    /// Requests sent (warm-up and measured window, including any cut off at the end).
    sent: u64,
    /// reen-host and Spin: writes to the cache file during the run (one per miss of a cached
    /// page).
    writes: Option<u64>,
    /// CPU time that went to neither the server nor the bench during the run, in percent of
    /// the machine (other processes, other VMs).
    others: Option<f64>,
}

/// Everything the runs share.
struct Bench {
    cli: Cli,
    root: PathBuf,
    host: PathBuf,
    state: PathBuf,
    /// The Spin CLI and its version line, or why Spin is skipped.
    spin: Result<(PathBuf, String), String>,
    /// Spin's copy of the seeded stores, made once seeding is done.
    spin_home: Option<SpinHome>,
    /// The commit measured, for the report.
    commit: String,
    pages: u64,
    /// reen-host's bodies for a few pages, which Spin and the native servers must reproduce.
    reference: Vec<(String, Vec<u8>)>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Internal::NativeServer {
        listen,
        products,
        identity,
        cache,
        open_per_request,
    }) = cli.command
    {
        return native::serve(listen, products, identity, cache, open_per_request);
    }
    ensure!(
        cli.connections > 0 && cli.duration > 0,
        "--connections and --duration must be positive"
    );
    ensure!(
        (1..=seed::SELLER_NAMES.len()).contains(&cli.sellers),
        "--sellers must be 1..={}",
        seed::SELLER_NAMES.len()
    );
    ensure!(
        cli.products as u64 >= 4 * LIMIT,
        "--products must be at least {}",
        4 * LIMIT
    );
    let all = [
        (Contender::Native, Mode::Cached),
        (Contender::ReenHost, Mode::Cached),
        (Contender::Spin, Mode::Cached),
        (Contender::Native, Mode::Uncached),
        (Contender::NativeOpen, Mode::Uncached),
        (Contender::ReenHost, Mode::Uncached),
        (Contender::Spin, Mode::Uncached),
    ];
    let label = |(server, mode): &(Contender, Mode)| format!("{}-{}", server.name(), mode.name());
    for only in &cli.only {
        ensure!(
            all.iter().any(|run| label(run) == *only),
            "--only {only}: not a run (one of {})",
            all.iter().map(label).collect::<Vec<_>>().join(", ")
        );
    }
    let root = app::repo_root();
    let spin = benches::spin::locate().map(|binary| {
        let version = benches::spin::version(&binary);
        (binary, version)
    });
    match &spin {
        Ok((binary, version)) => eprintln!("spin: {} ({version})", binary.display()),
        Err(reason) => eprintln!("SKIPPING the Spin runs: {reason}"),
    }
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|run| cli.only.is_empty() || cli.only.contains(&label(run)))
        .filter(|(server, _)| *server != Contender::Spin || spin.is_ok())
        .collect();
    let host = app::build_host(&root)?;
    let scratch = tempfile::Builder::new()
        .prefix("products-bench-")
        .tempdir()?;
    let state = match &cli.reuse {
        Some(dir) => dir.clone(),
        None => scratch.path().to_owned(),
    };
    app::runtime_config(&root, &state)?;
    let pages = (cli.products as u64).div_ceil(LIMIT);
    let commit = app::commit(&root);
    let mut bench = Bench {
        cli,
        root,
        host,
        state,
        spin,
        spin_home: None,
        commit,
        pages,
        reference: Vec::new(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let runs = runtime.block_on(async {
        bench.seed().await?;
        let mut runs = Vec::new();
        for (server, mode) in chosen {
            eprintln!("measuring {} {} ...", server.name(), mode.name());
            runs.push(bench.measure(server, mode).await?);
        }
        anyhow::Ok(runs)
    })?;
    report::print(&bench, &runs);
    if bench.cli.keep && bench.cli.reuse.is_none() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    Ok(())
}

impl Bench {
    /// The store file `name` that `server` uses: Spin has its own copies.
    fn store(&self, server: Contender, name: &str) -> PathBuf {
        match (server, &self.spin_home) {
            (Contender::Spin, Some(home)) => home.store(name),
            _ => self.state.join(name),
        }
    }

    fn products_db(&self) -> PathBuf {
        self.state.join("products.db")
    }

    fn cache_file(&self, server: Contender) -> CacheFile {
        CacheFile::new(&self.store(server, "cache_kv.db"))
    }

    fn page_path(page: u64) -> String {
        format!("/api/v1/products?page={page}&limit={LIMIT}")
    }

    /// The real app on reen-host in the bench's state directory, logging to `log`.
    fn reen_host(&self, addr: SocketAddr, build: bool, log: &str) -> anyhow::Result<Server> {
        app::start(&self.host, &self.root, &self.state, addr, build, log)
    }

    /// Sellers, schema, products, and reen-host's reference bodies.
    async fn seed(&mut self) -> anyhow::Result<()> {
        let addr = servers::free_addr()?;
        eprintln!("seeding: reen-host up --build (builds every component of spin.toml) ...");
        let mut server = self.reen_host(addr, true, "seed.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        let mut c = Client::connect(addr).await?;
        if self.cli.reuse.is_some() {
            eprintln!("reusing the catalogue in {}", self.state.display());
        } else {
            self.populate(&mut c).await?;
        }
        let (status, body) = c.get(PAGE_ONE, None).await?;
        ensure!(status == 200, "GET {PAGE_ONE} answered {status}: {body}");
        let page: serde_json::Value = serde_json::from_str(&body)?;
        let listed = page["products"].as_array().map_or(0, Vec::len) as u64;
        let total = page["meta"]["total"].as_i64();
        ensure!(
            listed == LIMIT && total == Some(self.cli.products as i64),
            "page 1 lists {listed} products of total {total:?}, expected {LIMIT} of {}",
            self.cli.products
        );
        let unknown = page["products"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["admin"]["name"] == "Unknown")
            .count();
        ensure!(
            unknown == 0,
            "page 1 shows unknown sellers: the identity projection lacks them ({body})"
        );
        let pages = [1, 2, self.pages / 2, self.pages].map(Self::page_path);
        for path in [CACHED_PAGE.to_owned()].into_iter().chain(pages) {
            let (status, body) = c.get(&path, None).await?;
            ensure!(status == 200, "GET {path} answered {status}");
            self.reference.push((path, body.into_bytes()));
        }
        drop(server);
        if self.spin.is_ok() {
            let home = self.state.join("spin");
            self.spin_home = Some(SpinHome::prepare(&self.root, &self.state, &home).await?);
        }
        Ok(())
    }

    /// Signs the sellers up, lets the component create its schema, inserts the products.
    async fn populate(&self, c: &mut Client) -> anyhow::Result<()> {
        let mut sellers = Vec::new();
        for (i, name) in seed::SELLER_NAMES[..self.cli.sellers].iter().enumerate() {
            let email = format!("seller{i}@bench.example");
            sellers.push(client::sign_up(c, name, &email, PASSWORD).await?.id);
        }
        // The component creates its schema on its first request.
        let (status, answer) = c.get("/api/v1/products", None).await?;
        ensure!(
            status == 200,
            "GET /api/v1/products answered {status}: {answer}"
        );
        let now = timestamp::Timestamp::now().millis();
        // The rows go in behind the component's back; the triggers of its schema still
        // replace the cache generation, as for any write.
        let version = seed::insert(&self.products_db(), &sellers, self.cli.products, now)?;
        eprintln!(
            "seeded {} products over {} sellers (products schema version {version})",
            self.cli.products,
            sellers.len()
        );

        Ok(())
    }

    fn native_command(
        &self,
        addr: SocketAddr,
        cache: bool,
        open_per_request: bool,
    ) -> anyhow::Result<Command> {
        let me = std::env::current_exe().context("locating the products-bench binary")?;
        let mut command = Command::new(me);
        command
            .arg("native-server")
            .args(["--listen", &addr.to_string()])
            .arg("--products")
            .arg(self.products_db())
            .arg("--identity")
            .arg(self.state.join("identity_kv.db"));
        if cache {
            command.arg("--cache");
        }
        if open_per_request {
            command.arg("--open-per-request");
        }
        Ok(command)
    }

    /// The request paths of a run, counting what was sent.
    fn paths(&self, mode: Mode, sent: Arc<AtomicU64>) -> Paths {
        let pages = self.pages;
        Arc::new(move || {
            let n = sent.fetch_add(1, Ordering::Relaxed);
            match mode {
                Mode::Cached => CACHED_PAGE.to_owned(),
                Mode::Uncached => Self::page_path(n % pages + 1),
            }
        })
    }

    async fn measure(&self, server: Contender, mode: Mode) -> anyhow::Result<Run> {
        let addr = servers::free_addr()?;
        let log = format!("{}-{}.log", server.name(), mode.name());
        let mut process = match server {
            Contender::ReenHost => self.reen_host(addr, false, &log)?,
            Contender::Spin => self.spin(addr, &log)?,
            Contender::Native | Contender::NativeOpen => Server::spawn(
                self.native_command(addr, mode == Mode::Cached, server == Contender::NativeOpen)?,
                &self.state.join(&log),
            )?,
        };
        let ready = match server {
            Contender::ReenHost | Contender::Spin => HEALTH,
            Contender::Native | Contender::NativeOpen => PAGE_ONE,
        };
        process
            .wait_ready(addr, ready, Duration::from_secs(300))
            .await?;
        if server != Contender::ReenHost {
            self.check_same_bodies(server, addr).await?;
        }
        let cache = self.cache_file(server);
        if server.is_wasm() {
            // Entries stored by earlier runs must not serve this one.
            benches::cache::invalidate(&self.store(server, "products.db"))?;
        }
        let writes_before = cache.writes()?;
        let cpu_before = cpu::sample(process.id());
        let sent = Arc::new(AtomicU64::new(0));
        let config = LoadConfig {
            addr,
            connections: self.cli.connections,
            warmup: Duration::from_secs(self.cli.warmup),
            duration: Duration::from_secs(self.cli.duration),
            requests: load::gets(self.paths(mode, sent.clone()), load::Headers::default()),
        };
        let report = load::run(config).await;
        let others = cpu::others_percent(cpu_before, cpu::sample(process.id()));
        // Requests cut off at the end still run to completion in the server: wait for the
        // cache file to settle before reading its counter.
        let mut writes_after = cache.writes()?;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = cache.writes()?;
            if now == writes_after {
                break;
            }
            writes_after = now;
        }
        drop(process);
        Ok(Run {
            server,
            mode,
            report,
            sent: sent.load(Ordering::Relaxed),
            writes: server
                .is_wasm()
                .then(|| u64::from(writes_after.wrapping_sub(writes_before))),
            others,
        })
    }

    /// The real app on Spin, on its copy of the seeded stores.
    fn spin(&self, addr: SocketAddr, log: &str) -> anyhow::Result<Server> {
        let (binary, _) = self.spin.as_ref().map_err(|why| anyhow::anyhow!("{why}"))?;
        let home = self
            .spin_home
            .as_ref()
            .context("Spin's stores were not prepared")?;
        home.start(binary, &self.root, addr, log)
    }

    /// Spin and the native servers must answer what reen-host answered, byte for byte.
    async fn check_same_bodies(&self, server: Contender, addr: SocketAddr) -> anyhow::Result<()> {
        let name = server.name();
        let mut c = Client::connect(addr).await?;
        for (path, expected) in &self.reference {
            let (status, body) = c.get(path, None).await?;
            ensure!(status == 200, "{name} GET {path} answered {status}");
            if body.as_bytes() != expected.as_slice() {
                let at = body
                    .bytes()
                    .zip(expected.iter())
                    .position(|(a, b)| a != *b)
                    .unwrap_or(body.len().min(expected.len()));
                let around = |s: &[u8]| {
                    String::from_utf8_lossy(&s[at.saturating_sub(60)..(at + 60).min(s.len())])
                        .into_owned()
                };
                bail!(
                    "{name} GET {path} differs from reen-host at byte {at}:\n  {name}: \
                     ...{}...\n  reen-host: ...{}...",
                    around(body.as_bytes()),
                    around(expected)
                );
            }
        }
        Ok(())
    }
}
