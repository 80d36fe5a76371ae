//! A buyer's balance hold, as `checkout` takes and releases it: auth's private
//! `/internal/v1/holds/{key}` reached by service chaining through the identity probe's
//! `/e2e/chain/...` route. What the buyer sees is `GET /api/v1/auth/users/me`.

use crate::api::{SignedIn, body};
use crate::helpers::{TestApp, spawn_app_with_identity_probe};
use futures::future::join_all;
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Every new user's balance, in dollars.
const START: i64 = 4_000_000;

fn hold(user: &str, amount: f64) -> Value {
    json!({ "userId": user, "amount": amount })
}

async fn put(app: &TestApp, key: &str, body: Value) -> Response {
    let path = format!("/e2e/chain/v1/holds/{key}");
    app.send(app.request(Method::PUT, &path).json(&body)).await
}

async fn release(app: &TestApp, key: &str) -> Response {
    let path = format!("/e2e/chain/v1/holds/{key}");
    app.send(app.request(Method::DELETE, &path)).await
}

/// `(balance, amountSpent, purchasesCount)` as the buyer sees them.
async fn money(user: &impl SignedIn) -> (Value, Value, Value) {
    let me = user.me().await;
    (
        me["balance"].clone(),
        me["amountSpent"].clone(),
        me["purchasesCount"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_lowers_the_balance_shown_once_and_its_release_gives_it_back_once() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    let other = app.new_user("Other").await;

    let held = put(&app, "checkout-1", hold(&buyer.id, 1999.99)).await;

    assert_eq!(held.status(), 201);
    let receipt = body(held).await;
    assert_eq!(
        receipt,
        json!({ "key": "checkout-1", "userId": buyer.id, "amount": 1999.99,
                "status": "held", "balance": 3_998_000.01 })
    );
    let after_hold = (json!(3_998_000.01), json!(0), json!(0));
    assert_eq!(money(&buyer).await, after_hold, "nothing is spent yet");

    let again = put(&app, "checkout-1", hold(&buyer.id, 1999.99)).await;
    assert_eq!(again.status(), 200);
    assert_eq!(body(again).await, receipt);
    assert_eq!(
        money(&buyer).await,
        after_hold,
        "a repeat holds nothing more"
    );

    for reused in [hold(&buyer.id, 1999.98), hold(&other.id, 1999.99)] {
        let res = put(&app, "checkout-1", reused).await;
        assert_eq!(res.status(), 422);
        assert_eq!(
            body(res).await["message"],
            "Key checkout-1 was already used with a different request"
        );
    }
    assert_eq!(money(&buyer).await, after_hold);
    assert_eq!(other.me().await["balance"], START);

    let released = release(&app, "checkout-1").await;
    assert_eq!(released.status(), 200);
    let released = body(released).await;
    assert_eq!(
        released,
        json!({ "key": "checkout-1", "userId": buyer.id, "amount": 1999.99,
                "status": "released", "balance": START })
    );
    let untouched = (json!(START), json!(0), json!(0));
    assert_eq!(money(&buyer).await, untouched);

    let again = release(&app, "checkout-1").await;
    assert_eq!(again.status(), 200, "releasing again is harmless");
    assert_eq!(body(again).await, released);
    assert_eq!(money(&buyer).await, untouched, "nothing moved twice");

    let late = put(&app, "checkout-1", hold(&buyer.id, 1999.99)).await;
    assert_eq!(late.status(), 409);
    assert_eq!(body(late).await["message"], "Hold checkout-1 was released");
    assert_eq!(
        money(&buyer).await,
        untouched,
        "a released key holds nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_arriving_after_its_release_is_refused() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;

    // The checkout gave up on a hold whose request was still on its way.
    let unknown = release(&app, "checkout-late").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        body(unknown).await["message"],
        "Hold checkout-late not found"
    );
    assert_eq!(release(&app, "checkout-late").await.status(), 404);

    let late = put(&app, "checkout-late", hold(&buyer.id, 25.0)).await;

    assert_eq!(late.status(), 409);
    assert_eq!(
        body(late).await["message"],
        "Hold checkout-late was released"
    );
    assert_eq!(buyer.me().await["balance"], START);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_the_balance_cannot_cover_holds_nothing() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;

    let refused = put(&app, "checkout-big", hold(&buyer.id, START as f64 + 0.01)).await;

    assert_eq!(refused.status(), 400);
    assert_eq!(
        body(refused).await["message"],
        "Insufficient balance to pay $4,000,000.01. Current balance is $4,000,000.00"
    );
    assert_eq!(money(&buyer).await, (json!(START), json!(0), json!(0)));
    // Nothing was recorded under the key: the buyer may still check out with it.
    assert_eq!(
        put(&app, "checkout-big", hold(&buyer.id, START as f64))
            .await
            .status(),
        201
    );
    assert_eq!(buyer.me().await["balance"], 0);

    let nobody = put(&app, "checkout-nobody", hold("no-such-user", 1.0)).await;
    assert_eq!(nobody.status(), 404);
    assert_eq!(
        put(&app, "checkout-zero", hold(&buyer.id, 0.0))
            .await
            .status(),
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_holds_never_promise_more_than_the_balance() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    // $150,000 to $340,000: $4,900,000 in all, more than the balance.
    let amounts: Vec<f64> = (0..20).map(|n| 150_000.0 + 10_000.0 * n as f64).collect();

    let app = &app;
    let answers = join_all(amounts.iter().enumerate().map(|(n, amount)| {
        let key = format!("checkout-race-{n}");
        let body = hold(&buyer.id, *amount);
        async move { put(app, &key, body).await.status().as_u16() }
    }))
    .await;

    let granted: f64 = amounts
        .iter()
        .zip(&answers)
        .filter(|(_, status)| **status == 201)
        .map(|(amount, _)| amount)
        .sum();
    assert!(
        answers.iter().all(|s| *s == 201 || *s == 400),
        "{answers:?}"
    );
    assert!(granted > 0.0 && granted <= START as f64, "{answers:?}");
    let balance = buyer.me().await["balance"].as_f64().expect("a balance");
    assert_eq!(balance, START as f64 - granted);
    // No release ran, so the balance only fell: each refusal saw at least today's balance.
    for (amount, status) in amounts.iter().zip(&answers) {
        if *status == 400 {
            assert!(
                *amount > balance,
                "{amount} was refused with {balance} free"
            );
        }
    }
}
