//! The seller's pages: becoming ADMIN, listing, editing and deleting products, and the catalog
//! as anyone browses it (plain and paged).

use super::account::{Money, assert_money};
use super::shapes;
use super::storefront::Storefront;
use super::values;
use serde_json::{Value, json};

const PRODUCTS: &str = "/api/v1/products";

fn path_of(product: &Value) -> String {
    format!("{PRODUCTS}/{}", values::id(&product["id"], "product.id"))
}

/// "Become a seller": NADMIN → ADMIN for $160,000 (balance down, `amountSpent` up); answers
/// the full User the storefront stores.
pub async fn become_admin(tab: &Storefront<'_>) -> Value {
    let before = super::account::me(tab).await;
    let body = json!({ "role": "ADMIN" });
    let user = tab
        .post("/api/v1/auth/update-user-role", Some(body), 200)
        .await;
    shapes::own_user(&user);
    assert_eq!(user["role"], "ADMIN");
    assert_eq!(
        (&user["id"], &user["email"]),
        (&before["id"], &before["email"])
    );
    assert_money(&user, Money::new(3_840_000.0, 160_000.0, 0.0), (0, 0));
    assert_eq!(super::account::me(tab).await, user, "users/me agrees");
    user
}

/// Lists `draft` (the storefront's create form) as `seller`; asserts the Product answered and
/// shown, and the 4% fee of price × quantity taken from the seller's balance.
pub async fn list_product(tab: &Storefront<'_>, seller: &Value, draft: Value) -> Value {
    let balance = super::account::me(tab).await["balance"]
        .as_f64()
        .expect("a balance");
    let product = tab.post(PRODUCTS, Some(draft.clone()), 201).await;
    shapes::product(&product);
    for field in ["name", "description", "price", "quantity", "imageUrls"] {
        let (got, sent) = (&product[field], &draft[field]);
        assert!(
            values::same(got, sent),
            "{field} as listed: {got}, sent {sent}"
        );
    }
    assert_eq!(product["adminId"], seller["id"]);
    assert_eq!(
        product["admin"],
        json!({ "id": seller["id"], "name": seller["name"] })
    );
    values::count(&product["orderCount"], 0, "orderCount");
    assert_eq!(product["createdAt"], product["updatedAt"], "new");
    assert_eq!(
        shown(tab, &product).await,
        product,
        "GET shows it as answered"
    );
    let fee = fee_cents(&draft["price"], &draft["quantity"]) as f64 / 100.0;
    let me = super::account::me(tab).await;
    values::money(
        &me["balance"],
        balance - fee,
        "balance after the listing fee",
    );
    product
}

/// 4% of price × quantity in cents, rounded half up (contract §2).
fn fee_cents(price: &Value, quantity: &Value) -> i64 {
    let cents = (price.as_f64().expect("a price") * 100.0).round() as i64;
    let value = cents * quantity.as_i64().expect("a quantity");
    (value * 4 + 50) / 100
}

/// The edit form: `changes` applied, everything else kept; the fee on the increase of
/// price × quantity is taken.
pub async fn edit_product(tab: &Storefront<'_>, product: &Value, changes: Value) -> Value {
    let balance = super::account::me(tab).await["balance"]
        .as_f64()
        .expect("a balance");
    let edited = tab.patch(&path_of(product), changes.clone()).await;
    shapes::product(&edited);
    let changed = changes.as_object().expect("changes");
    for (field, was) in product.as_object().expect("a product") {
        match changed.get(field) {
            Some(now) => assert!(values::same(&edited[field], now), "{field}: {edited}"),
            None if field == "updatedAt" => assert!(edited[field].as_str() >= was.as_str()),
            None => assert_eq!(&edited[field], was, "{field} kept"),
        }
    }
    assert_eq!(shown(tab, &edited).await, edited);
    let before = fee_cents(&product["price"], &product["quantity"]);
    let after = fee_cents(&edited["price"], &edited["quantity"]);
    let fee = (after - before).max(0) as f64 / 100.0;
    let me = super::account::me(tab).await;
    values::money(
        &me["balance"],
        balance - fee,
        "balance after the edit's fee",
    );
    edited
}

/// Deletes a product nobody ordered: answered as it was, then gone (404 with the contract's
/// message).
pub async fn delete_product(tab: &Storefront<'_>, product: &Value) {
    let deleted = tab.delete(&path_of(product), 200).await;
    assert_eq!(deleted, *product, "the Product as it was");
    let gone = tab.get_refused(&path_of(product), 404).await;
    let message = format!(
        "Product with id {} not found",
        product["id"].as_str().unwrap_or("")
    );
    assert_eq!(gone["message"], message.as_str());
    assert_eq!(gone["error"], "Not Found");
}

/// `GET /products/:id` as the product page reads it.
pub async fn shown(tab: &Storefront<'_>, product: &Value) -> Value {
    let shown = tab.get(&path_of(product)).await;
    shapes::product(&shown);
    shown
}

/// The catalog as anyone browses it: exactly `expected` (as they are now), newest first, as the
/// plain array the storefront reads and page by page.
pub async fn browse(tab: &Storefront<'_>, expected: &[&Value]) {
    let all = tab.get(PRODUCTS).await;
    let ids = |list: &[Value]| -> Vec<Value> { list.iter().map(|p| p["id"].clone()).collect() };
    let listed = all.as_array().expect("a plain array");
    listed.iter().for_each(shapes::product);
    let created: Vec<&str> = listed
        .iter()
        .filter_map(|p| p["createdAt"].as_str())
        .collect();
    assert!(
        created.is_sorted_by(|a, b| a >= b),
        "newest first: {created:?}"
    );
    // Products created in the same millisecond may come in either order.
    let by_id = |list: Vec<Value>| {
        let mut list = list;
        list.sort_by_key(|p| p["id"].to_string());
        list
    };
    let wanted = expected.iter().map(|p| (*p).clone()).collect();
    assert_eq!(by_id(listed.clone()), by_id(wanted), "the catalog");
    let total = expected.len() as u64;
    let mut paged = Vec::new();
    for page in 1..=total.max(1) {
        let answer = tab.get(&format!("{PRODUCTS}?page={page}&limit=1")).await;
        let items = shapes::page(&answer, "products", total, page, 1);
        items.iter().for_each(shapes::product);
        paged.extend(items.iter().cloned());
    }
    assert_eq!(ids(&paged), ids(listed), "the pages, in the list's order");
}
