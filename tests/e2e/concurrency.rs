//! Concurrent writers, as a storefront's users produce them, on whichever host this run uses:
//! on real Spin every request opens its own SQLite connection to a rollback-journal database
//! (writers queue on the file lock, 5 s busy timeout), on reen-host connections are reused on
//! WAL databases. Each outcome must be the same on both. (The reservations race is in
//! `catalog.rs`, concurrent first requests of a Clerk user in `auth_clerk.rs`.)

use crate::api::{SignedIn, body};
use crate::helpers::spawn_app;
use crate::products::{create, new_admin};
use futures::future::join_all;
use serde_json::{Value, json};

const CART: &str = "/api/v1/cart-items";

fn product(n: usize) -> Value {
    json!({
        "name": format!("Lamp {n}"),
        "description": "A desk lamp",
        "price": 10,
        "quantity": 10,
        "imageUrls": ["https://cdn.example.com/lamp.png"]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_creations_each_list_a_product_and_pay_one_fee() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let balance = seller.me().await["balance"].as_f64().expect("a balance");

    let answers = join_all((0..20).map(|n| seller.post("/api/v1/products", product(n)))).await;

    let statuses: Vec<u16> = answers.iter().map(|res| res.status().as_u16()).collect();
    assert_eq!(statuses, vec![201; 20]);
    let listed = app.get("/api/v1/products?limit=100").await;
    assert_eq!(body(listed).await["meta"]["total"], 20);
    // 4% of 10.00 × 10 = 4.00 per product, each charged exactly once.
    assert_eq!(
        seller.me().await["balance"].as_f64(),
        Some(balance - 20.0 * 4.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_of_one_product_make_one_cart_line() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let lamp = create(&seller, product(0)).await;
    let buyer = app.new_user("Buyer").await;

    let answers = join_all((1..=10).map(|quantity| {
        buyer.post(
            CART,
            json!({ "productId": lamp["id"], "quantity": quantity }),
        )
    }))
    .await;

    let mut created = Vec::new();
    for res in answers {
        match res.status().as_u16() {
            201 => created.push(body(res).await),
            409 => {}
            other => panic!("expected 201 or 409, got {other}: {}", body(res).await),
        }
    }
    assert_eq!(created.len(), 1, "exactly one add wins: {created:?}");
    let cart = buyer.get_json(CART).await;
    assert_eq!(cart.as_array().map(Vec::len), Some(1));
    assert_eq!(cart[0]["id"], created[0]["id"]);
    assert_eq!(cart[0]["quantity"], created[0]["quantity"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_of_different_products_all_land() {
    let app = spawn_app().await;
    let seller = new_admin(&app, "Seller").await;
    let mut lamps = Vec::new();
    for n in 0..10 {
        lamps.push(create(&seller, product(n)).await);
    }
    let buyer = app.new_user("Buyer").await;

    let answers = join_all(
        lamps
            .iter()
            .map(|lamp| buyer.post(CART, json!({ "productId": lamp["id"], "quantity": 2 }))),
    )
    .await;

    let statuses: Vec<u16> = answers.iter().map(|res| res.status().as_u16()).collect();
    assert_eq!(statuses, vec![201; 10]);
    let cart = buyer.get_json(CART).await;
    let mut in_cart: Vec<&str> = cart
        .as_array()
        .expect("an array")
        .iter()
        .map(|line| line["productId"].as_str().expect("a product id"))
        .collect();
    let mut wanted: Vec<&str> = lamps
        .iter()
        .map(|l| l["id"].as_str().expect("id"))
        .collect();
    in_cart.sort_unstable();
    wanted.sort_unstable();
    assert_eq!(in_cart, wanted);
}
