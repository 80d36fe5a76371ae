//! The checkout and saga benchmarks' data, all through the real API as the storefront makes it: a
//! seller signs up, becomes an ADMIN and lists twice [`PRODUCTS`] products with [`STOCK`] units
//! each; buyers sign up and put one unit of [`PRODUCTS`] of them in their cart. One buyer per
//! connection for the checkout runs; and a pool of buyers who each open a checkout (`POST
//! /api/v1/checkout`, which holds their stock and balance and creates the session at the fake
//! Stripe) for the webhook runs that pay real open checkouts — one buyer each, since a buyer's
//! second checkout would replace the first.
//!
//! The pool's carts hold the other [`PRODUCTS`] products: a product's available stock is
//! computed over its active holds, so thousands of open pool checkouts on the checkout runs'
//! products would make every one of those checkouts slower (a flash sale, not the case
//! measured).

use crate::client::{self, Client};
use anyhow::{Context as _, ensure};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every seeded account's password.
pub const PASSWORD: &str = "correct horse battery";

/// Lines of every cart: the products of the one seller.
pub const PRODUCTS: usize = 3;

/// Units of each product: far more than the runs hold at once (each open checkout holds one
/// of each of its products; a replaced one gives its units back), and little enough that the
/// seller's listing fees (4% of price × units) fit in their starting balance.
pub const STOCK: i64 = 500_000;

/// Sign-ups (an Argon2id hash each) and checkouts made at once while seeding.
const WORKERS: usize = 4;

pub struct Seeded {
    /// Emails of the buyers of the checkout runs, one per connection, each with a 3-line
    /// cart (they sign in again before each host's runs).
    pub buyers: Vec<String>,
    /// Stripe session ids of open checkouts, one per pool buyer, in no particular order.
    pub open_sessions: Vec<String>,
}

/// The seller and the products (ids): the checkout runs' first, then the pool's.
async fn seller(c: &mut Client) -> anyhow::Result<Vec<String>> {
    let seller =
        client::sign_up(c, "Bench Seller", "seller@checkout-bench.example", PASSWORD).await?;
    let token = Some(seller.token.as_str());
    c.post_expect(
        "/api/v1/auth/update-user-role",
        &json!({ "role": "ADMIN" }),
        token,
        200,
    )
    .await
    .context("upgrading the seller to ADMIN")?;
    let products: Vec<Value> = (0..2 * PRODUCTS)
        .map(|i| {
            json!({ "name": format!("Checkout bench item {i}"),
                    "description": "Bought again and again by the checkout benchmark.",
                    "price": 9.99 + (i % PRODUCTS) as f64 * 5.0, "quantity": STOCK,
                    "imageUrls": [format!("https://cdn.example.com/checkout-bench/{i}.png")] })
        })
        .collect();
    let created = c
        .post_expect(
            "/api/v1/products/bulk",
            &json!({ "products": products }),
            token,
            201,
        )
        .await?;
    let created = created.as_array().context("bulk create answers an array")?;
    ensure!(
        created.len() == 2 * PRODUCTS,
        "bulk create answered {created:?}"
    );
    created
        .iter()
        .map(|p| Ok(p["id"].as_str().context("a product id")?.to_owned()))
        .collect()
}

/// Signs `email` up and fills the cart with one unit of each product; the access token.
async fn buyer(c: &mut Client, email: &str, products: &[String]) -> anyhow::Result<String> {
    let account = client::sign_up(c, "Bench Buyer", email, PASSWORD).await?;
    for id in products {
        let body = json!({ "productId": id, "quantity": 1 });
        c.post_expect("/api/v1/cart-items", &body, Some(&account.token), 201)
            .await
            .with_context(|| format!("{email} adding product {id}"))?;
    }
    Ok(account.token)
}

/// `POST /api/v1/checkout` (201): the Stripe session id.
pub async fn checkout(c: &mut Client, token: &str) -> anyhow::Result<String> {
    let (status, body) = c.post_empty("/api/v1/checkout", Some(token)).await?;
    ensure!(
        status == 201,
        "POST /api/v1/checkout answered {status}: {body}"
    );
    let answer: Value = serde_json::from_str(&body)?;
    ensure!(
        answer["stripeSessionUrl"].is_string(),
        "a checkout without stripeSessionUrl: {answer}"
    );
    answer["sessionId"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("a checkout without sessionId: {answer}"))
}

/// Runs `job(client, i)` for every `i` in `0..count`, on [`WORKERS`] connections; the results
/// in `i` order.
async fn in_parallel<T, F, Fut>(
    addr: SocketAddr,
    count: usize,
    what: &'static str,
    job: F,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<(Client, T)>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut workers = Vec::new();
    for _ in 0..WORKERS.min(count) {
        let (next, job) = (next.clone(), job.clone());
        workers.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await?;
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (back, value) = job(c, i).await?;
                c = back;
                done.push((i, value));
                if (i + 1) % 500 == 0 {
                    eprintln!("  {what}: {} of {count}", i + 1);
                }
            }
            anyhow::Ok(done)
        }));
    }
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        all.extend(worker.await.context("seeding worker")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}

/// The seller, `buyers` buyers with full carts, and `pool` buyers with an open checkout each.
pub async fn seed(addr: SocketAddr, buyers: usize, pool: usize) -> anyhow::Result<Seeded> {
    let mut c = Client::connect(addr).await?;
    let products = seller(&mut c).await?;
    let (bought, pooled) = products.split_at(PRODUCTS);
    let (bought, pooled) = (Arc::new(bought.to_vec()), Arc::new(pooled.to_vec()));
    eprintln!("seeding: {buyers} buyers with a {PRODUCTS}-line cart ...");
    let ids = bought;
    let buyers = in_parallel(addr, buyers, "buyers", move |mut c, i| {
        let ids = ids.clone();
        async move {
            let email = format!("buyer{i}@checkout-bench.example");
            buyer(&mut c, &email, &ids).await?;
            Ok((c, email))
        }
    })
    .await?;
    eprintln!("seeding: {pool} buyers with an open checkout each (the paid-webhook pool) ...");
    let ids = pooled;
    let open_sessions = in_parallel(addr, pool, "open checkouts", move |mut c, i| {
        let ids = ids.clone();
        async move {
            let email = format!("pool{i}@checkout-bench.example");
            let token = buyer(&mut c, &email, &ids).await?;
            let session = checkout(&mut c, &token).await?;
            Ok((c, session))
        }
    })
    .await?;
    Ok(Seeded {
        buyers,
        open_sessions,
    })
}
