//! Account deletion end to end (api-contract §7): `DELETE /auth/users/me` or Clerk's
//! `user.deleted` reaches the Redis-triggered `events` component as `account.deleted`, which
//! clears the user's cart, deletes their products never ordered, hands the ordered ones to the
//! ANONYMOUS user, takes both out of every cart and completes the deletion in auth. Orders are
//! kept. Repeats change nothing, and a deletion whose message was lost is completed by the
//! re-drive. Carts are checked in the cart database, so no cart read's self-healing helps.

use crate::api::{PASSWORD, SignedIn, TestUser, body};
use crate::auth_clerk::deliver as deliver_clerk;
use crate::cart::add;
use crate::checkout::{Shop, buyer_of, checkout_ok, deliver_ok, open_shop, product, redrive_ok};
use crate::fake_clerk::webhook;
use crate::fake_stripe::FakeStripe;
use crate::helpers::TestApp;
use crate::product_events::{CHANNEL, subscribe};
use crate::saga::settled_order;
use futures::StreamExt as _;
use rusqlite::Connection;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A seller about to be deleted and everything their deletion must change or keep.
struct Scene<'a> {
    seller_id: String,
    /// The seller's product nobody ordered: deleted.
    kettle: Value,
    /// The seller's product `buyer` ordered: kept for the order, handed to ANONYMOUS.
    lamp: Value,
    /// Another seller's product, in the seller's own cart and in `other`'s.
    mug: Value,
    buyer: TestUser<'a>,
    /// Has the kettle, the lamp and the mug in their cart.
    other: TestUser<'a>,
}

fn id(product: &Value) -> &str {
    product["id"].as_str().expect("a product id")
}

/// An ADMIN `seller` (signed up or from Clerk) with a kettle and a lamp for sale and another
/// seller's mug in their cart; a buyer whose order of the lamp completed; another shopper
/// with the kettle, the lamp and the mug in their cart.
async fn scene<'a>(
    app: &'a TestApp,
    stripe: &FakeStripe,
    seller: &impl SignedIn,
    seller_id: &str,
) -> Scene<'a> {
    let res = seller
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(res.status(), 200, "upgrade to ADMIN");
    let mut listed = Vec::new();
    for name in ["Kettle", "Lamp"] {
        let res = seller
            .post(
                "/api/v1/products",
                json!({ "name": name, "description": format!("A fine {name}"),
                        "price": 20.0, "quantity": 5 }),
            )
            .await;
        assert_eq!(res.status(), 201, "{name} listed");
        listed.push(body(res).await);
    }
    let (lamp, kettle) = (listed.pop().expect("lamp"), listed.pop().expect("kettle"));
    let (_, mug) = product(app, "Mug", 5.0, 10).await;
    let res = seller
        .post(
            "/api/v1/cart-items",
            json!({ "productId": mug["id"], "quantity": 1 }),
        )
        .await;
    assert_eq!(res.status(), 201, "the seller's own cart");

    let buyer = buyer_of(app, &lamp, 1).await;
    let session_id = checkout_ok(&buyer).await;
    deliver_ok(app, &stripe.complete(&session_id, "paid")).await;
    assert_eq!(settled_order(&buyer).await["status"], "COMPLETED");

    let other = buyer_of(app, &kettle, 1).await;
    add(&other, &lamp, 1).await;
    add(&other, &mug, 2).await;
    Scene {
        seller_id: seller_id.to_owned(),
        kettle,
        lamp,
        mug,
        buyer,
        other,
    }
}

/// One integer read from one of the app's database files.
fn count(app: &TestApp, database: &str, sql: &str, param: &str) -> i64 {
    let db = Connection::open(app.app.state_dir().join(database)).expect("opening the database");
    db.query_row(sql, [param], |row| row.get(0))
        .expect("a count")
}

/// The deletion's row in auth's database: `(status, completed_at)`.
fn deletion_row(app: &TestApp, user_id: &str) -> Option<(String, Option<i64>)> {
    let db = Connection::open(app.app.state_dir().join("auth.db")).expect("opening auth.db");
    db.query_row(
        "SELECT status, completed_at FROM account_deletions WHERE user_id = ?",
        [user_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .ok()
}

fn completed(app: &TestApp, user_id: &str) -> bool {
    deletion_row(app, user_id).is_some_and(|(status, _)| status == "completed")
}

/// Waits up to 20 s for the deletion of `user_id` to complete.
pub async fn completion(app: &TestApp, user_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !completed(app, user_id) {
        assert!(
            Instant::now() < deadline,
            "the deletion of {user_id} did not complete within 20 s: {:?}",
            deletion_row(app, user_id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Everything a completed deletion of the scene's seller shows.
async fn assert_deleted(app: &TestApp, scene: &Scene<'_>) {
    let seller = scene.seller_id.as_str();
    assert_eq!(
        app.get(&format!("/api/v1/products/{}", id(&scene.kettle)))
            .await
            .status(),
        404,
        "the product nobody ordered is deleted"
    );
    let lamp = body(
        app.get(&format!("/api/v1/products/{}", id(&scene.lamp)))
            .await,
    )
    .await;
    let users = scene.other.get_json("/api/v1/auth/find-all").await;
    let anonymous = users
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["role"] == "ANONYMOUS")
        .expect("the ANONYMOUS user");
    assert_eq!(
        lamp["adminId"], anonymous["id"],
        "the ordered product is kept"
    );
    assert_eq!(lamp["admin"]["name"], "Anonymous");
    let res = scene
        .buyer
        .post(
            "/api/v1/cart-items",
            json!({ "productId": scene.lamp["id"], "quantity": 1 }),
        )
        .await;
    assert_eq!(res.status(), 400, "no longer for sale");
    assert_eq!(
        body(res).await["message"],
        format!("Product with id {} is no longer for sale", id(&scene.lamp))
    );

    // The carts, as stored (nobody read one since).
    for product in [&scene.kettle, &scene.lamp] {
        assert_eq!(
            count(
                app,
                "cart.db",
                "SELECT count(*) FROM cart_items WHERE product_id = ?",
                id(product)
            ),
            0,
            "{} left every cart",
            product["name"]
        );
    }
    assert_eq!(
        count(
            app,
            "cart.db",
            "SELECT count(*) FROM cart_items WHERE user_id = ?",
            seller
        ),
        0,
        "the seller's cart is empty"
    );
    let cart = scene.other.get_json("/api/v1/cart-items").await;
    let left: Vec<&Value> = cart
        .as_array()
        .expect("items")
        .iter()
        .map(|i| &i["productId"])
        .collect();
    assert_eq!(left, vec![&scene.mug["id"]], "other products stay: {cart}");

    // The order is kept with its line and product.
    let orders = scene.buyer.get_json("/api/v1/orders").await;
    let order = &orders[0];
    assert_eq!(order["status"], "COMPLETED");
    let items = order["orderItems"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{order}");
    assert_eq!(items[0]["productId"], scene.lamp["id"]);
    assert_eq!(items[0]["quantity"], 1);
    assert_eq!(items[0]["price"], 20.0);
    assert_eq!(items[0]["product"]["name"], "Lamp");
    assert_eq!(items[0]["product"]["adminId"], anonymous["id"]);

    // Auth keeps a tombstone: the id, nothing that identified the person.
    assert_eq!(
        count(
            app,
            "auth.db",
            "SELECT count(*) FROM users WHERE id = ? AND deleted_at IS NOT NULL
             AND email IS NULL AND password_hash IS NULL AND name = 'Deleted user'",
            seller
        ),
        1,
        "the user's row is erased"
    );
    assert_eq!(
        count(
            app,
            "auth.db",
            "SELECT count(*) FROM token_families WHERE user_id = ?",
            seller
        ),
        0,
        "no sessions are kept"
    );
}

/// The `account.deleted` events of `user_id` published within `wait`, and the
/// `product.removed` events as `(productId, reason)`.
async fn events_seen(
    events: &mut (impl futures::Stream<Item = Value> + Unpin),
    user_id: &str,
    wait: Duration,
) -> (Vec<Value>, Vec<(String, String)>) {
    let mut deleted = Vec::new();
    let mut removed = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.next()).await {
        match event["type"].as_str() {
            Some("account.deleted") if event["userId"] == user_id => deleted.push(event),
            Some("product.removed") => removed.push((
                event["productId"].as_str().unwrap_or_default().to_owned(),
                event["reason"].as_str().unwrap_or_default().to_owned(),
            )),
            _ => {}
        }
    }
    (deleted, removed)
}

/// Publishes `event` on the events channel, as a redelivery would.
async fn publish_again(shop: &Shop, event: &Value) {
    let mut publisher = shop
        .redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .expect("publisher");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(event.to_string())
        .query_async(&mut publisher)
        .await
        .expect("publish");
}

/// Asserts the deletion completed once: the same row and time after `event` is delivered
/// again, and nothing else changed.
async fn assert_completed_once(shop: &Shop, scene: &Scene<'_>, event: &Value) {
    let first = deletion_row(&shop.app, &scene.seller_id).expect("the deletion's row");
    publish_again(shop, event).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        deletion_row(&shop.app, &scene.seller_id),
        Some(first),
        "completed once"
    );
    assert_eq!(
        count(
            &shop.app,
            "auth.db",
            "SELECT count(*) FROM account_deletions WHERE user_id = ?",
            &scene.seller_id
        ),
        1
    );
    assert_eq!(
        redrive_ok(&shop.app).await["deletions"],
        0,
        "the re-drive reaches auth and finds nothing pending"
    );
    assert_deleted(&shop.app, scene).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_who_deletes_their_account_leaves_orders_intact_and_nothing_for_sale() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let seller = app.new_user("Seller").await;
    let scene = scene(&shop.app, &shop.stripe, &seller, &seller.id).await;
    let mut events = subscribe(&shop.redis).await;

    let res = seller.delete("/api/v1/auth/users/me").await;
    assert_eq!(res.status(), 202);
    assert_eq!(body(res).await, json!({ "status": "deleting" }));
    let again = seller.delete("/api/v1/auth/users/me").await;
    assert_eq!(again.status(), 401, "the account is gone for its own token");

    completion(app, &seller.id).await;
    assert_deleted(&shop.app, &scene).await;
    assert_eq!(app.sign_in(&seller.email, PASSWORD).await.status(), 401);
    assert_eq!(seller.get("/api/v1/auth/users/me").await.status(), 401);
    let (deleted, mut removed) = events_seen(&mut events, &seller.id, Duration::from_secs(1)).await;
    assert_eq!(deleted.len(), 1, "one account.deleted: {deleted:?}");
    assert_eq!(deleted[0]["userId"], seller.id.as_str());
    removed.sort();
    let mut expected = vec![
        (id(&scene.kettle).to_owned(), "deleted".to_owned()),
        (id(&scene.lamp).to_owned(), "anonymized".to_owned()),
    ];
    expected.sort();
    assert_eq!(
        removed, expected,
        "product.removed for each, as products publishes"
    );
    assert_completed_once(&shop, &scene, &deleted[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_user_deleted_twice_by_webhook_is_deleted_once_with_the_same_effects() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let seller = app.clerk_user("user_2deleted_seller", "Sam", "Seller");
    let seller_id = seller.me().await["id"].as_str().expect("an id").to_owned();
    let scene = scene(&shop.app, &shop.stripe, &seller, &seller_id).await;
    let mut events = subscribe(&shop.redis).await;
    let clerk_calls = app.clerk.requests().len();

    let data = json!({ "id": "user_2deleted_seller", "object": "user", "deleted": true });
    for svix_id in ["msg_deleted_1", "msg_deleted_1", "msg_deleted_2"] {
        let res = deliver_clerk(app, &webhook(svix_id, "user.deleted", data.clone())).await;
        assert_eq!(res.status(), 200, "{svix_id}");
        assert_eq!(body(res).await, json!({ "received": true }));
    }

    completion(app, &seller_id).await;
    assert_deleted(&shop.app, &scene).await;
    assert_eq!(seller.get("/api/v1/auth/users/me").await.status(), 401);
    assert_eq!(
        app.clerk.requests().len(),
        clerk_calls,
        "a deleted Clerk user is never provisioned again"
    );
    let (deleted, removed) = events_seen(&mut events, &seller_id, Duration::from_secs(1)).await;
    assert_eq!(deleted.len(), 1, "one account.deleted: {deleted:?}");
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert_completed_once(&shop, &scene, &deleted[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_whose_message_was_lost_is_completed_by_the_redrive() {
    if crate::host::exempt_on_spin_because_redis_drops(
        "a_deletion_whose_message_was_lost_is_completed_by_the_redrive",
    ) {
        return;
    }
    let mut shop = open_shop(&[("redrive_quiet_secs", "0")]).await;
    let seller = shop.app.new_user("Seller").await;
    let scene = scene(&shop.app, &shop.stripe, &seller, &seller.id).await;

    shop.redis.stop();
    let res = seller.delete("/api/v1/auth/users/me").await;
    assert_eq!(res.status(), 202, "the deletion does not depend on Redis");
    assert_eq!(seller.get("/api/v1/auth/users/me").await.status(), 401);
    shop.redis.restart().await.expect("redis-server restarts");
    let mut events = subscribe(&shop.redis).await;
    assert!(
        !completed(&shop.app, &seller.id),
        "nothing completed it yet"
    );

    // The events trigger reconnects within a few seconds; until then what the re-drive
    // publishes is lost too, and it publishes again.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut republished = 0;
    while !completed(&shop.app, &seller.id) {
        let redriven = redrive_ok(&shop.app).await;
        republished += redriven["deletions"].as_i64().expect("a deletions count");
        assert!(Instant::now() < deadline, "not completed: {redriven}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(republished >= 1, "the re-drive sent the deletion again");
    assert_deleted(&shop.app, &scene).await;
    assert_eq!(
        redrive_ok(&shop.app).await["deletions"],
        0,
        "a completed deletion is not sent again"
    );
    let (deleted, _) = events_seen(&mut events, &seller.id, Duration::from_millis(300)).await;
    let event = deleted.first().expect("an account.deleted went out");
    assert_completed_once(&shop, &scene, event).await;
}
