//! `Idempotency-Key` storage stays bounded and never locks a key for a day: a claim whose
//! request died without answering (a trap, a killed host) frees its key after a minute, and
//! every claim purges every caller's answers older than 24 hours. The dead and the old claims
//! are written into the cart's database directly, as a crash would have left them.

use crate::api::{SignedIn, body};
use crate::helpers::{TestApp, spawn_app};
use crate::products::{create, new_admin};
use reqwest::Method;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

const CART: &str = "/api/v1/cart-items";

fn now_millis() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

/// Leaves a claim of `key` by `caller` with no answer, made `age_millis` ago.
fn leave_claim(app: &TestApp, caller: &str, key: &str, age_millis: i64) {
    let db = rusqlite::Connection::open(app.app.state_dir().join("cart.db")).expect("cart.db");
    db.busy_timeout(std::time::Duration::from_secs(5))
        .expect("timeout");
    db.execute(
        "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) VALUES (?, ?, 'x', ?)",
        rusqlite::params![caller, key, now_millis() - age_millis],
    )
    .expect("a claim is written");
}

fn claims_of(app: &TestApp, caller: &str) -> i64 {
    let db = rusqlite::Connection::open(app.app.state_dir().join("cart.db")).expect("cart.db");
    db.query_row(
        "SELECT COUNT(*) FROM idempotency_keys WHERE caller = ?",
        [caller],
        |row| row.get(0),
    )
    .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_request_died_is_free_after_a_minute_and_old_answers_are_purged() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let lamp = create(
        &seller,
        json!({ "name": "Lamp", "description": "A lamp", "price": 5, "quantity": 9 }),
    )
    .await;
    let buyer = app.new_user("Buyer").await;
    let keyed = |key: &str| {
        app.request(Method::POST, CART)
            .bearer_auth(&buyer.token)
            .header("idempotency-key", key)
            .json(&json!({ "productId": lamp["id"], "quantity": 2 }))
    };
    // A first keyed request creates the key table; its answer is kept.
    let res = app
        .send(
            app.request(Method::DELETE, CART)
                .bearer_auth(&buyer.token)
                .header("idempotency-key", "warm"),
        )
        .await;
    assert_eq!(res.status(), 200);
    leave_claim(&app, &buyer.id, "died", 61_000);
    leave_claim(&app, &buyer.id, "running", 5_000);
    leave_claim(&app, "someone-else", "yesterday", 25 * 60 * 60 * 1000);

    // The claim still inside its minute holds its key (for another request, hence 422)...
    assert_eq!(app.send(keyed("running")).await.status(), 422);
    assert_eq!(buyer.get_json(CART).await, json!([]));
    // ...the one past it does not: the request runs, once, and is replayed after.
    let res = app.send(keyed("died")).await;
    assert_eq!(res.status(), 201);
    let added = body(res).await;
    let res = app.send(keyed("died")).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(body(res).await, added);
    assert_eq!(buyer.get_json(CART).await, json!([added]));

    // Another caller's day-old answer is gone; the buyer's keys are warm, running and died.
    assert_eq!(claims_of(&app, "someone-else"), 0);
    assert_eq!(claims_of(&app, &buyer.id), 3);
}
