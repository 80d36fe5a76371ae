//! The catalog from the inside, as checkout and the order saga will use it: the
//! `reen:catalog/catalog` WIT export composed into an importer (the `catalog-probe` fixture).

use crate::api::{SignedIn, TestUser, body};
use crate::helpers::{TestApp, manifest_with_fixture, spawn_app_with_catalog_probe};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The project's manifest plus the probe component composed with `products.wasm` (built once
/// per test run).
pub fn probe_manifest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        manifest_with_fixture(
            "catalog-probe",
            r#"
[[trigger.http]]
route = "/e2e/..."
component = "catalog-probe"

[component.catalog-probe]
source = "{release}/catalog_probe.wasm"
# No key-value store: the export's stock changes make cached reads stale in their own
# transaction, without the `cache` store.
sqlite_databases = ["products"]
dependencies_inherit_configuration = true
[component.catalog-probe.dependencies]
"reen:catalog/catalog" = { path = "{release}/products.wasm" }
"#,
        )
    })
    .clone()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

pub async fn probe(app: &TestApp, path: &str, body: Value) -> Value {
    let res = app.post_json(&format!("/e2e/catalog/{path}"), &body).await;
    assert_eq!(res.status(), 200, "probe {path}");
    crate::api::body(res).await
}

pub async fn reserve(app: &TestApp, id: &str, product: &str, quantity: u32, expires: i64) -> Value {
    let lines = json!([{ "productId": product, "quantity": quantity }]);
    probe(
        app,
        &format!("reserve/{id}"),
        json!({ "lines": lines, "expiresAtMs": expires }),
    )
    .await
}

async fn stock(app: &TestApp, product: &str) -> Value {
    let answer = probe(app, "get-many", json!({ "ids": [product, "unknown"] })).await;
    let products = answer["ok"].as_array().expect("get-many succeeds").clone();
    assert_eq!(products.len(), 1, "unknown ids are left out");
    products[0].clone()
}

async fn seller_with_product<'a>(app: &'a TestApp, quantity: u32) -> (TestUser<'a>, String) {
    let seller = app.new_user("Seller").await;
    let res = seller
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(res.status(), 200);
    let res = seller
        .post(
            "/api/v1/products",
            json!({ "name": "Lamp", "description": "Made to last", "price": 30, "quantity": quantity,
                    "imageUrls": ["https://cdn.example.com/lamp.png"] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = body(res).await["id"].as_str().expect("id").to_owned();
    (seller, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_commit_and_release_each_act_once() {
    let app = spawn_app_with_catalog_probe().await;
    let (seller, lamp) = seller_with_product(&app, 5).await;
    let later = now_ms() + 600_000;

    let summary = stock(&app, &lamp).await;
    assert_eq!(summary["priceCents"], 3000);
    assert_eq!(summary["onHand"], 5);
    assert_eq!(summary["available"], 5);
    assert_eq!(summary["sellerId"], seller.id.as_str());
    assert_eq!(
        summary["imageUrls"],
        json!(["https://cdn.example.com/lamp.png"])
    );

    assert_eq!(
        reserve(&app, "r1", &lamp, 2, later).await,
        json!({ "ok": null })
    );
    assert_eq!(
        reserve(&app, "r1", &lamp, 2, later).await,
        json!({ "ok": null }),
        "same again"
    );
    assert!(
        reserve(&app, "r1", &lamp, 3, later).await["error"].is_string(),
        "other lines"
    );
    assert_eq!(stock(&app, &lamp).await["available"], 3, "held once");
    let too_many = reserve(&app, "r2", &lamp, 4, later).await;
    assert!(
        too_many["error"]
            .as_str()
            .is_some_and(|e| e.contains("InsufficientStock"))
    );
    let unknown = reserve(&app, "r3", "no-such-product", 1, later).await;
    assert!(
        unknown["error"]
            .as_str()
            .is_some_and(|e| e.contains("UnknownProduct"))
    );

    assert_eq!(
        probe(&app, "commit/r1", json!({})).await,
        json!({ "ok": null })
    );
    assert_eq!(
        probe(&app, "commit/r1", json!({})).await,
        json!({ "ok": null }),
        "idempotent"
    );
    let after = stock(&app, &lamp).await;
    assert_eq!(
        (after["onHand"].clone(), after["available"].clone()),
        (json!(3), json!(3))
    );
    let product = body(app.get(&format!("/api/v1/products/{lamp}")).await).await;
    assert_eq!(product["quantity"], 3, "the API sees the sale at once");
    assert_eq!(product["orderCount"], 1);
    assert!(
        probe(&app, "release/r1", json!({})).await["error"].is_string(),
        "committed"
    );

    assert_eq!(
        reserve(&app, "r4", &lamp, 3, later).await,
        json!({ "ok": null })
    );
    assert_eq!(stock(&app, &lamp).await["available"], 0);
    let lamp_path = format!("/api/v1/products/{lamp}");
    assert_eq!(
        body(app.get(&lamp_path).await).await["quantity"],
        0,
        "held units are not shown"
    );
    assert_eq!(
        probe(&app, "release/r4", json!({})).await,
        json!({ "ok": null })
    );
    assert_eq!(
        probe(&app, "release/r4", json!({})).await,
        json!({ "ok": null }),
        "idempotent"
    );
    assert_eq!(stock(&app, &lamp).await["available"], 3, "returned once");
    assert_eq!(body(app.get(&lamp_path).await).await["quantity"], 3);
    assert!(
        probe(&app, "commit/r4", json!({})).await["error"].is_string(),
        "released"
    );
    assert!(
        probe(&app, "commit/none", json!({})).await["error"].is_string(),
        "unknown"
    );

    // An ordered product is kept and handed to the ANONYMOUS user when its seller deletes it.
    let res = seller.delete(&format!("/api/v1/products/{lamp}")).await;
    assert_eq!(res.status(), 200);
    let kept = body(app.get(&format!("/api/v1/products/{lamp}")).await).await;
    assert_ne!(kept["adminId"], seller.id.as_str());
    assert_eq!(kept["admin"]["name"], "Anonymous");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reservation_stops_counting_without_any_job() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 2).await;

    assert_eq!(
        reserve(&app, "soon", &lamp, 2, now_ms() + 500).await,
        json!({ "ok": null })
    );
    let path = format!("/api/v1/products/{lamp}");
    assert_eq!(stock(&app, &lamp).await["available"], 0);
    assert_eq!(body(app.get(&path).await).await["quantity"], 0);
    assert_eq!(
        body(app.get("/api/v1/products").await).await[0]["quantity"],
        0
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(stock(&app, &lamp).await["available"], 2);
    assert_eq!(body(app.get(&path).await).await["quantity"], 2);
    assert_eq!(
        body(app.get("/api/v1/products").await).await[0]["quantity"],
        2,
        "the cached list expired too"
    );
    assert!(
        probe(&app, "commit/soon", json!({})).await["error"].is_string(),
        "expired"
    );
    assert_eq!(
        reserve(&app, "next", &lamp, 2, now_ms() + 600_000).await,
        json!({ "ok": null })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserving_again_pins_a_held_reservation_longer_but_never_revives_an_expired_one() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 2).await;
    let soon = now_ms() + 700;
    assert_eq!(
        reserve(&app, "pinned", &lamp, 1, soon).await,
        json!({ "ok": null })
    );
    assert_eq!(
        reserve(&app, "lapsed", &lamp, 1, soon).await,
        json!({ "ok": null })
    );

    // A payment that takes days: checkout reserves again, same id and lines, a later expiry.
    let days = now_ms() + 7 * 24 * 3_600_000;
    assert_eq!(
        reserve(&app, "pinned", &lamp, 1, days).await,
        json!({ "ok": null })
    );
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    assert_eq!(
        stock(&app, &lamp).await["available"],
        1,
        "pinned holds, lapsed expired"
    );
    // Reserving an expired one again answers as before but holds nothing again.
    assert_eq!(
        reserve(&app, "lapsed", &lamp, 1, days).await,
        json!({ "ok": null })
    );
    assert_eq!(stock(&app, &lamp).await["available"], 1);
    assert_eq!(
        probe(&app, "commit/pinned", json!({})).await,
        json!({ "ok": null })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_reservations_of_stock_ten_yield_exactly_ten() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 10).await;
    let later = now_ms() + 600_000;

    let attempts = (0..50).map(|i| {
        let app = &app;
        let lamp = lamp.clone();
        async move { reserve(app, &format!("race-{i}"), &lamp, 1, later).await }
    });
    let answers = futures::future::join_all(attempts).await;

    let won = answers
        .iter()
        .filter(|a| a["ok"].is_null() && a.get("ok").is_some())
        .count();
    let refused = answers
        .iter()
        .filter(|a| {
            a["error"]
                .as_str()
                .is_some_and(|e| e.contains("InsufficientStock"))
        })
        .count();
    assert_eq!((won, refused), (10, 40), "{answers:?}");
    assert_eq!(stock(&app, &lamp).await["available"], 0);
}

/// The listing filters and sorts by the stock it shows (available, not on hand).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quantity_filters_and_sorting_use_the_available_stock_shown() {
    let app = spawn_app_with_catalog_probe().await;
    let (seller, lamp) = seller_with_product(&app, 10).await;
    let res = seller
        .post(
            "/api/v1/products",
            json!({ "name": "Vase", "description": "Made to last", "price": 20, "quantity": 5 }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let vase = body(res).await["id"].as_str().expect("id").to_owned();
    let mine = format!("adminId={}", seller.id);
    let listed = |query: String| {
        let app = &app;
        async move {
            let res = app.get(&format!("/api/v1/products?{query}")).await;
            assert_eq!(res.status(), 200, "{query}");
            let list = body(res).await;
            list.as_array()
                .expect("an array")
                .iter()
                .map(|p| (p["id"].as_str().unwrap().to_owned(), p["quantity"].clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(format!("{mine}&minQuantity=6")).await,
        vec![(lamp.clone(), json!(10))]
    );

    // 8 of the lamp's 10 held: it shows 2, so it no longer has 6 and now has at most 3.
    reserve(&app, "held", &lamp, 8, now_ms() + 600_000).await;
    assert!(listed(format!("{mine}&minQuantity=6")).await.is_empty());
    assert_eq!(
        listed(format!("{mine}&maxQuantity=3")).await,
        vec![(lamp.clone(), json!(2))]
    );
    assert_eq!(
        listed(format!("{mine}&sortBy=quantity&order=desc")).await,
        vec![(vase.clone(), json!(5)), (lamp.clone(), json!(2))]
    );
    let page = app
        .get(&format!("/api/v1/products?{mine}&maxQuantity=3&page=1"))
        .await;
    assert_eq!(body(page).await["meta"]["total"], 1, "the count agrees");

    // Released: back to 10.
    probe(&app, "release/held", json!({})).await;
    assert_eq!(
        listed(format!("{mine}&sortBy=quantity&order=desc")).await,
        vec![(lamp, json!(10)), (vase, json!(5))]
    );
}
