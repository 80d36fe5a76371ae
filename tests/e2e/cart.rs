//! The cart: a signed-in shopper adds products, sees them with live product data, changes
//! quantities and removes them; every route is the caller's own cart only.

use crate::api::{SignedIn, TestUser, body};
use crate::catalog::{commit, now_ms, reserve};
use crate::helpers::{
    TestApp, project_manifest_variant, spawn_app, spawn_app_with_catalog_probe, spawn_beside,
};
use crate::products::{create, new_admin};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

const CART: &str = "/api/v1/cart-items";

fn item_path(item: &Value) -> String {
    format!("{CART}/{}", item["id"].as_str().expect("a cart item id"))
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// A seller (ADMIN) with one product of `quantity` units; the product as created.
async fn seller_with<'a>(app: &'a TestApp, name: &str, quantity: u32) -> (TestUser<'a>, Value) {
    let seller = new_admin(app, "Seller").await;
    let product = create(
        &seller,
        json!({
            "name": name,
            "description": format!("A fine {name}"),
            "price": 19.99,
            "quantity": quantity,
            "imageUrls": [format!("https://cdn.example.com/{name}.png")]
        }),
    )
    .await;
    (seller, product)
}

/// Adds as the storefront does; asserts 201 and answers the CartItem.
pub async fn add(buyer: &TestUser<'_>, product: &Value, quantity: u32) -> Value {
    let res = buyer
        .post(
            CART,
            json!({ "productId": product["id"], "quantity": quantity }),
        )
        .await;
    let status = res.status();
    let answer = body(res).await;
    assert_eq!(status, 201, "adding {}: {answer}", product["id"]);
    answer
}

async fn cart(user: &TestUser<'_>) -> Value {
    user.get_json(CART).await
}

async fn error(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let body = body(res).await;
    assert_eq!(body["statusCode"], status);
    body["message"].as_str().expect("a message").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopper_adds_lists_edits_and_deletes_a_cart_item() {
    let app = spawn_app().await;
    let (seller, mug) = seller_with(&app, "mug", 10).await;
    let buyer = app.new_user("Buyer").await;

    // The storefront's exact bodies: `{productId, quantity}` on POST and on PATCH.
    let added = add(&buyer, &mug, 2).await;
    assert_eq!(added["productId"], mug["id"]);
    assert_eq!(added["quantity"], 2);
    assert_eq!(added["product"], mug, "the product as the catalog shows it");
    assert!(
        added["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(added["createdAt"], added["updatedAt"]);

    let listed = cart(&buyer).await;
    assert_eq!(listed, json!([added]));
    let product = &listed[0]["product"];
    assert_eq!(product["id"], mug["id"]);
    assert_eq!(product["name"], "mug");
    assert_eq!(product["description"], "A fine mug");
    assert_eq!(product["price"], 19.99);
    assert_eq!(product["quantity"], 10);
    assert_eq!(
        product["imageUrls"],
        json!(["https://cdn.example.com/mug.png"])
    );
    assert_eq!(buyer.get_json(&item_path(&added)).await, added);

    let res = buyer
        .patch(
            &item_path(&added),
            json!({ "productId": mug["id"], "quantity": 5 }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let edited = body(res).await;
    assert_eq!(edited["id"], added["id"]);
    assert_eq!(edited["quantity"], 5);
    assert_eq!(edited["createdAt"], added["createdAt"]);
    assert_eq!(cart(&buyer).await, json!([edited]));

    // The product shown is the live one: a price change shows at once.
    let seller_path = format!("/api/v1/products/{}", id(&mug));
    let res = seller.patch(&seller_path, json!({ "price": 17.5 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(cart(&buyer).await[0]["product"]["price"], 17.5);

    let res = buyer.delete(&item_path(&added)).await;
    assert_eq!(res.status(), 200);
    let deleted = body(res).await;
    assert_eq!(deleted["id"], added["id"]);
    assert_eq!(deleted["quantity"], 5);
    assert_eq!(deleted["product"]["price"], 17.5);
    assert_eq!(cart(&buyer).await, json!([]));
    let message = error(buyer.get(&item_path(&added)).await, 404).await;
    assert_eq!(
        message,
        format!("Cart item with id {} not found", id(&added))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_product_already_in_the_cart_is_a_conflict() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let buyer = app.new_user("Buyer").await;
    let first = add(&buyer, &mug, 1).await;

    let res = buyer
        .post(CART, json!({ "productId": mug["id"], "quantity": 3 }))
        .await;

    assert_eq!(error(res, 409).await, "Cart item already exists");
    assert_eq!(cart(&buyer).await, json!([first]), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_the_stock_cannot_be_added_or_set_also_when_the_stock_is_zero() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 3).await;
    let (_other, sold_out) = seller_with(&app, "vase", 0).await;
    let buyer = app.new_user("Buyer").await;

    let res = buyer
        .post(CART, json!({ "productId": mug["id"], "quantity": 4 }))
        .await;
    let expected = format!("Product with id {} has insufficient quantity", id(&mug));
    assert_eq!(error(res, 400).await, expected);
    let res = buyer
        .post(CART, json!({ "productId": sold_out["id"], "quantity": 1 }))
        .await;
    let expected = format!(
        "Product with id {} has insufficient quantity",
        id(&sold_out)
    );
    assert_eq!(error(res, 400).await, expected);
    assert_eq!(cart(&buyer).await, json!([]), "nothing stored");

    let item = add(&buyer, &mug, 3).await;
    let res = buyer
        .patch(
            &item_path(&item),
            json!({ "productId": mug["id"], "quantity": 4 }),
        )
        .await;
    let expected = format!("Product with id {} has insufficient quantity", id(&mug));
    assert_eq!(error(res, 400).await, expected);
    assert_eq!(cart(&buyer).await[0]["quantity"], 3, "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stock_checked_is_what_is_available_net_of_reservations() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with(&app, "lamp", 5).await;
    let buyer = app.new_user("Buyer").await;
    let hold = reserve(&app, "held-by-checkout", &id(&lamp), 3, now_ms() + 600_000).await;
    assert_eq!(hold, json!({ "ok": null }));

    let res = buyer
        .post(CART, json!({ "productId": lamp["id"], "quantity": 3 }))
        .await;
    assert_eq!(
        error(res, 400).await,
        format!("Product with id {} has insufficient quantity", id(&lamp))
    );
    let item = add(&buyer, &lamp, 2).await;
    assert_eq!(item["product"]["quantity"], 2, "available, not on hand");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_can_buy_their_own_product_or_one_owned_by_the_anonymous_user() {
    let app = spawn_app_with_catalog_probe().await;
    let (seller, lamp) = seller_with(&app, "lamp", 5).await;
    let buyer = app.new_user("Buyer").await;

    let res = seller
        .post(CART, json!({ "productId": lamp["id"], "quantity": 1 }))
        .await;
    assert_eq!(
        error(res, 400).await,
        format!(
            "Product with id {} is your own; you cannot buy it",
            id(&lamp)
        )
    );
    assert_eq!(cart(&seller).await, json!([]));

    // Ordered once, then deleted by its seller: kept for the order, handed to ANONYMOUS.
    let earlier = add(&buyer, &lamp, 1).await;
    let reserved = reserve(&app, "order-1", &id(&lamp), 1, now_ms() + 600_000).await;
    assert_eq!(reserved, json!({ "ok": null }));
    assert_eq!(
        commit(&app, "order-1", &id(&lamp), 1).await,
        json!({ "ok": null })
    );
    let lamp_path = format!("/api/v1/products/{}", id(&lamp));
    assert_eq!(seller.delete(&lamp_path).await.status(), 200);
    let kept = body(app.get(&lamp_path).await).await;
    assert_eq!(kept["admin"]["name"], "Anonymous");

    assert_eq!(
        cart(&buyer).await,
        json!([]),
        "no longer for sale: gone from the cart"
    );
    assert_eq!(buyer.get(&item_path(&earlier)).await.status(), 404);
    let other = app.new_user("Other").await;
    let res = other
        .post(CART, json!({ "productId": lamp["id"], "quantity": 1 }))
        .await;
    assert_eq!(
        error(res, 400).await,
        format!("Product with id {} is no longer for sale", id(&lamp))
    );
    assert_eq!(cart(&other).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_item_is_not_found_and_stays_unchanged() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let owner = app.new_user("Owner").await;
    let intruder = app.new_user("Intruder").await;
    let item = add(&owner, &mug, 2).await;
    let path = item_path(&item);
    let not_found = format!("Cart item with id {} not found", id(&item));

    assert_eq!(error(intruder.get(&path).await, 404).await, not_found);
    let res = intruder
        .patch(&path, json!({ "productId": mug["id"], "quantity": 9 }))
        .await;
    assert_eq!(error(res, 404).await, not_found);
    assert_eq!(error(intruder.delete(&path).await, 404).await, not_found);
    assert_eq!(cart(&intruder).await, json!([]));
    assert_eq!(cart(&owner).await, json!([item]), "unchanged");

    let res = owner.get(&format!("{CART}/no-such-item")).await;
    assert_eq!(
        error(res, 404).await,
        "Cart item with id no-such-item not found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let buyer = app.new_user("Buyer").await;
    let pid = mug["id"].clone();

    let bad = [
        (json!({ "quantity": 1 }), "productId is required"),
        (json!({ "productId": pid }), "quantity is required"),
        (
            json!({ "productId": pid, "quantity": 0 }),
            "quantity must be at least 1",
        ),
        (
            json!({ "productId": pid, "quantity": -2 }),
            "quantity must be at least 1",
        ),
        (
            json!({ "productId": pid, "quantity": 1.5 }),
            "quantity must be an integer",
        ),
        (
            json!({ "productId": pid, "quantity": "2" }),
            "quantity must be an integer",
        ),
        (
            json!({ "productId": 7, "quantity": 1 }),
            "productId must be a string",
        ),
        (
            json!({ "productId": pid, "quantity": 1, "price": 0.01 }),
            "property price should not exist",
        ),
    ];
    for (body, message) in bad {
        let res = buyer.post(CART, body.clone()).await;
        assert_eq!(error(res, 400).await, message, "{body}");
    }
    let empty_id = buyer
        .post(CART, json!({ "productId": "", "quantity": 1 }))
        .await;
    assert!(error(empty_id, 400).await.starts_with("productId must be"));
    for raw in ["{\"productId\":", "[1]", "null", ""] {
        let request = app
            .request(Method::POST, CART)
            .bearer_auth(&buyer.token)
            .header("content-type", "application/json")
            .body(raw);
        assert_eq!(app.send(request).await.status(), 400, "{raw:?}");
    }
    let res = buyer
        .post(
            CART,
            json!({ "productId": "no-such-product", "quantity": 1 }),
        )
        .await;
    assert_eq!(
        error(res, 404).await,
        "Product with id no-such-product not found"
    );
    assert_eq!(cart(&buyer).await, json!([]), "nothing stored");

    let item = add(&buyer, &mug, 2).await;
    let (_other_seller, vase) = seller_with(&app, "vase", 10).await;
    let path = item_path(&item);
    for (body, message) in [
        (
            json!({ "productId": pid, "quantity": 0 }),
            "quantity must be at least 1".to_owned(),
        ),
        (
            json!({ "productId": pid }),
            "quantity is required".to_owned(),
        ),
        (
            json!({ "productId": pid, "quantity": 1, "userId": "x" }),
            "property userId should not exist".to_owned(),
        ),
        (
            json!({ "productId": vase["id"], "quantity": 1 }),
            format!(
                "productId must be the cart item's product ({}); remove the item and add the other product instead",
                id(&mug)
            ),
        ),
    ] {
        let res = buyer.patch(&path, body.clone()).await;
        assert_eq!(error(res, 400).await, message, "{body}");
    }
    assert_eq!(cart(&buyer).await, json!([item]), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_deleted_by_its_seller_disappears_from_carts_on_the_next_read() {
    let app = spawn_app().await;
    let (seller, mug) = seller_with(&app, "mug", 10).await;
    let (_other, vase) = seller_with(&app, "vase", 10).await;
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    let ann_mug = add(&ann, &mug, 1).await;
    let ann_vase = add(&ann, &vase, 1).await;
    let bob_mug = add(&bob, &mug, 2).await;

    let res = seller
        .delete(&format!("/api/v1/products/{}", id(&mug)))
        .await;
    assert_eq!(res.status(), 200);

    assert_eq!(cart(&ann).await, json!([ann_vase]));
    assert_eq!(cart(&bob).await, json!([]));
    assert_eq!(ann.get(&item_path(&ann_mug)).await.status(), 404);
    assert_eq!(bob.get(&item_path(&bob_mug)).await.status(), 404);
    // The line is gone, not hidden: adding the id again is about the product, not a conflict.
    let res = bob
        .post(CART, json!({ "productId": mug["id"], "quantity": 1 }))
        .await;
    assert_eq!(
        error(res, 404).await,
        format!("Product with id {} not found", id(&mug))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cart_route_needs_a_signed_in_user() {
    let app = spawn_app().await;
    let routes = [
        (Method::GET, CART.to_owned()),
        (Method::POST, CART.to_owned()),
        (Method::DELETE, CART.to_owned()),
        (Method::GET, format!("{CART}/some-id")),
        (Method::PATCH, format!("{CART}/some-id")),
        (Method::DELETE, format!("{CART}/some-id")),
    ];
    for (method, path) in routes {
        let body = json!({ "productId": "p", "quantity": 1 });
        let anonymous = app.request(method.clone(), &path).json(&body);
        let res = app.send(anonymous).await;
        assert_eq!(res.status(), 401, "{method} {path} without a token");
        let forged = app
            .request(method.clone(), &path)
            .bearer_auth("not-a-token")
            .json(&body);
        let res = app.send(forged).await;
        assert_eq!(res.status(), 401, "{method} {path} with a bad token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_cart_empties_only_the_callers_cart() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let (_other, vase) = seller_with(&app, "vase", 10).await;
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    add(&ann, &mug, 1).await;
    add(&ann, &vase, 1).await;
    let bobs = add(&bob, &mug, 4).await;

    let res = ann.delete(CART).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, json!({ "deleted": 2 }));
    assert_eq!(cart(&ann).await, json!([]));
    assert_eq!(cart(&bob).await, json!([bobs]), "untouched");

    let res = ann.delete(CART).await;
    assert_eq!(body(res).await, json!({ "deleted": 0 }), "already empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_add() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let buyer = app.new_user("Buyer").await;
    let add_with_key = |quantity: u32| {
        app.request(Method::POST, CART)
            .bearer_auth(&buyer.token)
            .header("idempotency-key", "add-mug-1")
            .json(&json!({ "productId": mug["id"], "quantity": quantity }))
    };

    let first = app.send(add_with_key(2)).await;
    assert_eq!(first.status(), 201);
    let first = body(first).await;
    let again = app.send(add_with_key(2)).await;
    assert_eq!(again.status(), 201, "the stored answer, not a 409");
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(body(again).await, first);
    assert_eq!(cart(&buyer).await, json!([first]), "added once");

    let other = app.send(add_with_key(3)).await;
    assert_eq!(other.status(), 422, "the same key with another body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_holds_at_most_100_products() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let buyer = app.new_user("Buyer").await;
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({ "name": format!("Item {i}"), "description": "Made to last", "price": 1, "quantity": 5 }))
        .collect();
    let res = seller
        .post("/api/v1/products/bulk", json!({ "products": batch }))
        .await;
    assert_eq!(res.status(), 201);
    let products = body(res).await;
    let extra = create(
        &seller,
        json!({ "name": "One more", "description": "Made to last", "price": 1, "quantity": 5 }),
    )
    .await;

    for product in products.as_array().expect("products") {
        add(&buyer, product, 1).await;
    }
    let res = buyer
        .post(CART, json!({ "productId": extra["id"], "quantity": 1 }))
        .await;
    assert_eq!(
        error(res, 400).await,
        "A cart holds at most 100 different products; remove one to add another"
    );
    let listed = cart(&buyer).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(100));
    assert_eq!(listed[0]["product"]["name"], "Item 0", "oldest first");
}

/// The project's manifest with the products component denied its database: every chained
/// batch lookup answers 500, as when the catalog's storage fails. (A manifest without any
/// `products` component is no test of the cart: Spin stops the calling guest at a chained
/// request to an unknown component, so the client gets an empty 500 whatever the cart does.)
fn manifest_with_failing_products() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        project_manifest_variant("failing-products", |project| {
            let grant = "sqlite_databases = [\"products\"]\n";
            assert_eq!(project.matches(grant).count(), 1, "products' grant");
            project.replace(grant, "")
        })
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_read_fails_with_503_when_the_catalog_fails() {
    let app = spawn_app().await;
    let (_seller, mug) = seller_with(&app, "mug", 10).await;
    let buyer = app.new_user("Buyer").await;
    let item = add(&buyer, &mug, 1).await;
    // The same data, served by an app whose products component fails every request.
    let offline = spawn_beside(&app, manifest_with_failing_products()).await;
    let token = buyer.token.as_str();

    let res = offline.call(Method::GET, CART, token, None).await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        body(res).await,
        json!({
            "statusCode": 503,
            "message": "Product catalog is unavailable; try again shortly",
            "error": "Service Unavailable"
        })
    );
    let path = item_path(&item);
    let res = offline.call(Method::GET, &path, token, None).await;
    assert_eq!(res.status(), 503);
    let add_body = json!({ "productId": mug["id"], "quantity": 1 });
    let res = offline
        .call(Method::POST, CART, token, Some(add_body))
        .await;
    assert_eq!(res.status(), 503);
    let res = offline.call(Method::DELETE, &path, token, None).await;
    assert_eq!(res.status(), 503);
    // What needs no catalog still works: a malformed edit, emptying the cart.
    let other = json!({ "productId": "another-product", "quantity": 1 });
    let res = offline.call(Method::PATCH, &path, token, Some(other)).await;
    assert_eq!(res.status(), 400);
    assert_eq!(cart(&buyer).await, json!([item]), "nothing lost or changed");
    let res = offline.call(Method::DELETE, CART, token, None).await;
    assert_eq!(body(res).await, json!({ "deleted": 1 }));

    assert_eq!(cart(&buyer).await, json!([]));
}
