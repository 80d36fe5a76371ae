//! Order-history benchmark: `GET /api/v1/orders` of a buyer with `--orders` orders of
//! `--lines` lines each — each read verifies the token, reads the orders and their lines and
//! makes one chained call to the products component's batch lookup for the page's products —
//! next to the products list (`GET /api/v1/products?page=1&limit=10`, a cache hit, as the
//! storefront's first page is normally served), measured in the same run on the same app.
//!
//! ```text
//! cargo run -p benches --bin orders-bench -- [--connections 16] [--duration 8] [--warmup 1]
//!     [--orders 20] [--lines 3] [--keep]
//! ```
//!
//! 1. `reen-host up --build` on the repository's `spin.toml` plus the `orders-probe` test
//!    fixture (`tests/fixtures/orders-probe`, composed with `orders.wasm` as the order saga will
//!    be), every store in a temporary directory, `RUST_LOG=warn`.
//! 2. Seeding: a seller becomes an ADMIN and bulk-creates `orders × lines` products through the
//!    API; a buyer signs up; the orders are placed through the `reen:orders/orders` export
//!    (`POST /e2e/orders/place`), the only way orders are made.
//! 3. Checking, before and after the runs: the history has every order, newest first, every
//!    line with its live product.
//! 4. Measuring the history and the list at `--connections` (closed loop, keep-alive, warm-up
//!    then the measured window). Any answer other than 200 fails the bench after the report.

use anyhow::{Context as _, ensure};
use benches::app;
use benches::client::{self, Client};
use benches::load::{self, LoadConfig, LoadReport};
use benches::servers;
use clap::Parser;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const ORDERS: &str = "/api/v1/orders";
const LIST: &str = "/api/v1/products?page=1&limit=10";
const HEALTH: &str = "/api/v1/health";

#[derive(Parser)]
#[command(
    name = "orders-bench",
    about = "GET /api/v1/orders (20 orders of 3 lines) next to the products list"
)]
struct Cli {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Measured seconds per run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up seconds per run, not measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Orders of the buyer.
    #[arg(long, default_value_t = 20)]
    orders: usize,
    /// Lines per order (each a different product).
    #[arg(long, default_value_t = 3)]
    lines: usize,
    /// Keep the state directory (databases, key-value files, app.log) and print its path.
    #[arg(long)]
    keep: bool,
}

/// The repository's `spin.toml`, sources made absolute, plus the orders probe, written under
/// the target directory (inside the workspace, so the components' build commands still find
/// it; the probe is built first).
fn manifest_with_probe(root: &Path) -> anyhow::Result<PathBuf> {
    app::cargo(
        root,
        &[
            "build",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            "orders-probe",
        ],
    )?;
    let target = app::target_dir(root);
    let release = target.join("wasm32-wasip2/release");
    let project = std::fs::read_to_string(root.join("spin.toml"))?;
    let project = project.replace(
        "source = \"target/",
        &format!("source = \"{}/", target.display()),
    );
    let probe = format!(
        r#"
[[trigger.http]]
route = "/e2e/orders/..."
component = "orders-probe"

[component.orders-probe]
source = "{release}/orders_probe.wasm"
sqlite_databases = ["orders"]
dependencies_inherit_configuration = true
[component.orders-probe.dependencies]
"reen:orders/orders" = {{ path = "{release}/orders.wasm" }}
"#,
        release = release.display()
    );
    let dir = target.join("orders-bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("spin.toml");
    std::fs::write(&path, format!("{project}{probe}"))?;
    Ok(path)
}

/// The buyer and what the history must show.
struct Seeded {
    token: String,
    /// Order ids, newest first.
    orders: Vec<String>,
}

/// A seller with `orders × lines` products, a buyer, and the buyer's orders placed through
/// the WIT export, oldest first.
async fn seed(c: &mut Client, orders: usize, lines: usize) -> anyhow::Result<Seeded> {
    let seller =
        client::sign_up(c, "Bench Seller", "seller@orders-bench.example", PASSWORD).await?;
    let token = Some(seller.token.as_str());
    c.post_expect(
        "/api/v1/auth/update-user-role",
        &json!({ "role": "ADMIN" }),
        token,
        200,
    )
    .await?;
    let products: Vec<Value> = (0..orders * lines)
        .map(|i| {
            json!({ "name": format!("Bench item {i}"), "description": "Ordered in the bench.",
                    "price": 10.0 + i as f64 + 0.5, "quantity": 100,
                    "imageUrls": [format!("https://cdn.example.com/bench/{i}.png")] })
        })
        .collect();
    let mut created = Vec::new();
    for chunk in products.chunks(100) {
        let answer = c
            .post_expect(
                "/api/v1/products/bulk",
                &json!({ "products": chunk }),
                token,
                201,
            )
            .await?;
        created.extend(
            answer
                .as_array()
                .context("bulk create answers an array")?
                .clone(),
        );
    }
    let buyer = client::sign_up(c, "Bench Buyer", "buyer@orders-bench.example", PASSWORD).await?;
    let mut placed = Vec::new();
    for (n, bought) in created.chunks(lines).enumerate() {
        let lines: Vec<Value> = bought
            .iter()
            .map(|p| {
                let cents = (p["price"].as_f64().unwrap_or(0.0) * 100.0).round() as u64;
                json!({ "productId": p["id"], "sellerId": seller.id, "name": p["name"],
                        "imageUrls": p["imageUrls"], "quantity": 2, "unitPriceCents": cents })
            })
            .collect();
        let total: u64 = lines
            .iter()
            .map(|l| 2 * l["unitPriceCents"].as_u64().unwrap_or(0))
            .sum();
        let order = json!({ "checkoutId": format!("bench-checkout-{n}"),
            "checkoutSessionId": format!("cs_bench_{n}"), "buyerId": buyer.id,
            "totalCents": total, "lines": lines });
        let answer = c
            .post_expect("/e2e/orders/place", &order, None, 200)
            .await?;
        let id = answer["ok"]["id"]
            .as_str()
            .with_context(|| format!("placing: {answer}"))?;
        placed.push(id.to_owned());
    }
    placed.reverse();
    Ok(Seeded {
        token: buyer.token,
        orders: placed,
    })
}

/// The history shows every order newest first, each line with its live product.
async fn check(c: &mut Client, seeded: &Seeded, lines: usize) -> anyhow::Result<()> {
    let history = c.get_ok(ORDERS, Some(&seeded.token)).await?;
    let history = history.as_array().context("the history is an array")?;
    let ids: Vec<&str> = history.iter().filter_map(|o| o["id"].as_str()).collect();
    ensure!(
        ids == seeded.orders,
        "the history lists {ids:?}, expected {:?}",
        seeded.orders
    );
    for order in history {
        let items = order["orderItems"].as_array().context("orderItems")?;
        ensure!(items.len() == lines, "an order shows {} lines", items.len());
        for item in items {
            ensure!(
                item["product"]["id"] == item["productId"]
                    && item["product"]["adminId"].is_string(),
                "a line without its live product: {item}"
            );
        }
    }
    let page = c.get_ok(LIST, None).await?;
    ensure!(
        page["products"].as_array().is_some_and(|p| p.len() == 10),
        "a full first page"
    );
    Ok(())
}

async fn measure(
    addr: std::net::SocketAddr,
    cli: &Cli,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<LoadReport> {
    eprintln!("measuring {path} at {} connections ...", cli.connections);
    let headers = match token {
        Some(token) => load::bearer(token)?,
        None => load::Headers::default(),
    };
    let report = load::run(LoadConfig {
        addr,
        connections: cli.connections,
        warmup: Duration::from_secs(cli.warmup),
        duration: Duration::from_secs(cli.duration),
        requests: load::gets(load::fixed(path), headers),
    })
    .await;
    // Requests cut off at the end still finish in the server: let them, before the next run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(report)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    ensure!(
        cli.connections > 0 && cli.duration > 0,
        "--connections and --duration must be positive"
    );
    ensure!(
        cli.orders > 0 && (1..=100).contains(&cli.lines),
        "--orders > 0, --lines 1..=100"
    );
    // 15-minute access tokens: the runs must end well within one.
    ensure!(
        2 * (cli.warmup + cli.duration) < 600,
        "the runs must last less than 10 minutes"
    );
    let root = app::repo_root();
    let host = app::build_host(&root)?;
    let scratch = tempfile::Builder::new().prefix("orders-bench-").tempdir()?;
    let state = scratch.path();
    app::runtime_config(&root, state)?;
    let manifest = manifest_with_probe(&root)?;
    let addr = servers::free_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        eprintln!("reen-host up --build (builds every component of spin.toml) ...");
        let command = app::command_for(&host, &manifest, &root, state, addr, true);
        let mut server = app::start_command(command, state, "app.log")?;
        server
            .wait_ready(addr, HEALTH, Duration::from_secs(900))
            .await?;
        let mut c = Client::connect(addr).await?;
        eprintln!("seeding: {} orders of {} lines ...", cli.orders, cli.lines);
        let seeded = seed(&mut c, cli.orders, cli.lines).await?;
        check(&mut c, &seeded, cli.lines)
            .await
            .context("checking before the runs")?;
        let orders = measure(addr, &cli, ORDERS, Some(&seeded.token)).await?;
        let list = measure(addr, &cli, LIST, None).await?;
        check(&mut c, &seeded, cli.lines)
            .await
            .context("checking after the runs")?;
        anyhow::Ok((orders, list))
    });
    if cli.keep || outcome.is_err() {
        println!("\nstate kept in {}", scratch.keep().display());
    }
    let (orders, list) = outcome?;
    report(&cli, &root, &orders, &list);
    let failed = orders.non_ok() + list.non_ok();
    ensure!(
        failed == 0,
        "{failed} requests did not answer 200 during the runs"
    );
    Ok(())
}

fn report(cli: &Cli, root: &Path, orders: &LoadReport, list: &LoadReport) {
    println!(
        "\norders-bench — host: reen-host (dev build), storage: local SQLite files and SQLite \
         key-value, commit {}, {} connections, {} s each",
        app::commit(root),
        cli.connections,
        cli.duration
    );
    println!("| route | req/s | p50 | p99 | non-200 |");
    println!("|---|---|---|---|---|");
    let row = |label: String, r: &LoadReport| {
        println!(
            "| {label} | {:.0} | {} | {} | {} |",
            r.requests_per_sec(),
            load::millis(r.percentile(50.0)),
            load::millis(r.percentile(99.0)),
            r.non_ok()
        );
    };
    row(
        format!(
            "GET /api/v1/orders ({} orders × {} lines)",
            cli.orders, cli.lines
        ),
        orders,
    );
    row(
        "GET /api/v1/products?page=1&limit=10 (cache hit)".into(),
        list,
    );
    println!(
        "orders history at {:.0}% of the products list's rate",
        100.0 * orders.requests_per_sec() / list.requests_per_sec().max(1.0)
    );
}
