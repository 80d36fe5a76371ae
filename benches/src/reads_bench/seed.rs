//! The reads bench's data: a catalogue of `--products` products over five sellers (signed up
//! through auth, products written into the component's own table as the products bench does,
//! `benches::catalog_seed`), a shopper whose cart holds `--cart-items` products, and a buyer
//! with `--orders` orders of three lines, each made the only way orders are made: a checkout,
//! Stripe's signed webhook paying it (the fake Stripe's session), and the saga completing it.

use anyhow::{Context as _, ensure};
use benches::catalog_seed;
use benches::checkout_seed::{self, PASSWORD};
use benches::client::{self, Client};
use benches::fake_stripe::FakeStripe;
use benches::stripe_webhook;
use rusqlite::Connection;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

pub const SHOPPER: &str = "shopper@reads-bench.example";
pub const BUYER: &str = "buyer@reads-bench.example";

/// Sellers, products, the shopper's cart and the buyer's orders.
pub async fn seed(
    c: &mut Client,
    products_db: &Path,
    stripe: &FakeStripe,
    webhook_secret: &str,
    sizes: (usize, usize, usize),
) -> anyhow::Result<()> {
    let (products, cart_items, orders) = sizes;
    let mut sellers = Vec::new();
    for (i, name) in catalog_seed::SELLER_NAMES.iter().enumerate() {
        let email = format!("seller{i}@reads-bench.example");
        sellers.push(client::sign_up(c, name, &email, PASSWORD).await?.id);
    }
    // The component creates its schema on its first request.
    c.get_ok("/api/v1/products", None).await?;
    let now = timestamp::Timestamp::now().millis();
    catalog_seed::insert(products_db, &sellers, products, now)?;
    let in_stock = in_stock(products_db, cart_items.max(3), orders as i64)?;

    let shopper = client::sign_up(c, "Reads Shopper", SHOPPER, PASSWORD).await?;
    for id in &in_stock[..cart_items] {
        add(c, &shopper.token, id).await?;
    }

    let buyer = client::sign_up(c, "Reads Buyer", BUYER, PASSWORD).await?;
    for i in 0..orders {
        for id in &in_stock[..3] {
            add(c, &buyer.token, id).await?;
        }
        let session_id = checkout_seed::checkout(c, &buyer.token).await?;
        let session = stripe
            .session(&session_id)
            .context("a session the fake never made")?;
        let paid = stripe_webhook::pays(webhook_secret, &session);
        let status = c.send_outgoing(&paid).await?;
        ensure!(status == 200, "the webhook answered {status}");
        wait_completed(c, &buyer.token, i + 1).await?;
    }
    Ok(())
}

/// The cheapest `count` products with at least `units` in stock (the orders take one each).
fn in_stock(products_db: &Path, count: usize, units: i64) -> anyhow::Result<Vec<String>> {
    let db = Connection::open(products_db)?;
    let mut query =
        db.prepare("SELECT id FROM products WHERE quantity > ? ORDER BY price, id LIMIT ?")?;
    let ids = query
        .query_map((units, count as i64), |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    ensure!(ids.len() == count, "only {} products in stock", ids.len());
    Ok(ids)
}

async fn add(c: &mut Client, token: &str, id: &str) -> anyhow::Result<()> {
    let body = json!({ "productId": id, "quantity": 1 });
    c.post_expect("/api/v1/cart-items", &body, Some(token), 201)
        .await
        .with_context(|| format!("adding {id} to a cart"))?;
    Ok(())
}

/// Until the buyer's history shows `count` orders, all COMPLETED.
async fn wait_completed(c: &mut Client, token: &str, count: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let orders: Value = c.get_ok("/api/v1/orders", Some(token)).await?;
        let orders = orders.as_array().cloned().unwrap_or_default();
        let completed = orders.iter().filter(|o| o["status"] == "COMPLETED").count();
        if completed == count {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "order {count} not COMPLETED after 30 s: {orders:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
