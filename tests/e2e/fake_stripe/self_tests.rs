//! The fake Stripe itself, driven over HTTP: each test pins down behaviour a test of the app
//! relies on (what is recorded, idempotency, refusals, failure modes, events and signatures).

use super::{FakeStripe, SECRET_KEY, WEBHOOK_SECRET, unix_now};
use serde_json::{Value, json};
use std::time::Duration;

const SESSIONS: &str = "/v1/checkout/sessions";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// The create form of the API contract (§5), written out by hand, not by `crates/stripe`.
fn contract_form(checkout_id: &str, lines: &[(&str, i64, u32)]) -> Vec<(String, String)> {
    let mut form = pairs(&[("mode", "payment")]);
    for (i, (name, cents, quantity)) in lines.iter().enumerate() {
        let key = |suffix: &str| format!("line_items[{i}]{suffix}");
        form.extend([
            (key("[price_data][currency]"), "usd".to_owned()),
            (key("[price_data][product_data][name]"), name.to_string()),
            (key("[price_data][unit_amount]"), cents.to_string()),
            (key("[quantity]"), quantity.to_string()),
        ]);
    }
    let expires_at = (unix_now() + 31 * 60).to_string();
    form.extend(pairs(&[
        ("client_reference_id", checkout_id),
        ("metadata[checkoutId]", checkout_id),
        ("metadata[userId]", "user_42"),
        ("expires_at", &expires_at),
        ("success_url", "http://localhost:3001/checkout?success=true"),
        ("cancel_url", "http://localhost:3001/checkout?canceled=true"),
    ]));
    form
}

/// A two-line cart: 2 × $9.50 + 1 × $19.99 = $38.99.
fn mug_and_tea(checkout_id: &str) -> Vec<(String, String)> {
    contract_form(checkout_id, &[("Mug & Saucer", 950, 2), ("Tea", 1999, 1)])
}

fn with(form: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut form = form.to_vec();
    match form.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => pair.1 = value.to_owned(),
        None => form.push((key.to_owned(), value.to_owned())),
    }
    form
}

fn without(form: &[(String, String)], key: &str) -> Vec<(String, String)> {
    form.iter().filter(|(k, _)| k != key).cloned().collect()
}

fn encode(form: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

async fn post_with(
    client: &reqwest::Client,
    stripe: &FakeStripe,
    path: &str,
    key: Option<&str>,
    form: &[(String, String)],
) -> reqwest::Result<reqwest::Response> {
    let mut request = client
        .post(format!("{}{path}", stripe.base_url()))
        .bearer_auth(SECRET_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(form));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await
}

async fn post(
    stripe: &FakeStripe,
    path: &str,
    key: Option<&str>,
    form: &[(String, String)],
) -> reqwest::Response {
    post_with(&reqwest::Client::new(), stripe, path, key, form)
        .await
        .expect("the fake answers")
}

/// Creates a session and returns it.
async fn create(stripe: &FakeStripe, checkout_id: &str) -> Value {
    let res = post(
        stripe,
        SESSIONS,
        Some(checkout_id),
        &mug_and_tea(checkout_id),
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("JSON")
}

async fn status_and_json(res: reqwest::Response) -> (u16, Value) {
    (res.status().as_u16(), res.json().await.expect("JSON"))
}

fn replayed(res: &reqwest::Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .map(|v| v.as_bytes())
        == Some(b"true")
}

#[tokio::test]
async fn a_created_session_is_stripes_answer_and_the_request_is_recorded_as_sent() {
    let stripe = FakeStripe::start().await;
    let form = mug_and_tea("chk_1");

    let res = post(&stripe, SESSIONS, Some("chk_1"), &form).await;

    let (status, session) = status_and_json(res).await;
    assert_eq!(status, 200);
    let id = session["id"].as_str().expect("id");
    assert!(id.starts_with("cs_test_") && id.len() > 40, "{id}");
    assert_eq!(
        session["url"],
        format!("https://checkout.stripe.com/c/pay/{id}")
    );
    let expires_at = &form
        .iter()
        .find(|(k, _)| k == "expires_at")
        .expect("sent")
        .1;
    assert_eq!(session["expires_at"].to_string(), *expires_at);
    for (field, expected) in [
        ("object", json!("checkout.session")),
        ("status", json!("open")),
        ("payment_status", json!("unpaid")),
        ("mode", json!("payment")),
        ("amount_total", json!(950 * 2 + 1999)),
        ("currency", json!("usd")),
        ("client_reference_id", json!("chk_1")),
        (
            "metadata",
            json!({ "checkoutId": "chk_1", "userId": "user_42" }),
        ),
        ("payment_intent", Value::Null),
    ] {
        assert_eq!(session[field], expected, "{field}");
    }
    let recorded = stripe.requests();
    assert_eq!(recorded.len(), 1);
    let request = &recorded[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", SESSIONS)
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(request.idempotency_key.as_deref(), Some("chk_1"));
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.body, encode(&form));
    assert_eq!(request.form, form, "decoded pairs, in the order sent");
    assert_eq!(stripe.sessions(), vec![session.clone()]);
    let client = reqwest::Client::new();
    let get = |id: String| {
        client
            .get(format!("{}{SESSIONS}/{id}", stripe.base_url()))
            .bearer_auth(SECRET_KEY)
            .send()
    };
    let (status, fetched) = status_and_json(get(id.to_owned()).await.unwrap()).await;
    assert_eq!((status, fetched), (200, session));
    let (status, missing) = status_and_json(get("cs_test_nope".into()).await.unwrap()).await;
    assert_eq!(
        (status, &missing["error"]["code"]),
        (404, &json!("resource_missing"))
    );
}

#[tokio::test]
async fn the_same_key_and_form_replays_the_session_and_another_form_is_refused() {
    let stripe = FakeStripe::start().await;
    let form = mug_and_tea("chk_1");
    let first = create(&stripe, "chk_1").await;

    let mut reordered = form.clone();
    reordered.reverse();
    let again = post(&stripe, SESSIONS, Some("chk_1"), &reordered).await;
    assert!(replayed(&again));
    let (status, again) = status_and_json(again).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));

    let other = with(&form, "line_items[0][quantity]", "3");
    let (status, refused) =
        status_and_json(post(&stripe, SESSIONS, Some("chk_1"), &other).await).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["type"], "idempotency_error");
    let (status, _) = status_and_json(post(&stripe, "/v1/refunds", Some("chk_1"), &[]).await).await;
    assert_eq!(status, 400, "a key is bound to its endpoint too");
    assert_eq!(stripe.sessions().len(), 1);

    let (status, second) =
        status_and_json(post(&stripe, SESSIONS, Some("chk_2"), &form).await).await;
    assert_eq!(status, 200);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(stripe.sessions().len(), 2);
}

#[tokio::test]
async fn a_call_without_the_secret_key_is_refused_with_401_and_creates_nothing() {
    let stripe = FakeStripe::start().await;
    let url = format!("{}{SESSIONS}", stripe.base_url());
    let client = reqwest::Client::new();
    let body = encode(&mug_and_tea("chk_1"));
    let form_type = ("content-type", "application/x-www-form-urlencoded");

    let anonymous = client
        .post(&url)
        .header(form_type.0, form_type.1)
        .body(body.clone());
    let (status, missing) = status_and_json(anonymous.send().await.unwrap()).await;
    let wrong = client
        .post(&url)
        .bearer_auth("sk_test_wrong")
        .header(form_type.0, form_type.1);
    let (status_wrong, invalid) = status_and_json(wrong.body(body).send().await.unwrap()).await;

    assert_eq!((status, status_wrong), (401, 401));
    assert_eq!(missing["error"]["type"], "invalid_request_error");
    let message = missing["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("You did not provide an API key"),
        "{message}"
    );
    let message = invalid["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Invalid API Key provided"), "{message}");
    assert!(stripe.sessions().is_empty());
    let seen: Vec<_> = stripe
        .requests()
        .into_iter()
        .map(|r| r.authorization)
        .collect();
    assert_eq!(seen, vec![None, Some("Bearer sk_test_wrong".to_owned())]);
}

#[tokio::test]
async fn a_form_stripe_would_refuse_is_a_400_naming_the_param_and_creates_nothing() {
    let stripe = FakeStripe::start().await;
    let form = mug_and_tea("chk_1");
    let line = |suffix: &str| format!("line_items[0]{suffix}");
    let (name, unit, quantity, currency) = (
        line("[price_data][product_data][name]"),
        line("[price_data][unit_amount]"),
        line("[quantity]"),
        line("[price_data][currency]"),
    );
    let soon = (unix_now() + 29 * 60).to_string();
    let late = (unix_now() + 25 * 60 * 60).to_string();
    // (form, the param Stripe names, its error code if it has one)
    type Case<'a> = (Vec<(String, String)>, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (without(&form, "mode"), "mode", Some("parameter_missing")),
        (with(&form, "mode", "subscription"), "mode", None),
        (
            without(&form, &currency),
            &currency,
            Some("parameter_missing"),
        ),
        (
            with(&form, &name, ""),
            &name,
            Some("parameter_invalid_empty"),
        ),
        (
            with(&form, &unit, "9.5"),
            &unit,
            Some("parameter_invalid_integer"),
        ),
        (with(&form, &unit, "-1"), &unit, None),
        (with(&form, &quantity, "0"), &quantity, None),
        (with(&form, "expires_at", &soon), "expires_at", None),
        (with(&form, "expires_at", &late), "expires_at", None),
        (
            with(&form, "metdata[userId]", "u"),
            "metdata",
            Some("parameter_unknown"),
        ),
        (
            contract_form("chk_1", &[("Sticker", 49, 1)]),
            "line_items",
            Some("amount_too_small"),
        ),
        (
            with(&form, "success_url", "localhost/checkout"),
            "success_url",
            Some("url_invalid"),
        ),
    ];

    for (case, (bad, param, code)) in cases.iter().enumerate() {
        let res = post(&stripe, SESSIONS, Some("chk_1"), bad).await;
        let (status, body) = status_and_json(res).await;
        let error = &body["error"];
        assert_eq!(status, 400, "case {case}: {body}");
        assert_eq!(error["type"], "invalid_request_error", "case {case}");
        assert_eq!(error["param"], *param, "case {case}: {body}");
        assert_eq!(error["code"].as_str(), *code, "case {case}: {body}");
    }

    assert!(stripe.sessions().is_empty());
    let corrected = post(&stripe, SESSIONS, Some("chk_1"), &form).await;
    assert_eq!(
        corrected.status(),
        200,
        "a refused request does not use up its key"
    );
}

async fn expire(stripe: &FakeStripe, id: &str) -> reqwest::Response {
    post(stripe, &format!("{SESSIONS}/{id}/expire"), None, &[]).await
}

#[tokio::test]
async fn an_open_session_expires_once_and_an_unknown_one_is_missing() {
    let stripe = FakeStripe::start().await;
    let id = create(&stripe, "chk_1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, expired) = status_and_json(expire(&stripe, &id).await).await;
    assert_eq!(
        (status, &expired["status"], &expired["url"]),
        (200, &json!("expired"), &Value::Null)
    );
    assert_eq!(stripe.session(&id).unwrap()["status"], "expired");
    let (status, again) = status_and_json(expire(&stripe, &id).await).await;
    assert_eq!(
        (status, &again["error"]["type"]),
        (400, &json!("invalid_request_error"))
    );
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`expired`")
    );

    let paid = create(&stripe, "chk_2").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    stripe.complete(&paid, "paid");
    let (status, late) = status_and_json(expire(&stripe, &paid).await).await;
    assert_eq!(status, 400);
    assert!(
        late["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`complete`")
    );

    let (status, unknown) = status_and_json(expire(&stripe, "cs_test_unknown").await).await;
    assert_eq!(
        (status, &unknown["error"]["code"]),
        (404, &json!("resource_missing"))
    );
}

#[tokio::test]
async fn a_create_stripe_performed_but_answered_too_late_is_replayed_to_the_retry() {
    let stripe = FakeStripe::start().await;
    let form = mug_and_tea("chk_1");
    stripe.perform_then_stall_next_create(Duration::from_secs(60));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();

    let first = post_with(&impatient, &stripe, SESSIONS, Some("chk_1"), &form).await;

    assert!(first.unwrap_err().is_timeout());
    let made = stripe.sessions();
    assert_eq!(
        made.len(),
        1,
        "Stripe made the session although the caller gave up"
    );
    let retry = post(&stripe, SESSIONS, Some("chk_1"), &form).await;
    assert!(replayed(&retry));
    let (status, session) = status_and_json(retry).await;
    assert_eq!((status, &session["id"]), (200, &made[0]["id"]));
    assert_eq!(stripe.sessions().len(), 1);
}

#[tokio::test]
async fn a_stalled_create_keeps_its_key_in_use_and_creates_the_session_anyway() {
    let stripe = FakeStripe::start().await;
    let form = mug_and_tea("chk_1");
    stripe.stall_next_create(Duration::from_millis(400));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();

    let first = post_with(&impatient, &stripe, SESSIONS, Some("chk_1"), &form).await;
    assert!(first.unwrap_err().is_timeout());
    assert!(stripe.sessions().is_empty());
    let (status, busy) = status_and_json(post(&stripe, SESSIONS, Some("chk_1"), &form).await).await;
    assert_eq!(status, 409);
    assert_eq!(busy["error"]["code"], "idempotency_key_in_use");

    tokio::time::sleep(Duration::from_millis(500)).await;
    let made = stripe.sessions();
    assert_eq!(made.len(), 1);
    let (status, session) =
        status_and_json(post(&stripe, SESSIONS, Some("chk_1"), &form).await).await;
    assert_eq!((status, &session["id"]), (200, &made[0]["id"]));
}

#[tokio::test]
async fn a_failed_create_answers_stripes_error_creates_nothing_and_fails_once() {
    let stripe = FakeStripe::start().await;
    stripe.fail_next_create(500);

    let (status, error) =
        status_and_json(post(&stripe, SESSIONS, Some("chk_1"), &mug_and_tea("chk_1")).await).await;

    assert_eq!(
        (status, &error["error"]["type"]),
        (500, &json!("api_error"))
    );
    assert!(stripe.sessions().is_empty());
    let retry = post(&stripe, SESSIONS, Some("chk_1"), &mug_and_tea("chk_1")).await;
    assert!(
        replayed(&retry),
        "Stripe replays a saved 500 to the same key"
    );
    assert_eq!(retry.status(), 500);
    create(&stripe, "chk_2").await;
    stripe.fail_next_create(429);
    let limited = post(&stripe, SESSIONS, Some("chk_3"), &mug_and_tea("chk_3")).await;
    let (status, error) = status_and_json(limited).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (429, &json!("rate_limit"))
    );
    create(&stripe, "chk_3").await;
    assert_eq!(stripe.sessions().len(), 2);
}

#[tokio::test]
async fn a_stopped_fake_is_unreachable_even_on_a_kept_alive_connection() {
    let stripe = FakeStripe::start().await;
    let client = reqwest::Client::new();
    let form = mug_and_tea("chk_1");
    let res = post_with(&client, &stripe, SESSIONS, Some("chk_1"), &form).await;
    assert_eq!(res.unwrap().status(), 200);

    stripe.stop().await;

    let pooled = post_with(&client, &stripe, SESSIONS, Some("chk_2"), &form).await;
    assert!(pooled.is_err(), "{pooled:?}");
    let fresh = post_with(&reqwest::Client::new(), &stripe, SESSIONS, None, &form).await;
    assert!(fresh.unwrap_err().is_connect());
    assert_eq!(stripe.sessions().len(), 1);
}

#[tokio::test]
async fn webhooks_are_signed_as_stripe_signs_them() {
    // `printf '%s' '1700000000.{"id":"evt_test_webhook","object":"event"}' |
    //  openssl dgst -sha256 -hmac whsec_test_secret`: Stripe's scheme, computed outside Rust.
    let header = FakeStripe::signature_header(
        "whsec_test_secret",
        1_700_000_000,
        r#"{"id":"evt_test_webhook","object":"event"}"#,
    );
    assert_eq!(
        header,
        "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
    );

    let event = FakeStripe::event_from("payment_intent.created", json!({ "id": "pi_1" }));
    let now = unix_now();
    let (body, header) = FakeStripe::signed(&event, now);

    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), event);
    assert!(
        body.contains("\n  \"id\""),
        "pretty-printed, as Stripe sends it"
    );
    assert_eq!(
        header,
        FakeStripe::signature_header(WEBHOOK_SECRET, now, &body)
    );
    let (same_body, other) = FakeStripe::signed_with("whsec_other", &event, now);
    assert_eq!(same_body, body);
    assert_ne!(other, header);
}

#[tokio::test]
async fn a_completed_session_gives_the_event_stripe_sends_and_a_payment_refunded_once() {
    let stripe = FakeStripe::start().await;
    let id = create(&stripe, "chk_1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let event = stripe.complete(&id, "paid");

    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["type"], "checkout.session.completed");
    assert_eq!(
        (&event["object"], &event["livemode"]),
        (&json!("event"), &json!(false))
    );
    assert!(event["api_version"].is_string());
    assert!((unix_now() - event["created"].as_i64().unwrap()).abs() < 5);
    let session = &event["data"]["object"];
    assert_eq!(
        (&session["id"], &session["status"]),
        (&json!(id), &json!("complete"))
    );
    assert_eq!(session["payment_status"], "paid");
    assert_eq!(session["metadata"]["checkoutId"], "chk_1");
    assert_eq!(stripe.session(&id).as_ref(), Some(session));
    let intent = session["payment_intent"].as_str().unwrap();
    assert!(intent.starts_with("pi_"));

    let refund = pairs(&[("payment_intent", intent)]);
    let (status, first) =
        status_and_json(post(&stripe, "/v1/refunds", Some("saga-1"), &refund).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&first["object"], &first["status"]),
        (&json!("refund"), &json!("succeeded"))
    );
    assert_eq!(
        (&first["amount"], &first["payment_intent"]),
        (&json!(3899), &json!(intent))
    );
    let (_, again) =
        status_and_json(post(&stripe, "/v1/refunds", Some("saga-1"), &refund).await).await;
    assert_eq!(again["id"], first["id"]);
    let (status, twice) =
        status_and_json(post(&stripe, "/v1/refunds", Some("saga-2"), &refund).await).await;
    assert_eq!(
        (status, &twice["error"]["code"]),
        (400, &json!("charge_already_refunded"))
    );
    assert_eq!(stripe.refunds(), vec![first]);
    let unknown = pairs(&[("payment_intent", "pi_unknown")]);
    let (status, _) = status_and_json(post(&stripe, "/v1/refunds", None, &unknown).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn delayed_payments_and_expiry_change_the_session_as_their_events_say() {
    let stripe = FakeStripe::start().await;
    let mut ids = Vec::new();
    for checkout in ["chk_1", "chk_2", "chk_3"] {
        ids.push(
            create(&stripe, checkout).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let completed = stripe.complete(&ids[0], "unpaid");
    let intent = completed["data"]["object"]["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund = pairs(&[("payment_intent", &intent)]);
    let (status, _) = status_and_json(post(&stripe, "/v1/refunds", None, &refund).await).await;
    assert_eq!(status, 400, "nothing to refund before the money arrives");
    let succeeded = stripe.event("checkout.session.async_payment_succeeded", &ids[0]);
    stripe.complete(&ids[1], "unpaid");
    let failed = stripe.event("checkout.session.async_payment_failed", &ids[1]);
    let expired = stripe.event("checkout.session.expired", &ids[2]);

    assert_eq!(completed["data"]["object"]["payment_status"], "unpaid");
    assert_eq!(succeeded["data"]["object"]["payment_status"], "paid");
    assert_eq!(
        post(&stripe, "/v1/refunds", None, &refund).await.status(),
        200
    );
    assert_eq!(failed["data"]["object"]["payment_status"], "unpaid");
    assert_eq!(failed["data"]["object"]["status"], "complete");
    assert_eq!(expired["data"]["object"]["status"], "expired");
    assert_eq!(stripe.session(&ids[2]).unwrap()["status"], "expired");
    let events = [&completed, &succeeded, &failed, &expired];
    let mut event_ids: Vec<_> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), 4, "each event has its own id");
}
