//! `product.removed` on the events channel: a real `redis-server`, subscribed to the way the
//! cart's consumer will be, receives one event per removed product, also when Redis was down
//! at the time of the removal (the event waits in the products outbox).

use crate::api::{SignedIn, TestUser, body};
use crate::catalog::{commit, now_ms, reserve};
use crate::helpers::{TestApp, spawn_manifest_with};
use futures::StreamExt;
use reen_host::testing::RedisServer;
use serde_json::{Value, json};
use std::time::Duration;

pub const CHANNEL: &str = "e2e-events";

async fn app_publishing_to(redis: &RedisServer) -> TestApp {
    let manifest = crate::catalog::probe_manifest();
    let url = redis.url();
    spawn_manifest_with(
        manifest,
        &[("redis_url", &url), ("events_channel", CHANNEL)],
    )
    .await
}

/// A subscription to the events channel, as a stream of parsed events.
pub async fn subscribe(redis: &RedisServer) -> impl futures::Stream<Item = Value> + Unpin {
    let mut pubsub = redis
        .client()
        .get_async_pubsub()
        .await
        .expect("subscriber connects");
    pubsub.subscribe(CHANNEL).await.expect("subscribes");
    Box::pin(pubsub.into_on_message().map(|message| {
        let payload: String = message.get_payload().expect("a text payload");
        serde_json::from_str(&payload).expect("a JSON event")
    }))
}

pub async fn next_event(events: &mut (impl futures::Stream<Item = Value> + Unpin)) -> Value {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the subscription stays open")
}

async fn admin_product<'a>(
    app: &'a TestApp,
    seller: Option<TestUser<'a>>,
    name: &str,
) -> (TestUser<'a>, String) {
    let seller = match seller {
        Some(seller) => seller,
        None => {
            let user = app.new_user("Seller").await;
            let res = user
                .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
                .await;
            assert_eq!(res.status(), 200);
            user
        }
    };
    let res = seller
        .post(
            "/api/v1/products",
            json!({ "name": name, "description": "Made to last", "price": 10, "quantity": 5 }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = body(res).await["id"].as_str().expect("id").to_owned();
    (seller, id)
}

fn assert_removed(event: &Value, product: &str, reason: &str) {
    assert_eq!(event["type"], "product.removed");
    assert_eq!(event["productId"], product);
    assert_eq!(event["reason"], reason);
    assert!(event["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(
        event["occurredAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_products_publishes_one_event_each() {
    let redis = RedisServer::start().await.expect("redis-server starts");
    let app = app_publishing_to(&redis).await;
    let mut events = subscribe(&redis).await;
    let (seller, vase) = admin_product(&app, None, "Vase").await;
    let (seller, lamp) = admin_product(&app, Some(seller), "Lamp").await;
    let (seller, bowl) = admin_product(&app, Some(seller), "Bowl").await;

    // The lamp is ordered (reserved and committed, as the order saga does), so deleting it
    // hands it to the ANONYMOUS user: still removed from sale.
    reserve(&app, "order-1", &lamp, 1, now_ms() + 600_000).await;
    assert_eq!(
        commit(&app, "order-1", &lamp, 1).await,
        json!({ "ok": null })
    );

    assert_eq!(
        seller
            .delete(&format!("/api/v1/products/{vase}"))
            .await
            .status(),
        200
    );
    assert_removed(&next_event(&mut events).await, &vase, "deleted");

    let res = seller
        .post(
            "/api/v1/products/bulk-delete",
            json!({ "ids": [lamp, bowl] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let first = next_event(&mut events).await;
    let second = next_event(&mut events).await;
    assert_removed(&first, &lamp, "anonymized");
    assert_removed(&second, &bowl, "deleted");
    assert_ne!(first["id"], second["id"], "each event has its own id");

    // Creating or changing a product is no removal.
    admin_product(&app, Some(seller), "Cup").await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), events.next()).await;
    assert!(quiet.is_err(), "no further event: {quiet:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_waits_in_the_outbox_while_redis_is_down() {
    if crate::host::exempt_on_spin_because_redis_drops(
        "an_event_waits_in_the_outbox_while_redis_is_down",
    ) {
        return;
    }
    let mut redis = RedisServer::start().await.expect("redis-server starts");
    let app = app_publishing_to(&redis).await;
    let (seller, vase) = admin_product(&app, None, "Vase").await;

    redis.stop();
    let res = seller.delete(&format!("/api/v1/products/{vase}")).await;
    assert_eq!(res.status(), 200, "the removal does not depend on Redis");
    assert_eq!(
        app.get(&format!("/api/v1/products/{vase}")).await.status(),
        404
    );

    redis.restart().await.expect("redis-server restarts");
    let mut events = subscribe(&redis).await;
    // The next write relays what is waiting.
    admin_product(&app, Some(seller), "Lamp").await;
    assert_removed(&next_event(&mut events).await, &vase, "deleted");
}
