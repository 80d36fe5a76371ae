//! The catalog from the inside, as checkout and the order saga will use it: the
//! `reen:catalog/catalog` WIT export composed into an importer (the `catalog-probe` fixture).
//! What a shopper would notice is the stock `GET /api/v1/products/:id` and the cached list show.

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

/// Commits reservation `id` with one line, as the order saga does once the money arrived.
pub async fn commit(app: &TestApp, id: &str, product: &str, quantity: u32) -> Value {
    commit_lines(
        app,
        id,
        json!([{ "productId": product, "quantity": quantity }]),
    )
    .await
}

async fn commit_lines(app: &TestApp, id: &str, lines: Value) -> Value {
    probe(app, &format!("commit/{id}"), json!({ "lines": lines })).await
}

async fn restock(app: &TestApp, id: &str) -> Value {
    probe(app, &format!("restock/{id}"), json!({})).await
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

/// Another product of `seller`'s, named `name`.
async fn another_product(seller: &TestUser<'_>, name: &str, quantity: u32) -> String {
    let res = seller
        .post(
            "/api/v1/products",
            json!({ "name": name, "description": "Made to last", "price": 20, "quantity": quantity }),
        )
        .await;
    assert_eq!(res.status(), 201);
    body(res).await["id"].as_str().expect("id").to_owned()
}

/// `(onHand, available, orderCount)` of a product: the catalog's view and the API's.
async fn shelf(app: &TestApp, product: &str) -> (Value, Value, Value) {
    let summary = stock(app, product).await;
    let shown = body(app.get(&format!("/api/v1/products/{product}")).await).await;
    assert_eq!(
        shown["quantity"], summary["available"],
        "the API shows what is available"
    );
    (
        summary["onHand"].clone(),
        summary["available"].clone(),
        shown["orderCount"].clone(),
    )
}

/// The quantity the storefront's (cached) product list shows for `product`.
async fn listed(app: &TestApp, product: &str) -> Value {
    let list = body(app.get("/api/v1/products").await).await;
    let entry = list
        .as_array()
        .expect("an array")
        .iter()
        .find(|p| p["id"] == product)
        .expect("listed");
    entry["quantity"].clone()
}

fn ok() -> Value {
    json!({ "ok": null })
}

fn refused(error: String) -> Value {
    json!({ "error": error })
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

    assert_eq!(commit(&app, "r1", &lamp, 2).await, json!({ "ok": null }));
    assert_eq!(
        commit(&app, "r1", &lamp, 2).await,
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
        commit(&app, "pinned", &lamp, 1).await,
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

/// The money arrived after the reservation expired: the sale is made from the stock still
/// available, once, and the storefront's cached list shows it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_of_an_expired_reservation_sells_the_stock_still_available_once() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 3).await;
    assert_eq!(reserve(&app, "late", &lamp, 2, now_ms() + 500).await, ok());
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        listed(&app, &lamp).await,
        3,
        "expired: every unit is shown (and cached)"
    );

    assert_eq!(commit(&app, "late", &lamp, 2).await, ok());

    assert_eq!(shelf(&app, &lamp).await, (json!(1), json!(1), json!(1)));
    assert_eq!(
        listed(&app, &lamp).await,
        1,
        "the cached list went stale with the sale"
    );
    assert_eq!(commit(&app, "late", &lamp, 2).await, ok(), "again");
    assert_eq!(
        shelf(&app, &lamp).await,
        (json!(1), json!(1), json!(1)),
        "sold once"
    );
    let other = commit(&app, "late", &lamp, 1).await;
    assert_eq!(
        other,
        refused(r#"ReserveError::Invalid("reservation late exists with other lines")"#.into())
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(1), json!(1), json!(1)));
}

/// A late commit is all lines or none: one product short and nothing is sold or recorded, so
/// the same commit succeeds once the stock is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_finding_one_product_short_sells_nothing() {
    let app = spawn_app_with_catalog_probe().await;
    let (seller, lamp) = seller_with_product(&app, 3).await;
    let vase = another_product(&seller, "Vase", 2).await;
    let lines = json!([{ "productId": lamp, "quantity": 1 }, { "productId": vase, "quantity": 2 }]);
    let late = json!({ "lines": lines, "expiresAtMs": now_ms() + 500 });
    assert_eq!(probe(&app, "reserve/late", late).await, ok());
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    // Meanwhile another buyer holds one of the two vases.
    assert_eq!(
        reserve(&app, "other", &vase, 1, now_ms() + 600_000).await,
        ok()
    );

    let answer = commit_lines(&app, "late", lines.clone()).await;

    assert_eq!(
        answer,
        refused(format!("ReserveError::InsufficientStock({vase:?})"))
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(3), json!(3), json!(0)));
    assert_eq!(shelf(&app, &vase).await, (json!(2), json!(1), json!(0)));
    assert_eq!(probe(&app, "release/other", json!({})).await, ok());
    assert_eq!(commit_lines(&app, "late", lines).await, ok(), "now it fits");
    assert_eq!(shelf(&app, &lamp).await, (json!(2), json!(2), json!(1)));
    assert_eq!(shelf(&app, &vase).await, (json!(0), json!(0), json!(1)));
}

/// Checkout released the reservation (replaced, or given up) before the payment landed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_after_its_reservation_was_released_sells_from_the_stock_available() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 5).await;
    assert_eq!(
        reserve(&app, "replaced", &lamp, 2, now_ms() + 600_000).await,
        ok()
    );
    assert_eq!(probe(&app, "release/replaced", json!({})).await, ok());
    assert_eq!(shelf(&app, &lamp).await, (json!(5), json!(5), json!(0)));

    assert_eq!(commit(&app, "replaced", &lamp, 2).await, ok());

    assert_eq!(shelf(&app, &lamp).await, (json!(3), json!(3), json!(1)));
    assert_eq!(commit(&app, "replaced", &lamp, 2).await, ok(), "again");
    assert_eq!(shelf(&app, &lamp).await, (json!(3), json!(3), json!(1)));
    assert_eq!(
        probe(&app, "release/replaced", json!({})).await,
        refused(r#"SettleError::WrongState("reservation replaced is committed")"#.into()),
        "a sale is not released"
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(3), json!(3), json!(1)));
}

/// The reservation was never made (checkout's reserve was lost): the commit takes the stock
/// available, records the reservation, and a repeat or a restock knows what it sold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_of_an_unknown_reservation_sells_once_and_is_remembered() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 3).await;

    assert_eq!(commit(&app, "never-reserved", &lamp, 2).await, ok());

    assert_eq!(shelf(&app, &lamp).await, (json!(1), json!(1), json!(1)));
    assert_eq!(
        commit(&app, "never-reserved", &lamp, 2).await,
        ok(),
        "again"
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(1), json!(1), json!(1)));
    assert_eq!(
        commit(&app, "never-reserved", &lamp, 1).await,
        refused(
            r#"ReserveError::Invalid("reservation never-reserved exists with other lines")"#.into()
        )
    );
    assert_eq!(
        commit(&app, "too-many", &lamp, 2).await,
        refused(format!("ReserveError::InsufficientStock({lamp:?})"))
    );
    let ghost = json!([{ "productId": lamp, "quantity": 1 }, { "productId": "no-such-product", "quantity": 1 }]);
    assert_eq!(
        commit_lines(&app, "ghost", ghost).await,
        refused(r#"ReserveError::UnknownProduct("no-such-product")"#.into())
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(1), json!(1), json!(1)));
    // Neither refusal was recorded: the same ids commit other lines later.
    assert_eq!(commit(&app, "too-many", &lamp, 1).await, ok());
    assert_eq!(shelf(&app, &lamp).await, (json!(0), json!(0), json!(2)));

    assert_eq!(restock(&app, "never-reserved").await, ok());
    assert_eq!(shelf(&app, &lamp).await, (json!(2), json!(2), json!(1)));
}

/// Ten payments land late for ten released reservations of one unit each, with five units on
/// the shelf: five sales, five refusals, and the shelf ends at exactly zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_late_commits_racing_for_five_units_sell_exactly_five() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 5).await;
    for i in 0..10 {
        let id = format!("race-{i}");
        assert_eq!(reserve(&app, &id, &lamp, 1, now_ms() + 600_000).await, ok());
        assert_eq!(probe(&app, &format!("release/{id}"), json!({})).await, ok());
    }

    let app = &app;
    let answers = futures::future::join_all((0..10).map(|i| {
        let lamp = lamp.clone();
        async move { (i, commit(app, &format!("race-{i}"), &lamp, 1).await) }
    }))
    .await;

    let sold: Vec<usize> = answers
        .iter()
        .filter(|(_, a)| *a == ok())
        .map(|(i, _)| *i)
        .collect();
    let short = refused(format!("ReserveError::InsufficientStock({lamp:?})"));
    let refusals = answers.iter().filter(|(_, a)| *a == short).count();
    assert_eq!((sold.len(), refusals), (5, 5), "{answers:?}");
    assert_eq!(shelf(app, &lamp).await, (json!(0), json!(0), json!(5)));
    // Exactly zero, not below: one sale undone puts exactly one unit back.
    assert_eq!(restock(app, &format!("race-{}", sold[0])).await, ok());
    assert_eq!(shelf(app, &lamp).await, (json!(1), json!(1), json!(4)));
}

/// The order saga undoes a sale (its payment was refunded): the units come back once, however
/// often the compensation is retried, and a late commit does not sell them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restocking_a_sale_twice_puts_its_units_back_once() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 5).await;
    assert_eq!(
        reserve(&app, "sold", &lamp, 2, now_ms() + 600_000).await,
        ok()
    );
    assert_eq!(commit(&app, "sold", &lamp, 2).await, ok());
    assert_eq!(
        listed(&app, &lamp).await,
        3,
        "the sale is listed (and cached)"
    );

    assert_eq!(restock(&app, "sold").await, ok());
    assert_eq!(restock(&app, "sold").await, ok(), "again");

    assert_eq!(shelf(&app, &lamp).await, (json!(5), json!(5), json!(0)));
    assert_eq!(
        listed(&app, &lamp).await,
        5,
        "the cached list went stale with the restock"
    );
    assert_eq!(
        commit(&app, "sold", &lamp, 2).await,
        refused(r#"ReserveError::Invalid("reservation sold was committed and restocked")"#.into())
    );
    assert_eq!(
        probe(&app, "release/sold", json!({})).await,
        refused(r#"SettleError::WrongState("reservation sold is restocked")"#.into())
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(5), json!(5), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restocking_what_was_never_sold_is_refused_and_changes_nothing() {
    let app = spawn_app_with_catalog_probe().await;
    let (_seller, lamp) = seller_with_product(&app, 5).await;
    assert_eq!(
        reserve(&app, "held", &lamp, 1, now_ms() + 600_000).await,
        ok()
    );
    assert_eq!(
        reserve(&app, "lapsed", &lamp, 1, now_ms() + 500).await,
        ok()
    );
    assert_eq!(
        reserve(&app, "given-back", &lamp, 1, now_ms() + 600_000).await,
        ok()
    );
    assert_eq!(probe(&app, "release/given-back", json!({})).await, ok());
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;

    for (id, state) in [
        ("held", "held"),
        ("lapsed", "expired"),
        ("given-back", "released"),
    ] {
        assert_eq!(
            restock(&app, id).await,
            refused(format!(
                r#"SettleError::WrongState("reservation {id} is {state}")"#
            )),
        );
    }
    assert_eq!(
        restock(&app, "nobody").await,
        refused(r#"SettleError::UnknownReservation("nobody")"#.into())
    );
    assert_eq!(shelf(&app, &lamp).await, (json!(5), json!(4), json!(0)));
}
