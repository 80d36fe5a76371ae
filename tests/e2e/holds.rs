//! A buyer's balance hold, as `checkout` takes and releases it: auth's private
//! `/internal/v1/holds/{key}` reached by service chaining through the identity probe's
//! `/e2e/chain/...` route; and as the order saga captures or gives it back: the identity
//! export's `capture-hold` and `release-hold` through the probe's `/e2e/identity/...` routes.
//! What the buyer sees is `GET /api/v1/auth/users/me`.

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

/// The saga's `capture-hold(key)`.
async fn capture(app: &TestApp, key: &str) -> Value {
    let res = app
        .post_json(&format!("/e2e/identity/capture-hold/{key}"), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    body(res).await
}

/// The saga's `release-hold(key)`.
async fn give_back(app: &TestApp, key: &str) -> Value {
    let res = app
        .post_json(&format!("/e2e/identity/release-hold/{key}"), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    body(res).await
}

fn refused(error: &str) -> Value {
    json!({ "error": error })
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capturing_a_hold_twice_counts_the_purchase_once() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    assert_eq!(
        put(&app, "checkout-1", hold(&buyer.id, 19.99))
            .await
            .status(),
        201
    );

    let first = capture(&app, "checkout-1").await;
    let second = capture(&app, "checkout-1").await;

    let captured =
        json!({ "ok": { "key": "checkout-1", "userId": buyer.id, "amountCents": 1999 } });
    assert_eq!(first, captured);
    assert_eq!(second, captured, "the same hold again");
    assert_eq!(
        money(&buyer).await,
        (json!(3_999_980.01), json!(19.99), json!(1)),
        "spent once, and the balance did not drop a second time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_given_back_is_never_captured() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    assert_eq!(
        put(&app, "checkout-1", hold(&buyer.id, 19.99))
            .await
            .status(),
        201
    );
    assert_eq!(release(&app, "checkout-1").await.status(), 200);
    // Checkout gave up on a key before its hold arrived: void, as good as released.
    assert_eq!(release(&app, "checkout-void").await.status(), 404);

    assert_eq!(
        capture(&app, "checkout-1").await,
        refused("HoldError::Released")
    );
    assert_eq!(
        capture(&app, "checkout-void").await,
        refused("HoldError::Released")
    );

    assert_eq!(money(&buyer).await, (json!(START), json!(0), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capturing_a_key_never_held_finds_nothing_and_records_nothing() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;

    assert_eq!(
        capture(&app, "checkout-early").await,
        refused("HoldError::NotFound")
    );
    // No hold can be taken under a key longer than 200 characters.
    assert_eq!(
        capture(&app, &"k".repeat(201)).await,
        refused("HoldError::NotFound")
    );

    assert_eq!(money(&buyer).await, (json!(START), json!(0), json!(0)));
    // The key is still free: the hold may arrive after all, and then be captured.
    assert_eq!(
        put(&app, "checkout-early", hold(&buyer.id, 5.0))
            .await
            .status(),
        201
    );
    assert_eq!(
        capture(&app, "checkout-early").await["ok"]["amountCents"],
        500
    );
    assert_eq!(money(&buyer).await, (json!(3_999_995), json!(5), json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_hold_is_never_given_back() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    assert_eq!(
        put(&app, "checkout-1", hold(&buyer.id, 19.99))
            .await
            .status(),
        201
    );
    assert!(capture(&app, "checkout-1").await["ok"].is_object());

    assert_eq!(
        give_back(&app, "checkout-1").await,
        refused("HoldError::Captured")
    );
    let late = release(&app, "checkout-1").await;
    assert_eq!(
        late.status(),
        409,
        "checkout's release is refused the same way"
    );
    assert_eq!(body(late).await["message"], "Hold checkout-1 was captured");

    assert_eq!(
        money(&buyer).await,
        (json!(3_999_980.01), json!(19.99), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giving_a_hold_back_twice_returns_the_money_once() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    assert_eq!(
        put(&app, "checkout-1", hold(&buyer.id, 19.99))
            .await
            .status(),
        201
    );

    assert_eq!(give_back(&app, "checkout-1").await, json!({ "ok": null }));
    assert_eq!(
        give_back(&app, "checkout-1").await,
        json!({ "ok": null }),
        "again"
    );

    assert_eq!(money(&buyer).await, (json!(START), json!(0), json!(0)));
    let late = put(&app, "checkout-1", hold(&buyer.id, 19.99)).await;
    assert_eq!(late.status(), 409, "the key stays released");
    // A compensation that overtakes its hold voids the key, as checkout's release does.
    assert_eq!(
        give_back(&app, "checkout-lost").await,
        refused("HoldError::NotFound")
    );
    assert_eq!(
        put(&app, "checkout-lost", hold(&buyer.id, 1.0))
            .await
            .status(),
        409
    );
    assert_eq!(money(&buyer).await, (json!(START), json!(0), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hold_of_a_buyer_deleted_since_is_not_captured() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    assert_eq!(
        put(&app, "checkout-1", hold(&buyer.id, 19.99))
            .await
            .status(),
        201
    );
    assert_eq!(buyer.delete("/api/v1/auth/users/me").await.status(), 202);

    let answer = capture(&app, "checkout-1").await;

    assert_eq!(
        answer,
        refused(&format!("HoldError::UnknownUser({:?})", buyer.id))
    );
    // Nothing was recorded: the hold is still there to give back.
    assert_eq!(give_back(&app, "checkout-1").await, json!({ "ok": null }));
}
