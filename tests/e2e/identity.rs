//! Auth from the inside, as the other components will use it: the `reen:identity/identity`
//! WIT export composed into an importer (the `identity-probe` fixture, standing in for the order
//! saga) and auth's private endpoints reached by service chaining (standing in for `products`
//! and the guards).

use crate::api::{SignedIn, body};
use crate::helpers::{manifest_with_fixture, spawn_app_with_identity_probe};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The project's manifest plus the probe component composed with `auth.wasm` (built once per
/// test run).
pub fn probe_manifest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        manifest_with_fixture(
            "identity-probe",
            r#"
[[trigger.http]]
route = "/e2e/..."
component = "identity-probe"

[component.identity-probe]
source = "{release}/identity_probe.wasm"
sqlite_databases = ["auth"]
key_value_stores = ["identity"]
allowed_outbound_hosts = ["http://auth.spin.internal"]
dependencies_inherit_configuration = true
[component.identity-probe.dependencies]
"reen:identity/identity" = { path = "{release}/auth.wasm" }
"#,
        )
    })
    .clone()
}

fn spend(user: &str, key_cents: i64) -> Value {
    json!({ "userId": user, "balanceCents": -key_cents, "amountSpentCents": key_cents, "purchasesCount": 1 })
}

fn gain(user: &str, cents: i64) -> Value {
    json!({ "userId": user, "balanceCents": cents, "amountGainedCents": cents, "salesCount": 1 })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_with_the_same_key_twice_moves_money_once() {
    let app = spawn_app_with_identity_probe().await;
    let buyer = app.new_user("Buyer").await;
    let seller = app.new_user("Seller").await;
    let order = json!({ "key": "saga-1:financials", "movements": [spend(&buyer.id, 1999), gain(&seller.id, 1999)] });

    let first = body(app.post_json("/e2e/identity/apply", &order).await).await;
    let second = body(app.post_json("/e2e/identity/apply", &order).await).await;

    assert_eq!(
        first["ok"]["balances"][0],
        json!({ "userId": buyer.id, "balanceCents": 399_998_001 })
    );
    assert_eq!(second, first, "the repeat returns the first result");
    let b = buyer.me().await;
    assert_eq!(
        (
            b["balance"].clone(),
            b["amountSpent"].clone(),
            b["purchasesCount"].clone()
        ),
        (json!(3_999_980.01), json!(19.99), json!(1))
    );
    let s = seller.me().await;
    assert_eq!(
        (
            s["balance"].clone(),
            s["amountGained"].clone(),
            s["salesCount"].clone()
        ),
        (json!(4_000_019.99), json!(19.99), json!(1))
    );

    let other = json!({ "key": "saga-1:financials", "movements": [spend(&buyer.id, 1)] });
    let reused = body(app.post_json("/e2e/identity/apply", &other).await).await;
    assert_eq!(reused["error"], "ApplyError::KeyReused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_moves_nothing_when_one_balance_cannot_cover_it_and_revert_undoes_once() {
    let app = spawn_app_with_identity_probe().await;
    let rich = app.new_user("Rich").await;
    let poor = app.new_user("Poor").await;
    let too_much = json!({ "key": "k-too-much", "movements": [spend(&rich.id, 100), spend(&poor.id, 400_000_001)] });

    let refused = body(app.post_json("/e2e/identity/apply", &too_much).await).await;

    assert_eq!(
        refused["error"],
        format!("ApplyError::InsufficientBalance({:?})", poor.id)
    );
    assert_eq!(
        rich.me().await["balance"],
        4_000_000,
        "nothing was half-applied"
    );

    let paid = json!({ "key": "k-paid", "movements": [spend(&rich.id, 100)] });
    body(app.post_json("/e2e/identity/apply", &paid).await).await;
    assert_eq!(rich.me().await["balance"], 3_999_999);
    let revert = json!({ "key": "k-paid" });
    let first = body(app.post_json("/e2e/identity/revert", &revert).await).await;
    let again = body(app.post_json("/e2e/identity/revert", &revert).await).await;
    assert_eq!(first, again);
    let me = rich.me().await;
    assert_eq!(
        (
            me["balance"].clone(),
            me["amountSpent"].clone(),
            me["purchasesCount"].clone()
        ),
        (json!(4_000_000), json!(0), json!(0))
    );
    let unknown = body(
        app.post_json("/e2e/identity/revert", &json!({ "key": "never" }))
            .await,
    )
    .await;
    assert_eq!(unknown["error"], "ApplyError::UnknownKey");
    // The revert voided the key: an apply arriving after its compensation is refused.
    let late = json!({ "key": "never", "movements": [spend(&rich.id, 100)] });
    let late = body(app.post_json("/e2e/identity/apply", &late).await).await;
    assert_eq!(late["error"], "ApplyError::KeyReused");
    assert_eq!(rich.me().await["balance"], 4_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_components_look_users_up_without_credentials() {
    let app = spawn_app_with_identity_probe().await;
    let ada = app.new_user("Ada").await;

    let found = body(
        app.send(app.request(Method::GET, &format!("/e2e/identity/users/{}", ada.id)))
            .await,
    )
    .await;
    assert_eq!(found["ok"]["name"], "Ada");
    assert_eq!(found["ok"]["email"], ada.email);
    assert_eq!(found["ok"]["balanceCents"], 400_000_000);
    let many = body(
        app.post_json("/e2e/identity/users", &json!({ "ids": ["nope", ada.id] }))
            .await,
    )
    .await;
    assert_eq!(many["ok"].as_array().unwrap().len(), 1);

    let anonymous = body(
        app.send(app.request(Method::GET, "/e2e/identity/anonymous"))
            .await,
    )
    .await;
    let again = body(
        app.send(app.request(Method::GET, "/e2e/identity/anonymous"))
            .await,
    )
    .await;
    assert_eq!(anonymous, again, "one ANONYMOUS user");
    let id = anonymous["ok"].as_str().unwrap();
    let public = ada.get_json(&format!("/api/v1/auth/users/{id}")).await;
    assert_eq!(public["role"], "ANONYMOUS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_is_charged_once_per_key_and_refunded_once() {
    let app = spawn_app_with_identity_probe().await;
    let admin = app.new_user("Seller").await;
    let fee = |user: &str, amount: f64| json!({ "userId": user, "amount": amount });
    let put = |key: &str, body: Value| {
        app.send(
            app.request(Method::PUT, &format!("/e2e/chain/v1/fees/{key}"))
                .json(&body),
        )
    };

    let charged = put("product-1", fee(&admin.id, 6400.5)).await;
    assert_eq!(charged.status(), 201);
    let receipt = body(charged).await;
    assert_eq!(
        receipt,
        json!({ "key": "product-1", "userId": admin.id, "amount": 6400.5, "status": "charged", "balance": 3_993_599.5 })
    );
    let replay = put("product-1", fee(&admin.id, 6400.5)).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(body(replay).await, receipt);
    assert_eq!(put("product-1", fee(&admin.id, 1.0)).await.status(), 422);
    assert_eq!(admin.me().await["amountSpent"], 6400.5);

    let too_much = put("product-2", fee(&admin.id, 5_000_000.0)).await;
    assert_eq!(too_much.status(), 400);
    assert!(
        body(too_much).await["message"]
            .as_str()
            .unwrap()
            .starts_with("Insufficient balance")
    );

    let refund = || app.send(app.request(Method::DELETE, "/e2e/chain/v1/fees/product-1"));
    let refunded = refund().await;
    assert_eq!(refunded.status(), 200);
    assert_eq!(body(refunded).await["status"], "refunded");
    assert_eq!(refund().await.status(), 200, "refunding again is harmless");
    let me = admin.me().await;
    assert_eq!(
        (me["balance"].clone(), me["amountSpent"].clone()),
        (json!(4_000_000), json!(0))
    );
    let unknown = app
        .send(app.request(Method::DELETE, "/e2e/chain/v1/fees/never-charged"))
        .await;
    assert_eq!(unknown.status(), 404);
    // The refund voided the key: a charge arriving after it (still on its way when the refund
    // was sent) is refused, so money never stays taken for a write that was given up.
    assert_eq!(
        put("never-charged", fee(&admin.id, 10.0)).await.status(),
        422
    );
    assert_eq!(admin.me().await["balance"], 4_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auths_private_endpoints_are_unreachable_from_outside() {
    let app = spawn_app_with_identity_probe().await;
    for (method, path) in [
        (Method::PUT, "/internal/v1/fees/k"),
        (Method::PUT, "/internal/v1/holds/k"),
        (Method::DELETE, "/internal/v1/holds/k"),
        (Method::PUT, "/api/v1/auth/../../internal/v1/holds/k"),
        (Method::POST, "/internal/v1/clerk-users/user_2x"),
        (
            Method::POST,
            "/api/v1/auth/../../internal/v1/clerk-users/user_2x",
        ),
    ] {
        let res = app.send(app.request(method, path).json(&json!({}))).await;
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_provision_a_new_clerk_user_through_the_chained_endpoint() {
    let app = spawn_app_with_identity_probe().await;
    app.clerk_user("user_2chained", "Chain", "Ed");

    let created = app
        .send(app.request(Method::POST, "/e2e/chain/v1/clerk-users/user_2chained"))
        .await;
    assert_eq!(created.status(), 201);
    let record = body(created).await;
    assert_eq!(record["clerkId"], "user_2chained");
    assert_eq!(record["role"], "NADMIN");
    assert_eq!(record["name"], "Chain Ed");

    let known = app
        .send(app.request(Method::POST, "/e2e/chain/v1/clerk-users/user_2chained"))
        .await;
    assert_eq!(known.status(), 200);
    assert_eq!(body(known).await["userId"], record["userId"]);
    let unknown = app
        .send(app.request(Method::POST, "/e2e/chain/v1/clerk-users/user_2nobody"))
        .await;
    assert_eq!(unknown.status(), 404);
}
