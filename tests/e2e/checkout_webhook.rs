//! `POST /api/v1/webhooks/stripe` as Stripe calls it: signatures checked over the raw bytes,
//! every event applied once whatever the order and the number of deliveries, expiry and
//! failed payments giving the holds back, and the saga start surviving Redis being down
//! (the re-drive publishes it later).

use crate::api::body;
use crate::checkout::{
    START, balance, buyer_of, checkout, checkout_ok, deliver, deliver_ok, deliver_raw, open_shop,
    product, redrive, redrive_ok, saga_starts, status_of,
};
use crate::fake_stripe::{FakeStripe, unix_now};
use crate::product_events::subscribe;
use futures::future::join_all;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badly_signed_event_is_400_and_records_nothing() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    let mut events = subscribe(&shop.redis).await;
    let event = shop.stripe.complete(&session_id, "paid");
    let now = unix_now();
    let (payload, good) = FakeStripe::signed(&event, now);
    let (_, wrong_secret) = FakeStripe::signed_with("whsec_not_the_endpoint_secret", &event, now);
    let (_, old) = FakeStripe::signed(&event, now - 301);
    let mut changed = payload.clone().into_bytes();
    let last = changed
        .iter()
        .rposition(|b| b.is_ascii_digit())
        .expect("a digit");
    changed[last] = if changed[last] == b'9' {
        b'8'
    } else {
        changed[last] + 1
    };
    let changed = String::from_utf8(changed).expect("still text");

    let cases: [(&str, String, Option<String>); 6] = [
        ("missing", payload.clone(), None),
        ("malformed", payload.clone(), Some("v1=abc,t=zzz".into())),
        ("wrong secret", payload.clone(), Some(wrong_secret.clone())),
        ("301 s old", payload.clone(), Some(old)),
        ("body changed by one byte", changed, Some(good.clone())),
        ("empty", payload.clone(), Some(String::new())),
    ];
    for (case, payload, signature) in cases {
        let res = deliver_raw(app, payload, signature).await;
        assert_eq!(res.status(), 400, "{case}");
        let answer = body(res).await;
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invalid Stripe signature")),
            "{case}: {answer}"
        );
    }
    assert_eq!(status_of(&buyer, &session_id).await, "open");
    assert!(
        saga_starts(&mut events, Duration::from_millis(500))
            .await
            .is_empty()
    );

    // Two v1 signatures (Stripe rolling its secret), one of them right: accepted, and the
    // event id was not recorded by the refusals above, so it starts the saga now.
    let right = good.split(",v1=").nth(1).expect("a v1");
    let both = format!("{wrong_secret},v1={right}");
    let res = deliver_raw(app, payload, Some(both)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        saga_starts(&mut events, Duration::from_secs(2)).await.len(),
        1
    );
    assert_eq!(status_of(&buyer, &session_id).await, "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_events_five_times_in_any_order_start_one_saga() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 2).await;
    let session_id = checkout_ok(&buyer).await;
    let mut events = subscribe(&shop.redis).await;
    // A bank debit: completed unpaid, then paid days later.
    let completed = shop.stripe.complete(&session_id, "unpaid");
    let succeeded = shop
        .stripe
        .event("checkout.session.async_payment_succeeded", &session_id);
    // Both five times, shuffled (the payment before its completion included), at once.
    let order = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1];
    let deliveries = order.map(|n| if n == 0 { &completed } else { &succeeded });

    let answers = join_all(deliveries.iter().map(|event| deliver(app, event))).await;

    for res in answers {
        assert_eq!(res.status(), 200);
    }
    let starts = saga_starts(&mut events, Duration::from_secs(2)).await;
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["sessionId"], session_id.as_str());
    assert_eq!(starts[0]["totalCents"], 4000);
    assert_eq!(status_of(&buyer, &session_id).await, "paid");
    assert_eq!(balance(&buyer).await, START - 40.0, "held once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_gives_its_stock_and_balance_back_once() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 1).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let other = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    assert_eq!(checkout(&other).await.status(), 409, "the unit is held");
    assert_eq!(balance(&buyer).await, START - 20.0);

    let expired = shop.stripe.event("checkout.session.expired", &session_id);
    deliver_ok(app, &expired).await;
    // Redelivered, and a second expiry event of the same session: nothing moves again.
    deliver_ok(app, &expired).await;
    deliver_ok(
        app,
        &FakeStripe::event_from(
            "checkout.session.expired",
            expired["data"]["object"].clone(),
        ),
    )
    .await;

    assert_eq!(status_of(&buyer, &session_id).await, "expired");
    assert_eq!(balance(&buyer).await, START, "given back exactly once");
    checkout_ok(&other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_payment_keeps_the_holds_until_it_fails_then_gives_them_back() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 1).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let other = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    let mut events = subscribe(&shop.redis).await;

    deliver_ok(app, &shop.stripe.complete(&session_id, "unpaid")).await;
    assert_eq!(status_of(&buyer, &session_id).await, "open");
    // A completed session is no longer the buyer's open one: a new checkout does not replace
    // it, and the pinned unit is not for sale.
    assert_eq!(checkout(&other).await.status(), 409);
    assert_eq!(balance(&buyer).await, START - 20.0);

    let failed = shop
        .stripe
        .event("checkout.session.async_payment_failed", &session_id);
    deliver_ok(app, &failed).await;
    deliver_ok(app, &failed).await;

    assert_eq!(status_of(&buyer, &session_id).await, "failed");
    assert_eq!(balance(&buyer).await, START);
    checkout_ok(&other).await;
    assert!(
        saga_starts(&mut events, Duration::from_millis(500))
            .await
            .is_empty(),
        "nothing was paid"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_are_not_ours_or_not_handled_are_acknowledged_and_change_nothing() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    let mut events = subscribe(&shop.redis).await;

    // Another integration's paid session on the same Stripe account.
    let stranger = json!({
        "id": "cs_test_not_ours", "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "payment_intent": "pi_not_ours", "amount_total": 999,
        "currency": "usd", "client_reference_id": "someone-elses-id",
        "metadata": { "checkoutId": "someone-elses-id" }
    });
    deliver_ok(
        app,
        &FakeStripe::event_from("checkout.session.completed", stranger),
    )
    .await;
    // A type checkout does not handle, about our session.
    let session = shop.stripe.session(&session_id).expect("kept");
    deliver_ok(
        app,
        &FakeStripe::event_from("checkout.session.updated", session),
    )
    .await;
    deliver_ok(
        app,
        &FakeStripe::event_from(
            "charge.refunded",
            json!({ "id": "ch_1", "object": "charge" }),
        ),
    )
    .await;

    assert!(
        saga_starts(&mut events, Duration::from_millis(500))
            .await
            .is_empty()
    );
    assert_eq!(status_of(&buyer, &session_id).await, "open");
    assert_eq!(balance(&buyer).await, START - 20.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_event_while_redis_is_down_is_published_by_the_redrive_once_redis_is_back() {
    if crate::host::exempt_on_spin_because_redis_drops(
        "a_paid_event_while_redis_is_down_is_published_by_the_redrive_once_redis_is_back",
    ) {
        return;
    }
    let mut shop = open_shop(&[]).await;
    let (_, lamp) = product(&shop.app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(&shop.app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    let completed = shop.stripe.complete(&session_id, "paid");
    shop.redis.stop();

    deliver_ok(&shop.app, &completed).await;

    assert_eq!(status_of(&buyer, &session_id).await, "paid");
    let unauthorized = [None, Some("not-the-redrive-secret")];
    for secret in unauthorized {
        let res = redrive(&shop.app, secret).await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            body(res).await["message"],
            "Missing or invalid re-drive credentials"
        );
    }
    let down = redrive_ok(&shop.app).await;
    assert_eq!(
        (&down["published"], &down["pending"]),
        (&json!(0), &json!(1))
    );

    shop.redis.restart().await.expect("redis-server restarts");
    let mut events = subscribe(&shop.redis).await;
    let up = redrive_ok(&shop.app).await;
    assert_eq!((&up["published"], &up["pending"]), (&json!(1), &json!(0)));
    let again = redrive_ok(&shop.app).await;
    assert_eq!(again["published"], 0, "published once");

    let starts = saga_starts(&mut events, Duration::from_secs(2)).await;
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(starts[0]["sessionId"], session_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_checkout_shows_its_order_and_is_not_redriven_once_the_order_settled() {
    let shop = open_shop(&[("redrive_quiet_secs", "0")]).await;
    let app = &shop.app;
    let (_, lamp) = product(app, "Lamp", 20.0, 5).await;
    let buyer = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    deliver_ok(app, &shop.stripe.complete(&session_id, "paid")).await;

    let order = crate::saga::settled_order(&buyer).await;
    assert_eq!(order["status"], "COMPLETED");
    let res = crate::checkout::session_status(&buyer, &session_id).await;
    assert_eq!(
        body(res).await,
        json!({ "sessionId": session_id, "status": "paid", "orderId": order["id"] })
    );
    assert_eq!(
        redrive_ok(app).await["republished"],
        0,
        "settled: left alone"
    );
    assert_eq!(redrive_ok(app).await["republished"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_forgets_event_ids_after_a_month_so_it_stays_bounded() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let old = FakeStripe::event_from(
        "charge.refunded",
        json!({ "id": "ch_1", "object": "charge" }),
    );
    deliver_ok(app, &old).await;
    let inbox =
        rusqlite::Connection::open(app.app.state_dir().join("checkout.db")).expect("checkout.db");
    let count = |id: &str| -> i64 {
        inbox
            .query_row(
                "SELECT count(*) FROM stripe_events WHERE id = ?",
                [id],
                |row| row.get(0),
            )
            .expect("a count")
    };
    let old_id = old["id"].as_str().expect("id");
    assert_eq!(count(old_id), 1);
    // Stripe stopped retrying it long ago: 31 days.
    inbox
        .execute(
            "UPDATE stripe_events SET received_at = received_at - 31 * 86400000 WHERE id = ?",
            [old_id],
        )
        .expect("ageing the row");

    let new = FakeStripe::event_from(
        "charge.refunded",
        json!({ "id": "ch_2", "object": "charge" }),
    );
    deliver_ok(app, &new).await;

    assert_eq!(count(old_id), 0, "forgotten");
    assert_eq!(count(new["id"].as_str().expect("id")), 1, "remembered");
}
