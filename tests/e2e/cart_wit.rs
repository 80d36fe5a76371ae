//! Carts from the inside, as checkout and the order saga will use them: the `reen:cart/cart`
//! WIT export composed into an importer (the `cart-probe` fixture).

use crate::api::{SignedIn, TestUser, body};
use crate::helpers::{TestApp, manifest_with_fixture, spawn_app_with_cart_probe};
use crate::products::{create, new_admin};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The project's manifest plus the probe component composed with `cart.wasm` (built once per
/// test run). The probe has the `cart` label only: the export needs nothing else.
pub fn probe_manifest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        manifest_with_fixture(
            "cart-probe",
            r#"
[[trigger.http]]
route = "/e2e/..."
component = "cart-probe"

[component.cart-probe]
source = "{release}/cart_probe.wasm"
sqlite_databases = ["cart"]
dependencies_inherit_configuration = true
[component.cart-probe.dependencies]
"reen:cart/cart" = { path = "{release}/cart.wasm" }
"#,
        )
    })
    .clone()
}

const CART: &str = "/api/v1/cart-items";

async fn probe(app: &TestApp, method: Method, path: &str, payload: Value) -> Value {
    let request = app
        .request(method, &format!("/e2e/cart/{path}"))
        .json(&payload);
    let res = app.send(request).await;
    assert_eq!(res.status(), 200, "probe {path}");
    body(res).await
}

async fn items(app: &TestApp, user: &TestUser<'_>) -> Value {
    probe(app, Method::GET, &format!("items/{}", user.id), json!(null)).await
}

async fn remove_lines(app: &TestApp, user: &TestUser<'_>, products: &[&str]) -> Value {
    let body = json!({ "productIds": products });
    probe(
        app,
        Method::POST,
        &format!("remove-lines/{}", user.id),
        body,
    )
    .await
}

async fn clear(app: &TestApp, user: &TestUser<'_>) -> Value {
    probe(app, Method::POST, &format!("clear/{}", user.id), json!({})).await
}

async fn remove_product(app: &TestApp, product: &str) -> Value {
    probe(
        app,
        Method::POST,
        &format!("remove-product/{product}"),
        json!({}),
    )
    .await
}

/// Three products from one seller, their ids.
async fn three_products(app: &TestApp) -> Vec<String> {
    let seller = new_admin(app, "Seller").await;
    let mut ids = Vec::new();
    for name in ["Mug", "Vase", "Lamp"] {
        let product = create(
            &seller,
            json!({ "name": name, "description": "Made to last", "price": 5, "quantity": 10 }),
        )
        .await;
        ids.push(product["id"].as_str().expect("id").to_owned());
    }
    ids
}

async fn add(user: &TestUser<'_>, product: &str, quantity: u32) -> Value {
    let res = user
        .post(CART, json!({ "productId": product, "quantity": quantity }))
        .await;
    assert_eq!(res.status(), 201);
    body(res).await
}

async fn cart(user: &TestUser<'_>) -> Value {
    user.get_json(CART).await
}

/// The HTTP view reduced to what the WIT lines carry.
fn as_lines(view: &Value) -> Value {
    view.as_array()
        .expect("an array")
        .iter()
        .map(|item| json!({ "id": item["id"], "productId": item["productId"], "quantity": item["quantity"] }))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_the_lines_the_http_view_shows() {
    let app = spawn_app_with_cart_probe().await;
    let products = three_products(&app).await;
    let ann = app.new_user("Ann").await;
    for (product, quantity) in products.iter().zip([2, 1, 3]) {
        add(&ann, product, quantity).await;
    }

    let lines = items(&app, &ann).await;

    assert_eq!(lines["ok"], as_lines(&cart(&ann).await));
    assert_eq!(lines["ok"][2]["quantity"], 3);
    assert_eq!(
        probe(&app, Method::GET, "items/nobody", json!(null)).await,
        json!({ "ok": [] })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_lines_and_clear_twice_give_the_same_result() {
    let app = spawn_app_with_cart_probe().await;
    let [mug, vase, lamp] = <[String; 3]>::try_from(three_products(&app).await).expect("three");
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    for product in [&mug, &vase, &lamp] {
        add(&ann, product, 1).await;
    }
    let bobs_mug = add(&bob, &mug, 1).await;

    // The saga after an order of the mug and the vase (plus a product not in the cart).
    let bought = [mug.as_str(), vase.as_str(), "not-in-the-cart"];
    assert_eq!(remove_lines(&app, &ann, &bought).await, json!({ "ok": 2 }));
    assert_eq!(
        remove_lines(&app, &ann, &bought).await,
        json!({ "ok": 0 }),
        "again: nothing more"
    );
    let left = cart(&ann).await;
    assert_eq!(left.as_array().map(Vec::len), Some(1));
    assert_eq!(left[0]["productId"], lamp.as_str());
    assert_eq!(cart(&bob).await, json!([bobs_mug]), "other carts untouched");

    assert_eq!(clear(&app, &ann).await, json!({ "ok": 1 }));
    assert_eq!(
        clear(&app, &ann).await,
        json!({ "ok": 0 }),
        "again: nothing more"
    );
    assert_eq!(cart(&ann).await, json!([]));
    assert_eq!(items(&app, &ann).await, json!({ "ok": [] }));
    assert_eq!(cart(&bob).await, json!([bobs_mug]), "other carts untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_product_takes_a_product_out_of_every_cart() {
    let app = spawn_app_with_cart_probe().await;
    let [mug, vase, _lamp] = <[String; 3]>::try_from(three_products(&app).await).expect("three");
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    add(&ann, &mug, 1).await;
    let anns_vase = add(&ann, &vase, 1).await;
    add(&bob, &mug, 2).await;

    assert_eq!(remove_product(&app, &mug).await, json!({ "ok": 2 }));
    assert_eq!(
        remove_product(&app, &mug).await,
        json!({ "ok": 0 }),
        "again: nothing more"
    );

    assert_eq!(cart(&ann).await, json!([anns_vase]));
    assert_eq!(cart(&bob).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_read_deletes_the_lines_of_products_that_are_gone() {
    let app = spawn_app_with_cart_probe().await;
    let seller = new_admin(&app, "Seller").await;
    let mug = create(
        &seller,
        json!({ "name": "Mug", "description": "Made to last", "price": 5, "quantity": 10 }),
    )
    .await;
    let mug_id = mug["id"].as_str().expect("id");
    let ann = app.new_user("Ann").await;
    add(&ann, mug_id, 1).await;
    // The product vanishes without its `product.removed` reaching the events component (a
    // lost message): nothing but the next read can notice.
    let products =
        rusqlite::Connection::open(app.app.state_dir().join("products.db")).expect("products.db");
    products
        .execute("DELETE FROM products WHERE id = ?", [mug_id])
        .expect("deleting the row");
    assert_eq!(
        items(&app, &ann).await["ok"].as_array().map(Vec::len),
        Some(1),
        "stored until a read notices"
    );

    assert_eq!(cart(&ann).await, json!([]));

    assert_eq!(
        items(&app, &ann).await,
        json!({ "ok": [] }),
        "the line is deleted"
    );
}
