//! Orders: a buyer's orders (list, details, status), a seller's sales, and the
//! `reen:orders/orders` WIT export the saga places and settles them with (the `orders-probe`
//! fixture stands in for the saga; the `catalog-probe` beside it commits sales of stock).

use crate::api::{SignedIn, TestUser, body};
use crate::catalog::{now_ms, reserve};
use crate::helpers::{TestApp, manifest_with_fixture, spawn_app_with_orders_probe};
use crate::products::{create, new_admin};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use timestamp::Timestamp;

/// The project's manifest plus the probe component composed with `orders.wasm` (built once per
/// test run), and the catalog probe on `/e2e/catalog/...` (a committed sale is what makes a
/// deleted product be handed to the ANONYMOUS user). The orders probe has the `orders` label
/// only: the export needs nothing else.
pub fn probe_manifest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // Builds catalog_probe.wasm (and writes the catalog's own manifest, once).
        crate::catalog::probe_manifest();
        manifest_with_fixture(
            "orders-probe",
            r#"
[[trigger.http]]
route = "/e2e/orders/..."
component = "orders-probe"

[component.orders-probe]
source = "{release}/orders_probe.wasm"
sqlite_databases = ["orders"]
dependencies_inherit_configuration = true
[component.orders-probe.dependencies]
"reen:orders/orders" = { path = "{release}/orders.wasm" }

[[trigger.http]]
route = "/e2e/catalog/..."
component = "catalog-probe"

[component.catalog-probe]
source = "{release}/catalog_probe.wasm"
sqlite_databases = ["products"]
dependencies_inherit_configuration = true
[component.catalog-probe.dependencies]
"reen:catalog/catalog" = { path = "{release}/products.wasm" }
"#,
        )
    })
    .clone()
}

const ORDERS: &str = "/api/v1/orders";
const SALES: &str = "/api/v1/orders/sales";

// ---- the saga's side: the WIT export through the probe ----

async fn probe(app: &TestApp, method: Method, path: &str, payload: Value) -> Value {
    let request = app
        .request(method, &format!("/e2e/orders/{path}"))
        .json(&payload);
    let res = app.send(request).await;
    assert_eq!(res.status(), 200, "probe {path}");
    body(res).await
}

/// Places `order` through the WIT and answers the order, asserting it was placed.
pub async fn place(app: &TestApp, order: &Value) -> Value {
    let answer = probe(app, Method::POST, "place", order.clone()).await;
    assert!(answer["error"].is_null(), "place {order}: {answer}");
    answer["ok"].clone()
}

/// `advance(order, status)`: the probe's whole answer (`{"ok": order}` or `{"error": ...}`).
pub async fn advance(app: &TestApp, order: &str, status: &str) -> Value {
    let path = format!("advance/{order}/{status}");
    probe(app, Method::POST, &path, json!({})).await
}

async fn get(app: &TestApp, order: &str) -> Value {
    probe(app, Method::GET, &format!("get/{order}"), json!(null)).await
}

async fn by_checkout(app: &TestApp, checkout: &str) -> Value {
    let path = format!("by-checkout/{checkout}");
    probe(app, Method::GET, &path, json!(null)).await
}

/// A line buying `quantity` of `product` (as the API shows it) at its price now.
fn line(product: &Value, quantity: u32) -> Value {
    json!({
        "productId": product["id"],
        "sellerId": product["adminId"],
        "name": product["name"],
        "imageUrls": product["imageUrls"],
        "quantity": quantity,
        "unitPriceCents": cents(&product["price"]),
    })
}

fn cents(dollars: &Value) -> u64 {
    (dollars.as_f64().expect("a price in dollars") * 100.0).round() as u64
}

/// Dollars as the API writes them: whole amounts as integers (`20`), others with cents.
fn dollars(cents: u64) -> Value {
    if cents.is_multiple_of(100) {
        json!(cents / 100)
    } else {
        json!(cents as f64 / 100.0)
    }
}

fn number(value: &Value) -> u64 {
    value.as_u64().expect("a whole number")
}

fn line_cents(line: &Value) -> u64 {
    number(&line["quantity"]) * number(&line["unitPriceCents"])
}

/// The order of the paid checkout `checkout` (its Stripe session id derived from it), its
/// total the sum of its lines.
fn new_order(checkout: &str, buyer: &str, lines: Vec<Value>) -> Value {
    let total: u64 = lines.iter().map(line_cents).sum();
    json!({
        "checkoutId": checkout,
        "checkoutSessionId": format!("cs_test_{checkout}"),
        "buyerId": buyer,
        "totalCents": total,
        "lines": lines,
    })
}

fn iso(millis: &Value) -> String {
    Timestamp::from_millis(millis.as_i64().expect("Unix milliseconds")).to_string()
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// The ids of `orders` newest first: created later first, then the greater id.
fn newest_first(orders: &[&Value]) -> Vec<String> {
    let mut sorted: Vec<(i64, String)> = orders
        .iter()
        .map(|o| (o["createdAtMs"].as_i64().expect("createdAtMs"), id(o)))
        .collect();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.into_iter().map(|(_, id)| id).collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("an array").iter().map(id).collect()
}

// ---- the storefront's side: products, orders and sales over HTTP ----

/// A product of `seller` with 50 units and one image; the product as created.
async fn product(seller: &TestUser<'_>, name: &str, price: f64) -> Value {
    create(
        seller,
        json!({
            "name": name,
            "description": format!("A fine {name}"),
            "price": price,
            "quantity": 50,
            "imageUrls": [format!("https://cdn.example.com/{}.png", name.to_lowercase())]
        }),
    )
    .await
}

/// The product as GET /api/v1/products/{id} shows it now.
async fn product_now(app: &TestApp, product: &Value) -> Value {
    let res = app.get(&format!("/api/v1/products/{}", id(product))).await;
    assert_eq!(res.status(), 200, "product {}", id(product));
    body(res).await
}

async fn error(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    let body = body(res).await;
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["error"].is_string(), "{body}");
    body["message"].as_str().expect("a message").to_owned()
}

/// An order item as the API shows it: `line` of a placed order with `product` as the API
/// shows it, under the item id the API gave it.
fn item(line: &Value, product: &Value, item_id: &Value) -> Value {
    assert!(
        item_id.as_str().is_some_and(|i| !i.is_empty()),
        "an item id: {item_id}"
    );
    json!({
        "id": item_id,
        "productId": line["productId"],
        "quantity": line["quantity"],
        "unitPrice": dollars(number(&line["unitPriceCents"])),
        "price": dollars(line_cents(line)),
        "product": product,
    })
}

fn product_of<'a>(products: &'a [&Value], line: &Value) -> &'a Value {
    products
        .iter()
        .find(|p| p["id"] == line["productId"])
        .expect("the line's product is given")
}

/// The order as its buyer sees it in GET /api/v1/orders: `placed` (the WIT order) with
/// `products` as the API shows them; item ids are taken from `shown`, the API's answer.
fn as_bought(placed: &Value, status: &str, products: &[&Value], shown: &Value) -> Value {
    let lines = placed["lines"].as_array().expect("lines");
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| item(l, product_of(products, l), &shown["orderItems"][i]["id"]))
        .collect();
    json!({
        "id": placed["id"],
        "userId": placed["buyerId"],
        "status": status,
        "total": dollars(number(&placed["totalCents"])),
        "checkoutSessionId": placed["checkoutSessionId"],
        "orderItems": items,
        "createdAt": iso(&placed["createdAtMs"]),
        "updatedAt": iso(&placed["updatedAtMs"]),
    })
}

/// The order as `seller` sees it in GET /api/v1/orders/sales: only their lines of `placed`.
fn as_sold(
    placed: &Value,
    seller: &str,
    buyer: Value,
    products: &[&Value],
    shown: &Value,
) -> Value {
    let lines: Vec<&Value> = placed["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter(|l| l["sellerId"] == seller)
        .collect();
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| item(l, product_of(products, l), &shown["orderItems"][i]["id"]))
        .collect();
    json!({
        "id": placed["id"],
        "buyer": buyer,
        "status": "PROCESSING",
        "subtotal": dollars(lines.iter().map(|l| line_cents(l)).sum()),
        "orderItems": items,
        "createdAt": iso(&placed["createdAtMs"]),
        "updatedAt": iso(&placed["updatedAtMs"]),
    })
}

fn meta(total: u64, page: u64, limit: u64) -> Value {
    let last = total.div_ceil(limit).max(1);
    json!({
        "total": total, "page": page, "limit": limit, "lastPage": last,
        "hasNextPage": page < last, "hasPreviousPage": page > 1,
    })
}

// ---- the tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_sees_the_placed_order_in_the_list_and_its_details() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let vase = product(&sid, "Vase", 5.0).await;
    let ann = app.new_user("Ann").await;
    assert_eq!(ann.get_json(ORDERS).await, json!([]), "no orders yet");

    let order = new_order("co-1", &ann.id, vec![line(&mug, 3), line(&vase, 1)]);
    let placed = place(&app, &order).await;

    let list = ann.get_json(ORDERS).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let shown = &list[0];
    let products = [
        &product_now(&app, &mug).await,
        &product_now(&app, &vase).await,
    ];
    assert_eq!(*shown, as_bought(&placed, "PROCESSING", &products, shown));
    // What the storefront's order pages read, spelled out.
    assert_eq!(shown["id"], placed["id"]);
    assert_eq!(shown["userId"], ann.id.as_str());
    assert_eq!(shown["status"], "PROCESSING");
    assert_eq!(shown["total"], 42.02);
    assert_eq!(shown["checkoutSessionId"], "cs_test_co-1");
    assert!(
        shown["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let mug_item = &shown["orderItems"][0];
    assert_eq!(mug_item["productId"], mug["id"]);
    assert_eq!(mug_item["quantity"], 3);
    assert_eq!(mug_item["unitPrice"], 12.34);
    assert_eq!(mug_item["price"], 37.02, "the line total");
    assert_eq!(mug_item["product"]["name"], "Mug");
    assert_eq!(
        mug_item["product"]["imageUrls"],
        json!(["https://cdn.example.com/mug.png"])
    );
    assert_eq!(shown["orderItems"][1]["price"], 5.0);
    assert_ne!(shown["orderItems"][0]["id"], shown["orderItems"][1]["id"]);

    let details = ann.get_json(&format!("{ORDERS}/{}", id(&placed))).await;
    assert_eq!(details, *shown, "the details are the order in the list");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_with_cents_add_up_exactly() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let pin = product(&sid, "Pin", 0.1).await;
    let lamp = product(&sid, "Lamp", 19.99).await;
    let ann = app.new_user("Ann").await;
    let lines = vec![line(&mug, 3), line(&pin, 3), line(&lamp, 7)];
    place(&app, &new_order("co-1", &ann.id, lines)).await;

    let shown = &ann.get_json(ORDERS).await[0];

    let prices: Vec<&Value> = (0..3).map(|i| &shown["orderItems"][i]["price"]).collect();
    assert_eq!(prices, [&json!(37.02), &json!(0.3), &json!(139.93)]);
    let units: Vec<&Value> = (0..3)
        .map(|i| &shown["orderItems"][i]["unitPrice"])
        .collect();
    assert_eq!(units, [&json!(12.34), &json!(0.1), &json!(19.99)]);
    assert_eq!(shown["total"], 177.25);
    let sale = &sid.get_json(SALES).await[0];
    assert_eq!(sale["subtotal"], 177.25);
    assert_eq!(sale["orderItems"][1]["price"], 0.3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_placed_twice_or_concurrently_is_one_order() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let vase = product(&sid, "Vase", 5.0).await;
    let ann = app.new_user("Ann").await;
    let first = place(&app, &new_order("co-1", &ann.id, vec![line(&mug, 1)])).await;

    // Again, carrying other data: the first order, unchanged.
    let mut other = new_order("co-1", &ann.id, vec![line(&vase, 2)]);
    other["checkoutSessionId"] = json!("cs_test_other");
    assert_eq!(place(&app, &other).await, first);
    // Again once it has moved on: the order as it is now.
    let completed = advance(&app, &id(&first), "completed").await["ok"].clone();
    assert_eq!(completed["status"], "completed");
    assert_eq!(place(&app, &other).await, completed);

    // 20 at once, each carrying other quantities: one order, the answer of every call.
    let attempts = (1..=20).map(|n| new_order("co-2", &ann.id, vec![line(&mug, n)]));
    let orders: Vec<Value> = attempts.collect();
    let answers = join_all(orders.iter().map(|o| place(&app, o))).await;
    let winner = answers[0].clone();
    assert!(
        answers.iter().all(|a| *a == winner),
        "every call answers the same order: {answers:?}"
    );
    assert_eq!(by_checkout(&app, "co-2").await, json!({ "ok": winner }));

    let list = ann.get_json(ORDERS).await;
    let mut shown = ids(&list);
    shown.sort();
    let mut want = vec![id(&first), id(&winner)];
    want.sort();
    assert_eq!(shown, want, "exactly one order per checkout");
    let paged = ann.get_json(&format!("{ORDERS}?page=1")).await;
    assert_eq!(paged["meta"]["total"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_moves_only_forward_and_the_buyer_sees_its_status() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let ann = app.new_user("Ann").await;
    let kept = place(&app, &new_order("co-1", &ann.id, vec![line(&mug, 1)])).await;
    let undone = place(&app, &new_order("co-2", &ann.id, vec![line(&mug, 2)])).await;
    let (kept_id, undone_id) = (id(&kept), id(&undone));
    let details = |order: &str| format!("{ORDERS}/{order}");
    assert_eq!(
        ann.get_json(&details(&kept_id)).await["status"],
        "PROCESSING"
    );
    assert_eq!(
        advance(&app, &kept_id, "processing").await,
        json!({ "ok": kept }),
        "the status it has: unchanged"
    );

    let completed = advance(&app, &kept_id, "completed").await["ok"].clone();

    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["id"], kept["id"]);
    assert_eq!(completed["lines"], kept["lines"]);
    assert_eq!(completed["createdAtMs"], kept["createdAtMs"]);
    assert!(completed["updatedAtMs"].as_i64() >= kept["updatedAtMs"].as_i64());
    assert_eq!(
        advance(&app, &kept_id, "completed").await,
        json!({ "ok": completed }),
        "again: unchanged"
    );
    for back in ["refunded", "processing"] {
        assert_eq!(
            advance(&app, &kept_id, back).await,
            json!({ "error": "backward: completed" }),
            "completed → {back}"
        );
    }
    let shown = ann.get_json(&details(&kept_id)).await;
    assert_eq!(shown["status"], "COMPLETED");
    assert_eq!(shown["updatedAt"], iso(&completed["updatedAtMs"]));
    assert_eq!(shown["createdAt"], iso(&kept["createdAtMs"]));
    assert_eq!(get(&app, &kept_id).await, json!({ "ok": completed }));

    let refunded = advance(&app, &undone_id, "refunded").await["ok"].clone();
    assert_eq!(refunded["status"], "refunded");
    for back in ["completed", "processing"] {
        assert_eq!(
            advance(&app, &undone_id, back).await,
            json!({ "error": "backward: refunded" }),
            "refunded → {back}"
        );
    }
    assert_eq!(
        ann.get_json(&details(&undone_id)).await["status"],
        "REFUNDED"
    );
    let statuses: Vec<Value> = ann
        .get_json(ORDERS)
        .await
        .as_array()
        .expect("an array")
        .iter()
        .map(|o| o["status"].clone())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&json!("COMPLETED")) && statuses.contains(&json!("REFUNDED")));

    assert_eq!(
        advance(&app, "no-such-order", "completed").await,
        json!({ "error": "not-found" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_never_sees_another_buyers_order() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    let anns = place(&app, &new_order("co-1", &ann.id, vec![line(&mug, 1)])).await;
    let path = format!("{ORDERS}/{}", id(&anns));

    for (who, user) in [("another buyer", &bob), ("the seller", &sid)] {
        let message = error(user.get(&path).await, 404).await;
        assert_eq!(
            message,
            format!("Order with id {} not found", id(&anns)),
            "{who}"
        );
        assert_eq!(user.get_json(ORDERS).await, json!([]), "{who}");
        assert_eq!(
            user.get_json(&format!("{ORDERS}?page=1")).await,
            json!({ "orders": [], "meta": meta(0, 1, 10) }),
            "{who}"
        );
    }
    let message = error(ann.get(&format!("{ORDERS}/no-such-order")).await, 404).await;
    assert_eq!(message, "Order with id no-such-order not found");

    assert_eq!(ann.get_json(&path).await["id"], anns["id"]);
    assert_eq!(ids(&ann.get_json(ORDERS).await), [id(&anns)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_sees_only_their_own_lines_and_the_buyers_name() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let tess = new_admin(&app, "Tess").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let lamp = product(&sid, "Lamp", 20.0).await;
    let vase = product(&tess, "Vase", 5.0).await;
    let ann = app.new_user("Ann").await;
    let bob = app.new_user("Bob").await;
    let first = new_order("co-1", &ann.id, vec![line(&mug, 3), line(&vase, 1)]);
    let first = place(&app, &first).await;
    let second = place(&app, &new_order("co-2", &bob.id, vec![line(&vase, 2)])).await;
    let third = new_order("co-3", &ann.id, vec![line(&lamp, 1), line(&mug, 1)]);
    let third = place(&app, &third).await;
    let products = [
        &product_now(&app, &mug).await,
        &product_now(&app, &lamp).await,
        &product_now(&app, &vase).await,
    ];
    let ann_public = json!({ "id": ann.id, "name": "Ann" });
    let bob_public = json!({ "id": bob.id, "name": "Bob" });

    let sids = sid.get_json(SALES).await;

    assert_eq!(ids(&sids), newest_first(&[&first, &third]));
    for sale in sids.as_array().expect("an array") {
        let placed = if sale["id"] == first["id"] {
            &first
        } else {
            &third
        };
        let want = as_sold(placed, &sid.id, ann_public.clone(), &products, sale);
        assert_eq!(*sale, want);
    }
    let first_sold = sids
        .as_array()
        .expect("an array")
        .iter()
        .find(|s| s["id"] == first["id"])
        .expect("the first order");
    assert_eq!(first_sold["subtotal"], 37.02, "only the mug is Sid's");
    assert_eq!(first_sold["orderItems"].as_array().map(Vec::len), Some(1));
    assert_eq!(first_sold["buyer"]["name"], "Ann");
    for hidden in ["total", "checkoutSessionId", "userId"] {
        assert!(first_sold.get(hidden).is_none(), "no {hidden} in a sale");
    }

    let tesses = tess.get_json(SALES).await;
    assert_eq!(ids(&tesses), newest_first(&[&first, &second]));
    let second_sold = tesses
        .as_array()
        .expect("an array")
        .iter()
        .find(|s| s["id"] == second["id"])
        .expect("the second order");
    assert_eq!(
        *second_sold,
        as_sold(&second, &tess.id, bob_public, &products, second_sold)
    );
    assert_eq!(second_sold["subtotal"], 10.0);

    // Paged like the list.
    let paged = sid.get_json(&format!("{SALES}?limit=1")).await;
    assert_eq!(paged["meta"], meta(2, 1, 1));
    assert_eq!(ids(&paged["orders"]), newest_first(&[&first, &third])[..1]);
    let past = sid.get_json(&format!("{SALES}?page=3&limit=1")).await;
    assert_eq!(past, json!({ "orders": [], "meta": meta(2, 3, 1) }));

    // A buyer who has since deleted their account.
    assert_eq!(bob.delete("/api/v1/auth/users/me").await.status(), 202);
    let tesses = tess.get_json(SALES).await;
    let second_sold = tesses
        .as_array()
        .expect("an array")
        .iter()
        .find(|s| s["id"] == second["id"])
        .expect("still a sale");
    assert_eq!(
        second_sold["buyer"],
        json!({ "id": bob.id, "name": "Unknown" })
    );

    // Only sellers have sales.
    assert_eq!(ann.get(SALES).await.status(), 403);
    assert_eq!(ann.get(&format!("{SALES}?page=1")).await.status(), 403);
    let nobody = new_admin(&app, "Nobody").await;
    assert_eq!(nobody.get_json(SALES).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_deleted_after_the_purchase_still_shows_as_it_was_bought() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let ann = app.new_user("Ann").await;
    let placed = place(&app, &new_order("co-1", &ann.id, vec![line(&mug, 3)])).await;
    let mug_path = format!("/api/v1/products/{}", id(&mug));

    // Renamed and repriced: the order shows the product as it is now, at the price paid.
    let res = sid
        .patch(&mug_path, json!({ "name": "Big Mug", "price": 15 }))
        .await;
    assert_eq!(res.status(), 200);
    let item = &ann.get_json(ORDERS).await[0]["orderItems"][0];
    assert_eq!(item["product"], product_now(&app, &mug).await);
    assert_eq!(item["product"]["name"], "Big Mug");
    assert_eq!(
        (&item["unitPrice"], &item["price"]),
        (&json!(12.34), &json!(37.02))
    );

    // Never ordered as far as the catalog knows (orderCount 0): really deleted.
    assert_eq!(sid.delete(&mug_path).await.status(), 200);
    assert_eq!(app.get(&mug_path).await.status(), 404);

    let shown = &ann.get_json(ORDERS).await[0];
    let created = iso(&placed["createdAtMs"]);
    let frozen = json!({
        "id": mug["id"],
        "name": "Mug",
        "description": "",
        "price": 12.34,
        "quantity": 0,
        "imageUrls": ["https://cdn.example.com/mug.png"],
        "adminId": sid.id,
        "admin": { "id": sid.id, "name": "Unknown" },
        "orderCount": 0,
        "createdAt": created,
        "updatedAt": created,
    });
    assert_eq!(shown["orderItems"][0]["product"], frozen);
    assert_eq!(shown["orderItems"][0]["unitPrice"], 12.34);
    assert_eq!(shown["orderItems"][0]["price"], 37.02);
    assert_eq!(shown["total"], 37.02);
    let details = ann.get_json(&format!("{ORDERS}/{}", id(&placed))).await;
    assert_eq!(details, *shown);
    let sale = &sid.get_json(SALES).await[0];
    assert_eq!(sale["orderItems"][0]["product"], frozen, "still Sid's sale");
    assert_eq!(sale["subtotal"], 37.02);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordered_product_handed_to_the_anonymous_user_shows_as_it_is_now() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let lamp = product(&sid, "Lamp", 19.99).await;
    let ann = app.new_user("Ann").await;
    // The sale as the saga makes it: stock committed (orderCount 1), then the order placed.
    let reserved = reserve(&app, "co-1", &id(&lamp), 2, now_ms() + 600_000).await;
    assert_eq!(reserved, json!({ "ok": null }));
    let committed = crate::catalog::commit(&app, "co-1", &id(&lamp), 2).await;
    assert_eq!(committed, json!({ "ok": null }));
    place(&app, &new_order("co-1", &ann.id, vec![line(&lamp, 2)])).await;
    let lamp_path = format!("/api/v1/products/{}", id(&lamp));

    assert_eq!(sid.delete(&lamp_path).await.status(), 200);

    let kept = product_now(&app, &lamp).await;
    assert_eq!(
        kept["admin"]["name"], "Anonymous",
        "handed over, not deleted"
    );
    let item = &ann.get_json(ORDERS).await[0]["orderItems"][0];
    assert_eq!(item["product"], kept, "the product as it is now");
    assert_eq!(item["product"]["name"], "Lamp");
    assert_eq!(item["price"], 39.98);
    let sale = &sid.get_json(SALES).await[0];
    assert_eq!(sale["orderItems"][0]["product"], kept, "still Sid's sale");
    assert_eq!(sale["subtotal"], 39.98);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_of_more_than_100_products_sees_every_one_as_it_is_now() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mut products = Vec::new();
    for batch in 0..2 {
        let some: Vec<Value> = (0..60)
            .map(|i| {
                json!({ "name": format!("Item {}", batch * 60 + i), "description": "Made to last",
                        "price": 1.5, "quantity": 5 })
            })
            .collect();
        let res = sid
            .post("/api/v1/products/bulk", json!({ "products": some }))
            .await;
        assert_eq!(res.status(), 201, "bulk create");
        products.extend(body(res).await.as_array().expect("the products").clone());
    }
    let ann = app.new_user("Ann").await;
    // The most lines one order may have, and the other 20 in a second order.
    let lines =
        |range: std::ops::Range<usize>| products[range].iter().map(|p| line(p, 1)).collect();
    let big = place(&app, &new_order("co-1", &ann.id, lines(0..100))).await;
    place(&app, &new_order("co-2", &ann.id, lines(100..120))).await;
    let by_id = |product: &Value| {
        products
            .iter()
            .find(|p| p["id"] == product["id"])
            .cloned()
            .expect("one of the products")
    };
    let all_live = |orders: &Value| {
        let items: Vec<&Value> = orders
            .as_array()
            .expect("an array")
            .iter()
            .flat_map(|o| o["orderItems"].as_array().expect("items"))
            .collect();
        let stale: Vec<&Value> = items
            .iter()
            .filter(|i| i["product"] != by_id(&i["product"]))
            .map(|i| &i["productId"])
            .collect();
        assert!(stale.is_empty(), "not shown as they are now: {stale:?}");
        items.len()
    };

    assert_eq!(all_live(&ann.get_json(ORDERS).await), 120);
    let details = ann.get_json(&format!("{ORDERS}/{}", id(&big))).await;
    assert_eq!(all_live(&json!([details])), 100);
    assert_eq!(details["total"], 150);
    assert_eq!(all_live(&sid.get_json(SALES).await), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_paged_like_the_catalog() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let ann = app.new_user("Ann").await;
    let mut placed = Vec::new();
    for n in 1..=3 {
        let order = new_order(&format!("co-{n}"), &ann.id, vec![line(&mug, n)]);
        placed.push(place(&app, &order).await);
    }
    let newest = newest_first(&placed.iter().collect::<Vec<_>>());
    let paged = |query: &str| format!("{ORDERS}?{query}");

    assert_eq!(
        ids(&ann.get_json(ORDERS).await),
        newest,
        "plain, newest first"
    );
    let page = ann.get_json(&paged("limit=1")).await;
    assert_eq!(page["meta"], meta(3, 1, 1));
    assert_eq!(ids(&page["orders"]), newest[..1]);
    let page = ann.get_json(&paged("page=2&limit=2")).await;
    assert_eq!(page["meta"], meta(3, 2, 2));
    assert_eq!(ids(&page["orders"]), newest[2..]);
    let page = ann.get_json(&paged("page=1")).await;
    assert_eq!(page["meta"], meta(3, 1, 10));
    assert_eq!(ids(&page["orders"]), newest);
    assert_eq!(
        page["orders"],
        ann.get_json(ORDERS).await,
        "the same orders"
    );
    let past = ann.get_json(&paged("page=9")).await;
    assert_eq!(past, json!({ "orders": [], "meta": meta(3, 9, 10) }));
    let bob = app.new_user("Bob").await;
    let none = bob.get_json(&paged("limit=5")).await;
    assert_eq!(none, json!({ "orders": [], "meta": meta(0, 1, 5) }));
    assert_eq!(none["meta"]["lastPage"], 1);

    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=1.5",
        "page=0",
        "page=abc",
        "page=",
        "colour=red",
        "page=1&colour=red",
    ] {
        for (route, user) in [(ORDERS, &ann), (SALES, &sid)] {
            let res = user.get(&format!("{route}?{bad}")).await;
            let message = error(res, 400).await;
            assert!(!message.is_empty(), "{route}?{bad}");
        }
    }
    let res = ann.get(&paged("limit=100")).await;
    assert_eq!(res.status(), 200, "100 is allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_need_a_signed_in_user() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let ann = app.new_user("Ann").await;
    let placed = place(&app, &new_order("co-1", &ann.id, vec![line(&mug, 1)])).await;
    let details = format!("{ORDERS}/{}", id(&placed));

    let paged = format!("{ORDERS}?page=1");
    for path in [ORDERS, paged.as_str(), details.as_str(), SALES] {
        let res = app.get(path).await;
        assert!(!error(res, 401).await.is_empty(), "{path}");
        let res = app.call(Method::GET, path, "not-a-token", None).await;
        assert_eq!(res.status(), 401, "{path} with a bad token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saga_places_an_order_and_reads_it_by_id_and_by_checkout() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let vase = product(&sid, "Vase", 5.0).await;
    let ann = app.new_user("Ann").await;
    let order = new_order("co-1", &ann.id, vec![line(&vase, 2), line(&mug, 1)]);
    let before = now_ms();

    let placed = place(&app, &order).await;

    for field in [
        "checkoutId",
        "checkoutSessionId",
        "buyerId",
        "totalCents",
        "lines",
    ] {
        assert_eq!(placed[field], order[field], "{field} as given");
    }
    assert_eq!(placed["status"], "processing");
    assert!(placed["id"].as_str().is_some_and(|i| !i.is_empty()));
    let created = placed["createdAtMs"].as_i64().expect("createdAtMs");
    assert!((before..=now_ms()).contains(&created), "created now");
    assert_eq!(placed["updatedAtMs"], placed["createdAtMs"]);
    assert_eq!(get(&app, &id(&placed)).await, json!({ "ok": placed }));
    assert_eq!(by_checkout(&app, "co-1").await, json!({ "ok": placed }));
    assert_eq!(get(&app, "no-such-order").await, json!({ "ok": null }));
    assert_eq!(by_checkout(&app, "co-2").await, json!({ "ok": null }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_breaks_a_rule_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with_orders_probe().await;
    let sid = new_admin(&app, "Sid").await;
    let mug = product(&sid, "Mug", 12.34).await;
    let vase = product(&sid, "Vase", 5.0).await;
    let ann = app.new_user("Ann").await;
    let with = |checkout: &str, lines: Vec<Value>| new_order(checkout, &ann.id, lines);
    let edit = |mut line: Value, field: &str, value: Value| {
        line[field] = value;
        line
    };
    let many = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| edit(line(&mug, 1), "productId", json!(format!("product-{i}"))))
            .collect()
    };
    let mut wrong_total = with("bad-total", vec![line(&mug, 2)]);
    wrong_total["totalCents"] = json!(2467);
    let cases = [
        ("no lines", with("bad-empty", vec![])),
        (
            "a zero quantity",
            with("bad-zero", vec![line(&mug, 0), line(&vase, 1)]),
        ),
        (
            "a repeated product",
            with("bad-twice", vec![line(&mug, 1), line(&mug, 2)]),
        ),
        ("an empty checkout id", with("", vec![line(&mug, 1)])),
        (
            "an empty buyer id",
            new_order("bad-buyer", "", vec![line(&mug, 1)]),
        ),
        (
            "an empty product id",
            with(
                "bad-product",
                vec![edit(line(&mug, 1), "productId", json!(""))],
            ),
        ),
        (
            "an empty seller id",
            with(
                "bad-seller",
                vec![edit(line(&mug, 1), "sellerId", json!(""))],
            ),
        ),
        ("a total that is not the sum of the lines", wrong_total),
        ("101 lines", with("bad-101", many(101))),
    ];

    for (rule, order) in &cases {
        let answer = probe(&app, Method::POST, "place", order.clone()).await;

        let refused = answer["error"].as_str().unwrap_or_default();
        assert!(
            refused.starts_with("invalid: ") && refused.len() > "invalid: ".len(),
            "{rule}: {answer}"
        );
        let checkout = order["checkoutId"].as_str().expect("a checkout id");
        if !checkout.is_empty() {
            let stored = by_checkout(&app, checkout).await;
            assert_eq!(stored, json!({ "ok": null }), "{rule}: nothing stored");
        }
    }
    assert_eq!(ann.get_json(ORDERS).await, json!([]), "nothing placed");

    let hundred = place(&app, &with("ok-100", many(100))).await;
    assert_eq!(hundred["lines"].as_array().map(Vec::len), Some(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_records_its_uncredited_sellers_once() {
    let app = spawn_app_with_orders_probe().await;
    let seller = new_admin(&app, "Sid").await;
    let lamp = product(&seller, "Lamp", 20.0).await;
    let buyer = app.new_user("Buyer").await;
    let placed = place(
        &app,
        &new_order("chk-uncredited", &buyer.id, vec![line(&lamp, 1)]),
    )
    .await;
    let id = placed["id"].as_str().expect("id");
    assert_eq!(placed["uncreditedSellers"], json!([]));
    let record = |sellers: Value| {
        let path = format!("record-uncredited/{id}");
        let app = &app;
        async move { probe(app, Method::POST, &path, json!({ "sellerIds": sellers })).await }
    };

    let first = record(json!([seller.id])).await;
    let again = record(json!([seller.id])).await;

    assert_eq!(first["ok"]["uncreditedSellers"], json!([seller.id]));
    assert_eq!(again, first, "recording again changes nothing");
    assert_eq!(
        get(&app, id).await["ok"]["uncreditedSellers"],
        json!([seller.id])
    );
    let stranger = record(json!(["someone-else"])).await;
    assert!(
        stranger["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("invalid")),
        "{stranger}"
    );
    let path = "record-uncredited/no-such-order";
    let missing = probe(
        &app,
        Method::POST,
        path,
        json!({ "sellerIds": [seller.id] }),
    )
    .await;
    assert_eq!(missing["error"], "not-found");
}
