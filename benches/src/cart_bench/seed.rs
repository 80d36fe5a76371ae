//! The cart benchmark's data, all through the real API as the storefront and the tests make it
//! (`tests/e2e/cart.rs`): sellers sign up and become ADMINs (`update-user-role`, paid from the
//! starting balance), create their products with `POST /api/v1/products/bulk` (4% fee), and
//! shoppers sign up and fill their carts with `POST /api/v1/cart-items`.
//!
//! - the main seller lists `products` products, created last so the newest page of the
//!   catalogue (the measured products list) shows only theirs;
//! - `items - 1` other sellers list one product each, created first;
//! - `shopper`'s cart holds `items` of the main seller's products (the headline figure: one
//!   seller, as in a cart filled from one shop);
//! - `mixed`'s cart holds one product of the main seller and one of every other seller, so a
//!   read meets `items` different sellers (identity look-ups grow with distinct sellers);
//! - `single`'s cart holds one product of the main seller: a chained call for one item;
//! - `empty` has an empty cart: its read makes no chained call at all.

use crate::PASSWORD;
use anyhow::{Context as _, ensure};
use benches::client::{self, Account, Client};
use serde_json::{Value, json};

/// `POST /api/v1/products/bulk` takes 1–100 products.
const BULK_MAX: usize = 100;

/// A signed-up shopper and the products of their cart (ids, in the order added).
pub struct Shopper {
    pub account: Account,
    pub cart: Vec<String>,
}

/// What the bench created.
pub struct Seeded {
    pub shopper: Shopper,
    pub mixed: Shopper,
    pub single: Shopper,
    pub empty: Shopper,
    /// Products in the catalogue (every seller's).
    pub total_products: usize,
}

/// The `i`-th product of a seller: valid for the products component, 100 in stock so the
/// carts' quantities (1–3) always fit.
fn product(seller: usize, i: usize) -> Value {
    json!({
        "name": format!("Bench item {seller}-{i}"),
        "description": format!("Product {i} of bench seller {seller}: sturdy, useful, and measured."),
        "price": 5.0 + (i % 40) as f64 + 0.99,
        "quantity": 100,
        "imageUrls": [format!("https://cdn.example.com/bench/{seller}/{i}.png")],
    })
}

/// Signs a seller up, makes them an ADMIN and creates `count` products; their ids.
async fn seller(c: &mut Client, n: usize, count: usize) -> anyhow::Result<Vec<String>> {
    let email = format!("seller{n}@cart-bench.example");
    let account = client::sign_up(c, &format!("Bench Seller {n}"), &email, PASSWORD).await?;
    let token = Some(account.token.as_str());
    c.post_expect(
        "/api/v1/auth/update-user-role",
        &json!({ "role": "ADMIN" }),
        token,
        200,
    )
    .await
    .context("upgrading a seller to ADMIN")?;
    let mut ids = Vec::with_capacity(count);
    let all: Vec<Value> = (0..count).map(|i| product(n, i)).collect();
    for chunk in all.chunks(BULK_MAX) {
        let created = c
            .post_expect(
                "/api/v1/products/bulk",
                &json!({ "products": chunk }),
                token,
                201,
            )
            .await?;
        let created = created.as_array().context("bulk create answers an array")?;
        ensure!(
            created.len() == chunk.len(),
            "bulk create answered {created:?}"
        );
        for p in created {
            ids.push(p["id"].as_str().context("a product id")?.to_owned());
        }
    }
    Ok(ids)
}

/// Signs a shopper up and adds `products` to their cart (quantities 1–3).
async fn shopper(c: &mut Client, name: &str, products: &[String]) -> anyhow::Result<Shopper> {
    let email = format!("{}@cart-bench.example", name.to_lowercase());
    let account = client::sign_up(c, name, &email, PASSWORD).await?;
    for (i, id) in products.iter().enumerate() {
        let body = json!({ "productId": id, "quantity": 1 + i % 3 });
        c.post_expect("/api/v1/cart-items", &body, Some(&account.token), 201)
            .await
            .with_context(|| format!("{name} adding product {id}"))?;
    }
    Ok(Shopper {
        account,
        cart: products.to_vec(),
    })
}

/// Sellers, products, shoppers and carts (see the module documentation).
pub async fn seed(c: &mut Client, products: usize, items: usize) -> anyhow::Result<Seeded> {
    let mut others = Vec::new();
    for n in 2..=items {
        others.extend(seller(c, n, 1).await?);
    }
    let main = seller(c, 1, products).await?;
    // Spread over the main seller's catalogue.
    let step = products / items;
    let cart: Vec<String> = (0..items).map(|i| main[i * step].clone()).collect();
    let mut mixed_cart = vec![main[products - 1].clone()];
    mixed_cart.extend(others.iter().cloned());
    Ok(Seeded {
        shopper: shopper(c, "Shopper", &cart).await?,
        mixed: shopper(c, "Mixed", &mixed_cart).await?,
        single: shopper(c, "Single", &cart[..1]).await?,
        empty: shopper(c, "Empty", &[]).await?,
        total_products: products + others.len(),
    })
}
