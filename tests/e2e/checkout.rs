//! `POST /api/v1/checkout` as the storefront calls it (no body; it navigates to
//! `stripeSessionUrl`), against a fake Stripe on loopback that records what it received and a
//! real `redis-server` whose events channel a test subscribes to: the contract's Stripe form,
//! the stock and balance holds, replacement, Stripe failing, and 40 buyers racing for 10 units.
//! The webhook's side is in `checkout_webhook.rs`.

use crate::api::{SignedIn, TestUser, body};
use crate::cart::add;
use crate::fake_clerk;
use crate::fake_email::{self, FakeEmail};
use crate::fake_stripe::{FakeStripe, Recorded, SECRET_KEY, unix_now};
use crate::helpers::{
    REDRIVE_SECRET, TestApp, repo_root, spawn_killable_with, spawn_manifest_with,
};
use crate::product_events::{CHANNEL, next_event, subscribe};
use crate::products::{create, new_admin};
use futures::StreamExt as _;
use futures::future::join_all;
use reen_host::testing::RedisServer;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Every new user's balance, in dollars.
pub const START: f64 = 4_000_000.0;

/// The app wired to its own fake Stripe, fake email API and redis-server.
pub struct Shop {
    pub app: TestApp,
    pub stripe: FakeStripe,
    pub email: FakeEmail,
    pub redis: RedisServer,
}

/// The project's app with Stripe at a fake and the events channel on a fresh redis-server;
/// `variables` win over the defaults.
pub async fn open_shop(variables: &[(&str, &str)]) -> Shop {
    open(Some(repo_root().join("spin.toml")), variables).await
}

/// [`open_shop`] in a host process the test can SIGKILL and restart.
pub async fn open_killable_shop(variables: &[(&str, &str)]) -> Shop {
    open(None, variables).await
}

async fn open(manifest: Option<PathBuf>, variables: &[(&str, &str)]) -> Shop {
    let stripe = FakeStripe::start().await;
    let email = FakeEmail::start().await;
    let redis = RedisServer::start().await.expect("redis-server starts");
    let redis_url = redis.url();
    let mut all = vec![
        ("stripe_api_base", stripe.base_url()),
        ("email_api_base", email.base_url()),
        ("email_api_key", fake_email::API_KEY),
        ("redis_url", redis_url.as_str()),
        ("events_channel", CHANNEL),
    ];
    all.extend_from_slice(variables);
    let app = match manifest {
        Some(manifest) => spawn_manifest_with(manifest, &all).await,
        None => spawn_killable_with(&all).await,
    };
    Shop {
        app,
        stripe,
        email,
        redis,
    }
}

/// A seller (ADMIN) with one product: `price` dollars, `quantity` units.
pub async fn product<'a>(
    app: &'a TestApp,
    name: &str,
    price: f64,
    quantity: u32,
) -> (TestUser<'a>, Value) {
    let seller = new_admin(app, "Seller").await;
    let product = create(
        &seller,
        json!({ "name": name, "description": format!("A fine {name}"), "price": price,
                "quantity": quantity, "imageUrls": [format!("https://cdn.example.com/{name}.png")] }),
    )
    .await;
    (seller, product)
}

/// A new buyer with `quantity` of `product` in their cart.
pub async fn buyer_of<'a>(app: &'a TestApp, product: &Value, quantity: u32) -> TestUser<'a> {
    let buyer = app.new_user("Buyer").await;
    add(&buyer, product, quantity).await;
    buyer
}

/// `POST /api/v1/checkout` with no body, as the storefront sends it.
pub async fn checkout(buyer: &TestUser<'_>) -> Response {
    buyer
        .app()
        .call(Method::POST, "/api/v1/checkout", buyer.bearer(), None)
        .await
}

/// Checks out; asserts 201 and answers Stripe's session id.
pub async fn checkout_ok(buyer: &TestUser<'_>) -> String {
    let res = checkout(buyer).await;
    let status = res.status();
    let created = body(res).await;
    assert_eq!(status, 201, "checkout of {}: {created}", buyer.id);
    created["sessionId"]
        .as_str()
        .expect("a sessionId")
        .to_owned()
}

/// `GET /api/v1/checkout/sessions/{id}` as `user`.
pub async fn session_status(user: &TestUser<'_>, session_id: &str) -> Response {
    user.get(&format!("/api/v1/checkout/sessions/{session_id}"))
        .await
}

/// The checkout's public status, asserting 200.
pub async fn status_of(user: &TestUser<'_>, session_id: &str) -> String {
    let res = session_status(user, session_id).await;
    assert_eq!(res.status(), 200);
    body(res).await["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

/// Delivers `event` signed as Stripe signs it now.
pub async fn deliver(app: &TestApp, event: &Value) -> Response {
    let (payload, signature) = FakeStripe::signed(event, unix_now());
    deliver_raw(app, payload, Some(signature)).await
}

/// Posts `payload` to the webhook with `signature` as `Stripe-Signature` (none: no header).
pub async fn deliver_raw(app: &TestApp, payload: String, signature: Option<String>) -> Response {
    let mut request = app
        .request(Method::POST, "/api/v1/webhooks/stripe")
        .header("content-type", "application/json")
        .body(payload);
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    app.send(request).await
}

/// Delivers `event`; asserts `200 {received: true}`.
pub async fn deliver_ok(app: &TestApp, event: &Value) {
    let res = deliver(app, event).await;
    assert_eq!(res.status(), 200, "{}", event["type"]);
    assert_eq!(body(res).await, json!({ "received": true }));
}

/// `POST /api/v1/checkout/redrive` with `secret` as the bearer (none: no header).
pub async fn redrive(app: &TestApp, secret: Option<&str>) -> Response {
    let mut request = app.request(Method::POST, "/api/v1/checkout/redrive");
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    app.send(request).await
}

/// Re-drives with the right secret; asserts 200 and answers the counts.
pub async fn redrive_ok(app: &TestApp) -> Value {
    let res = redrive(app, Some(REDRIVE_SECRET)).await;
    assert_eq!(res.status(), 200);
    body(res).await
}

/// The user's balance in dollars, as `users/me` shows it.
pub async fn balance(user: &TestUser<'_>) -> f64 {
    user.me().await["balance"].as_f64().expect("a balance")
}

/// The saga starts published within `wait` (other events are skipped).
pub async fn saga_starts(
    events: &mut (impl futures::Stream<Item = Value> + Unpin),
    wait: Duration,
) -> Vec<Value> {
    let mut starts = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
        if event["type"] == "checkout.paid" {
            starts.push(event);
        }
    }
    starts
}

/// The `POST /v1/checkout/sessions` requests Stripe received.
pub fn creates(stripe: &FakeStripe) -> Vec<Recorded> {
    stripe
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/checkout/sessions")
        .collect()
}

fn form_value<'f>(form: &'f [(String, String)], key: &str) -> &'f str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("the form has no {key}: {form:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_becomes_a_stripe_session_then_a_paid_checkout_and_one_saga_start() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (lamp_seller, lamp) = product(app, "Lamp", 19.99, 5).await;
    let (mug_seller, mug) = product(app, "Mug", 12.5, 5).await;
    let buyer = buyer_of(app, &lamp, 2).await;
    add(&buyer, &mug, 1).await;
    let mut events = subscribe(&shop.redis).await;
    let before = unix_now();

    let res = checkout(&buyer).await;

    assert_eq!(res.status(), 201);
    let created = body(res).await;
    let session_id = created["sessionId"].as_str().expect("sessionId").to_owned();
    assert!(session_id.starts_with("cs_"), "{session_id}");
    let session = shop.stripe.session(&session_id).expect("Stripe has it");
    assert_eq!(created["stripeSessionUrl"], session["url"]);
    assert_eq!(created.as_object().map(|o| o.len()), Some(2), "{created}");

    // Exactly the contract's request, once.
    let sent = creates(&shop.stripe);
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        sent.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let checkout_id = form_value(&sent.form, "client_reference_id").to_owned();
    assert_eq!(sent.idempotency_key.as_deref(), Some(checkout_id.as_str()));
    assert_eq!(form_value(&sent.form, "metadata[checkoutId]"), checkout_id);
    assert_eq!(form_value(&sent.form, "metadata[userId]"), buyer.id);
    assert_eq!(form_value(&sent.form, "mode"), "payment");
    let origin = fake_clerk::ORIGIN;
    assert_eq!(
        form_value(&sent.form, "success_url"),
        format!("{origin}/checkout?success=true")
    );
    assert_eq!(
        form_value(&sent.form, "cancel_url"),
        format!("{origin}/checkout?canceled=true")
    );
    let expires_at: i64 = form_value(&sent.form, "expires_at").parse().expect("unix");
    assert!(
        (before + 30 * 60..=unix_now() + 32 * 60).contains(&expires_at),
        "expires_at {expires_at} is 30 to 32 minutes away"
    );
    let keys: BTreeSet<&str> = sent.form.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected: BTreeSet<String> = [
        "mode",
        "client_reference_id",
        "metadata[checkoutId]",
        "metadata[userId]",
        "expires_at",
        "success_url",
        "cancel_url",
    ]
    .map(String::from)
    .into();
    let mut lines = BTreeSet::new();
    for i in 0..2 {
        let field = |f: &str| format!("line_items[{i}]{f}");
        for f in [
            "[price_data][currency]",
            "[price_data][product_data][name]",
            "[price_data][unit_amount]",
            "[quantity]",
        ] {
            expected.insert(field(f));
        }
        lines.insert((
            form_value(&sent.form, &field("[price_data][product_data][name]")).to_owned(),
            form_value(&sent.form, &field("[price_data][unit_amount]")).to_owned(),
            form_value(&sent.form, &field("[quantity]")).to_owned(),
            form_value(&sent.form, &field("[price_data][currency]")).to_owned(),
        ));
    }
    assert_eq!(
        keys,
        expected.iter().map(String::as_str).collect(),
        "exactly the contract's fields"
    );
    let line = |name: &str, cents: &str, quantity: &str| {
        (name.into(), cents.into(), quantity.into(), "usd".into())
    };
    assert_eq!(
        lines,
        BTreeSet::from([line("Lamp", "1999", "2"), line("Mug", "1250", "1")]),
        "prices from the catalog in integer cents"
    );

    // The total is held on the balance; nothing is spent yet.
    let me = buyer.me().await;
    assert_eq!(me["balance"], json!(START - 52.48));
    assert_eq!(me["amountSpent"], 0);
    assert_eq!(status_of(&buyer, &session_id).await, "open");

    let completed = shop.stripe.complete(&session_id, "paid");
    deliver_ok(app, &completed).await;

    let start = next_event(&mut events).await;
    let intent = completed["data"]["object"]["payment_intent"].clone();
    assert!(intent.as_str().is_some_and(|pi| pi.starts_with("pi_")));
    assert_eq!(start["type"], "checkout.paid");
    assert_eq!(start["checkoutId"], checkout_id.as_str());
    assert_eq!(start["sessionId"], session_id.as_str());
    assert_eq!(start["paymentIntent"], intent);
    assert_eq!(start["buyerId"], buyer.id.as_str());
    assert_eq!(start["totalCents"], 5248);
    assert_eq!(start["holdsReleased"], false);
    let mut frozen = start["lines"].as_array().expect("lines").clone();
    frozen.sort_by_key(|l| l["name"].as_str().map(str::to_owned));
    assert_eq!(
        frozen,
        vec![
            json!({ "productId": lamp["id"], "sellerId": lamp_seller.id, "name": "Lamp",
                    "imageUrls": ["https://cdn.example.com/Lamp.png"], "quantity": 2,
                    "unitPriceCents": 1999 }),
            json!({ "productId": mug["id"], "sellerId": mug_seller.id, "name": "Mug",
                    "imageUrls": ["https://cdn.example.com/Mug.png"], "quantity": 1,
                    "unitPriceCents": 1250 }),
        ]
    );
    assert_eq!(
        saga_starts(&mut events, Duration::from_secs(1)).await,
        Vec::<Value>::new(),
        "exactly one saga start"
    );
    assert_eq!(status_of(&buyer, &session_id).await, "paid");
    assert_eq!(
        buyer.me().await["balance"],
        json!(START - 52.48),
        "the hold stays until the saga captures it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_cart_or_a_total_stripe_cannot_charge_is_refused_and_holds_nothing() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let nobody = app.new_user("Empty").await;
    let res = checkout(&nobody).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        body(res).await["message"],
        "Cart is empty. Cannot proceed to checkout."
    );

    let (_, sticker) = product(app, "Sticker", 0.25, 10).await;
    let cheap = buyer_of(app, &sticker, 1).await;
    let res = checkout(&cheap).await;
    assert_eq!(res.status(), 400);
    let message = body(res).await["message"].as_str().unwrap_or("").to_owned();
    assert!(message.contains("$0.50"), "{message}");

    // $600,000 × 2 is above Stripe's $999,999.99 (and within the buyer's balance).
    let (_, car) = product(app, "Car", 600_000.0, 2).await;
    let rich = buyer_of(app, &car, 2).await;
    let res = checkout(&rich).await;
    assert_eq!(res.status(), 400);
    let message = body(res).await["message"].as_str().unwrap_or("").to_owned();
    assert!(message.contains("$999,999.99"), "{message}");

    assert!(
        creates(&shop.stripe).is_empty(),
        "Stripe is never called for these"
    );
    for user in [&cheap, &rich] {
        assert_eq!(balance(user).await, START, "nothing held");
    }
    // The car's units were not held either: someone else can buy both.
    let other = buyer_of(app, &car, 1).await;
    add(&other, &sticker, 2).await;
    checkout_ok(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_the_balance_cannot_hold_is_refused_and_holds_no_stock() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, island) = product(app, "Island", 990_000.0, 5).await;
    let buyer = buyer_of(app, &island, 1).await;
    let other = buyer_of(app, &island, 1).await;
    // Four checkouts completed with a bank debit still on its way keep their holds (a new
    // checkout does not replace them) and the cart: $3,960,000 held, $40,000 free.
    for _ in 0..4 {
        let session_id = checkout_ok(&buyer).await;
        deliver_ok(app, &shop.stripe.complete(&session_id, "unpaid")).await;
    }
    assert_eq!(balance(&buyer).await, 40_000.0);

    let res = checkout(&buyer).await;

    assert_eq!(res.status(), 400);
    let message = body(res).await["message"].as_str().unwrap_or("").to_owned();
    assert!(message.starts_with("Insufficient balance"), "{message}");
    assert_eq!(creates(&shop.stripe).len(), 4, "Stripe is not called");
    assert_eq!(balance(&buyer).await, 40_000.0, "nothing more held");
    // The fifth unit was not held: another buyer checks it out.
    checkout_ok(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_checkout_replaces_the_open_one_at_stripe_and_gives_its_holds_back() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 1).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let other = buyer_of(app, &lamp, 1).await;
    let mut events = subscribe(&shop.redis).await;
    let first = checkout_ok(&buyer).await;

    // The only unit is held by the first checkout, yet the second gets it: the first's
    // reservation is given back before the second reserves.
    let second = checkout_ok(&buyer).await;

    assert_ne!(first, second);
    let expired_at_stripe: Vec<Recorded> = shop
        .stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/v1/checkout/sessions/{first}/expire"))
        .collect();
    assert_eq!(
        expired_at_stripe.len(),
        1,
        "the old session is expired once"
    );
    assert_eq!(
        shop.stripe.session(&first).expect("kept")["status"],
        "expired"
    );
    assert_eq!(status_of(&buyer, &first).await, "expired");
    assert_eq!(status_of(&buyer, &second).await, "open");
    assert_eq!(balance(&buyer).await, START - 20.0, "one hold, not two");
    assert_eq!(
        checkout(&other).await.status(),
        409,
        "the unit is held once"
    );

    // Stripe had already taken the buyer's money on the old page (paid as it was expired):
    // the money still starts the saga, which fulfils or refunds.
    let mut late = shop.stripe.session(&first).expect("kept");
    late["status"] = json!("complete");
    late["payment_status"] = json!("paid");
    late["payment_intent"] = json!("pi_late_payment_0001");
    deliver_ok(
        app,
        &FakeStripe::event_from("checkout.session.completed", late),
    )
    .await;
    let starts = saga_starts(&mut events, Duration::from_secs(2)).await;
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["sessionId"], first.as_str());
    assert_eq!(starts[0]["paymentIntent"], "pi_late_payment_0001");
    assert_eq!(
        starts[0]["holdsReleased"], true,
        "the saga knows nothing is held"
    );
    assert_eq!(status_of(&buyer, &first).await, "paid");
}

/// A checkout that Stripe refused: 502 with a message the buyer can act on, nothing held.
async fn assert_refused_by_stripe(buyer: &TestUser<'_>) {
    let res = checkout(buyer).await;
    assert_eq!(res.status(), 502);
    let message = body(res).await["message"].as_str().unwrap_or("").to_owned();
    assert!(message.contains("nothing was charged"), "{message}");
    assert_eq!(
        balance(buyer).await,
        START,
        "the balance hold was given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_failing_is_a_502_and_the_holds_are_given_back() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 1).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let other = buyer_of(app, &lamp, 1).await;

    for status in [500, 400, 429] {
        shop.stripe.fail_next_create(status);
        assert_refused_by_stripe(&buyer).await;
    }

    // Stripe answers again: the only unit was given back each time.
    checkout_ok(&other).await;
    assert_eq!(creates(&shop.stripe).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_unreachable_is_a_502_and_the_holds_are_given_back() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 1).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    shop.stripe.stop().await;

    assert_refused_by_stripe(&buyer).await;
    // The only unit was given back: a second try is refused by Stripe again, not by stock.
    assert_refused_by_stripe(&buyer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_timed_out_but_stripe_performed_is_still_ours_when_paid() {
    let shop = open_shop(&[("stripe_timeout_secs", "1")]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 3).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let mut events = subscribe(&shop.redis).await;
    shop.stripe
        .perform_then_stall_next_create(Duration::from_secs(4));

    let started = std::time::Instant::now();
    let res = checkout(&buyer).await;

    assert_eq!(res.status(), 502);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the buyer is not kept waiting for Stripe: {:?}",
        started.elapsed()
    );
    assert_eq!(balance(&buyer).await, START, "holds given back");
    let sessions = shop.stripe.sessions();
    assert_eq!(sessions.len(), 1, "Stripe made the session anyway");
    let session_id = sessions[0]["id"].as_str().expect("an id").to_owned();

    // The buyer had the page (Stripe's answer was only late) and paid.
    deliver_ok(app, &shop.stripe.complete(&session_id, "paid")).await;
    let starts = saga_starts(&mut events, Duration::from_secs(2)).await;
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["sessionId"], session_id.as_str());
    assert_eq!(starts[0]["buyerId"], buyer.id.as_str());
    assert_eq!(starts[0]["holdsReleased"], true);
    assert_eq!(status_of(&buyer, &session_id).await, "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_buyers_racing_for_ten_units_make_ten_sessions_and_thirty_409s() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 10).await;
    let buyers = join_all((0..41).map(|_| buyer_of(app, &lamp, 1))).await;
    let (late, buyers) = buyers.split_last().expect("41 buyers");

    let answers = join_all(buyers.iter().map(|buyer| async move {
        let res = checkout(buyer).await;
        (res.status().as_u16(), body(res).await)
    }))
    .await;

    let won: Vec<&TestUser> = buyers
        .iter()
        .zip(&answers)
        .filter(|(_, (status, _))| *status == 201)
        .map(|(buyer, _)| buyer)
        .collect();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 409)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(won.len(), 10, "{answers:?}");
    assert_eq!(refused.len(), 30, "{answers:?}");
    for body in refused {
        let message = body["message"].as_str().unwrap_or("");
        assert!(
            message.contains("Lamp"),
            "names the short product: {message}"
        );
    }
    let sessions = creates(&shop.stripe);
    assert_eq!(sessions.len(), 10, "no Stripe session for a refused buyer");
    let paying: BTreeSet<&str> = sessions
        .iter()
        .map(|r| form_value(&r.form, "metadata[userId]"))
        .collect();
    let winners: BTreeSet<&str> = won.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(paying, winners);
    for (buyer, (status, _)) in buyers.iter().zip(&answers) {
        let expected = if *status == 201 { START - 20.0 } else { START };
        assert_eq!(balance(buyer).await, expected);
    }
    // None left, and never fewer than none: the catalog shows 0 and an 11th buyer is refused.
    let shown = app
        .get(&format!(
            "/api/v1/products/{}",
            lamp["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(body(shown).await["quantity"], 0);
    assert_eq!(checkout(late).await.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_leaves_one_open_checkout() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let other = buyer_of(app, &lamp, 4).await;

    let answers = join_all((0..5).map(|_| checkout(&buyer))).await;

    let mut opened = Vec::new();
    for res in answers {
        let status = res.status().as_u16();
        let answer = body(res).await;
        assert!(matches!(status, 201 | 409), "{status} {answer}");
        if status == 201 {
            opened.push(answer["sessionId"].as_str().expect("id").to_owned());
        }
    }
    assert!(!opened.is_empty());
    let mut open = 0;
    for session_id in &opened {
        if status_of(&buyer, session_id).await == "open" {
            open += 1;
        }
    }
    assert_eq!(open, 1, "one open checkout of {opened:?}");
    assert_eq!(balance(&buyer).await, START - 20.0, "one hold");
    // Four units are free: the replaced checkouts gave theirs back.
    checkout_ok(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_or_an_unknown_session_is_404() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    let stranger = app.new_user("Stranger").await;

    for (user, id) in [
        (&stranger, session_id.as_str()),
        (&buyer, "cs_test_unknown"),
    ] {
        let res = session_status(user, id).await;
        assert_eq!(res.status(), 404);
        assert_eq!(
            body(res).await["message"],
            format!("Checkout session with id {id} not found")
        );
    }
    let anonymous = app
        .get(&format!("/api/v1/checkout/sessions/{session_id}"))
        .await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous_checkout(app).await, 401);
}

/// `POST /checkout` without a token.
async fn anonymous_checkout(app: &TestApp) -> u16 {
    app.send(app.request(Method::POST, "/api/v1/checkout"))
        .await
        .status()
        .as_u16()
}
