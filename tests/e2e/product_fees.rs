//! Listing fees through failures: auth failing when the fee is charged or given back, and the
//! host killed between the charge and the write it pays for. Once settled (the next seller
//! write gives back what is owed), the fees charged are exactly those of the writes applied.
//!
//! The tests make each failure happen at a known point by holding SQLite's write lock on a
//! component's database file, as another process would: a request that needs that lock waits
//! (both hosts give a connection a 5 s busy timeout) and then fails.

use crate::api::{SignedIn, TestUser, body};
use crate::db_locks::{WriteLock, wait_for};
use crate::helpers::{TestApp, spawn_app, spawn_killable_app};
use crate::products::{create, new_admin};
use serde_json::{Value, json};

fn cents(amount: &Value) -> i64 {
    (amount.as_f64().expect("a number") * 100.0).round() as i64
}

async fn balance(seller: &TestUser<'_>) -> i64 {
    cents(&seller.me().await["balance"])
}

/// A product whose fee is 4% of $100 × 10 = $40.
fn lamp() -> Value {
    json!({ "name": "Lamp", "description": "A desk lamp", "price": 100, "quantity": 10,
            "imageUrls": [] })
}
const LAMP_FEE: i64 = 4_000;

async fn product_count(app: &TestApp) -> usize {
    body(app.get("/api/v1/products").await)
        .await
        .as_array()
        .expect("a list")
        .len()
}

/// Charges recorded by auth's ledger for product creations.
const CREATE_CHARGES: &str = "SELECT count(*) FROM ledger_entries WHERE key LIKE 'fee:product-create:%' AND fingerprint <> 'void'";
/// Fee intents the products component recorded.
const INTENTS: &str = "SELECT count(*) FROM fee_intents";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_killed_between_the_charge_and_the_insert_gives_the_fee_back_after_restart() {
    let app = spawn_killable_app().await;
    let seller = new_admin(&app, "Seller").await;
    let start = balance(&seller).await;
    let state = app.app.state_dir();

    // The create records its intent, then its charge waits on auth's database...
    let auth = WriteLock::take(&state, "auth.db");
    let in_flight = tokio::spawn({
        let request = app
            .client
            .post(app.url("/api/v1/products"))
            .bearer_auth(&seller.token)
            .json(&lamp());
        async move { request.send().await }
    });
    wait_for(&state, "products.db", INTENTS, 1, "the fee intent").await;
    // ...then is charged and waits on its insert, and the host dies there.
    let products = WriteLock::take(&state, "products.db");
    auth.release();
    wait_for(&state, "auth.db", CREATE_CHARGES, 1, "the charge").await;
    app.app.kill();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the create never answered"
    );
    products
        .0
        .execute_batch(
            "UPDATE fee_intents SET created_at = created_at - 61000", // the lease has run out
        )
        .unwrap();
    products.release();
    app.app.restart().await;

    assert_eq!(
        product_count(&app).await,
        0,
        "the product was never written"
    );
    assert_eq!(
        balance(&seller).await,
        start - LAMP_FEE,
        "but its fee was charged"
    );
    // The next seller write settles it: the fee comes back, and only the new product is paid.
    create(&seller, lamp()).await;
    assert_eq!(product_count(&app).await, 1);
    assert_eq!(balance(&seller).await, start - LAMP_FEE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_auth_cannot_take_is_owed_and_given_back_by_the_next_write() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let product = create(&seller, lamp()).await;
    let path = format!("/api/v1/products/{}", product["id"].as_str().unwrap());
    let start = balance(&seller).await;
    let state = app.app.state_dir();

    // A price rise reads the product and records its intent; its charge waits on auth...
    let auth = WriteLock::take(&state, "auth.db");
    let rise = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&seller.token)
        .json(&json!({ "price": 200 }));
    let rise = tokio::spawn(async move { crate::conformance::send(rise).await.status().as_u16() });
    wait_for(&state, "products.db", INTENTS, 1, "the fee intent").await;
    // ...while a free change (a lower quantity) commits, so the rise will lose the race.
    let cut = seller.patch(&path, json!({ "quantity": 5 })).await;
    assert_eq!(cut.status(), 200);
    // The rise is charged, its update waits; auth then fails again before the refund.
    let products = WriteLock::take(&state, "products.db");
    auth.release();
    wait_for(
        &state,
        "auth.db",
        "SELECT count(*) FROM ledger_entries WHERE key LIKE 'fee:product-update:%'",
        1,
        "the charge",
    )
    .await;
    let auth = WriteLock::take(&state, "auth.db");
    products.release();

    assert_eq!(rise.await.unwrap(), 409, "the rise lost the race");
    let charged = (200 * 10 - 100 * 10) * 4; // 4% of the increase, in cents
    assert_eq!(
        balance(&seller).await,
        start - charged,
        "its refund is owed, not lost"
    );
    auth.release();
    // Any later write gives it back (this one is free: a lower price).
    assert_eq!(
        seller.patch(&path, json!({ "price": 90 })).await.status(),
        200
    );
    assert_eq!(balance(&seller).await, start);
    assert_eq!(body(app.get(&path).await).await["price"], 90);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_auth_cannot_take_fails_cleanly_and_charges_nothing() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let start = balance(&seller).await;
    let state = app.app.state_dir();

    let auth = WriteLock::take(&state, "auth.db");
    let res = seller.post("/api/v1/products", lamp()).await;
    assert_eq!(
        res.status(),
        502,
        "the fee service failed: {}",
        body(res).await
    );
    auth.release();

    assert_eq!(product_count(&app).await, 0);
    assert_eq!(balance(&seller).await, start);
    // The failed request's key is void, its intent settled by the next write; that one is paid.
    create(&seller, lamp()).await;
    assert_eq!(balance(&seller).await, start - LAMP_FEE);
    wait_for(
        &state,
        "products.db",
        "SELECT 1 - count(*) FROM fee_intents",
        1,
        "no intent left",
    )
    .await;
}
