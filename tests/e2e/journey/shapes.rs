//! The contract's JSON shapes (api-contract §1–§6) as the storefront reads them: exactly these
//! keys (one more is something leaking, one fewer a page that breaks), ids as non-empty
//! strings, money as dollars with at most two decimals, counts as integers, timestamps as
//! ISO-8601 UTC with milliseconds. Values are the steps' business; these check kinds.

use serde_json::Value;
use std::collections::BTreeSet;

const USER_KEYS: &[&str] = &[
    "id",
    "name",
    "role",
    "balance",
    "salesCount",
    "purchasesCount",
    "amountGained",
    "amountSpent",
    "createdAt",
    "updatedAt",
];
const PRODUCT_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "price",
    "quantity",
    "imageUrls",
    "adminId",
    "admin",
    "orderCount",
    "createdAt",
    "updatedAt",
];
const CART_ITEM_KEYS: &[&str] = &[
    "id",
    "productId",
    "quantity",
    "product",
    "createdAt",
    "updatedAt",
];
const ORDER_KEYS: &[&str] = &[
    "id",
    "userId",
    "status",
    "total",
    "checkoutSessionId",
    "orderItems",
    "createdAt",
    "updatedAt",
];
const SALE_KEYS: &[&str] = &[
    "id",
    "buyer",
    "status",
    "subtotal",
    "orderItems",
    "createdAt",
    "updatedAt",
];
const ORDER_ITEM_KEYS: &[&str] = &[
    "id",
    "productId",
    "quantity",
    "unitPrice",
    "price",
    "product",
];
const META_KEYS: &[&str] = &[
    "total",
    "page",
    "limit",
    "lastPage",
    "hasNextPage",
    "hasPreviousPage",
];

/// `value` is an object with exactly `keys`.
pub fn keys(value: &Value, keys: &[&str], what: &str) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is an object: {value}"));
    let got: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(got, want, "{what}'s keys: {value}");
}

/// The same JSON, numbers compared by value (the app writes whole dollars as `15`, a form
/// may send `15.0`: both are the number the storefront reads).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A non-empty string id; answers it.
pub fn id<'v>(value: &'v Value, what: &str) -> &'v str {
    value
        .as_str()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| panic!("{what} is a non-empty string id: {value}"))
}

/// Dollars on the wire: a JSON number with at most two decimals, equal to `expected`.
pub fn money(value: &Value, expected: f64, what: &str) {
    let dollars = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is a number of dollars: {value}"));
    let cents = dollars * 100.0;
    assert!(
        (cents - cents.round()).abs() < 1e-6,
        "{what} has at most two decimals: {value}"
    );
    assert!(
        (dollars - expected).abs() < 0.001,
        "{what} is {expected}, got {value}"
    );
}

/// A JSON integer (not `2.0`, not a string) equal to `expected`.
pub fn count(value: &Value, expected: i64, what: &str) {
    assert!(
        value.is_i64() || value.is_u64(),
        "{what} is an integer: {value}"
    );
    assert_eq!(value.as_i64(), Some(expected), "{what}");
}

/// `2026-05-01T12:00:00.000Z`: ISO-8601 in UTC with milliseconds, as the contract writes it.
pub fn timestamp<'v>(value: &'v Value, what: &str) -> &'v str {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a timestamp string: {value}"));
    let pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
    let fits = text.len() == pattern.len()
        && text.chars().zip(pattern.chars()).all(|(c, p)| match p {
            'd' => c.is_ascii_digit(),
            _ => c == p,
        });
    assert!(fits, "{what} is ISO-8601 UTC like {pattern}: {text}");
    text
}

/// `createdAt` and `updatedAt`, the latter not before the former.
fn times(value: &Value, what: &str) {
    let created = timestamp(&value["createdAt"], &format!("{what}.createdAt"));
    let updated = timestamp(&value["updatedAt"], &format!("{what}.updatedAt"));
    assert!(updated >= created, "{what} updated before it was created");
}

/// A user as its owner sees it (with `email`).
pub fn own_user(user: &Value) {
    let mut all = USER_KEYS.to_vec();
    all.push("email");
    keys(user, &all, "the user's own User");
    assert!(user["email"].is_string(), "email: {user}");
    user_fields(user);
}

/// A user as others see it: never `email`.
pub fn public_user(user: &Value) {
    keys(user, USER_KEYS, "a public User");
    user_fields(user);
}

fn user_fields(user: &Value) {
    id(&user["id"], "user.id");
    assert!(user["name"].is_string(), "name: {user}");
    let role = user["role"].as_str().unwrap_or_default();
    assert!(
        ["ADMIN", "NADMIN", "ANONYMOUS"].contains(&role),
        "role: {user}"
    );
    for field in ["balance", "amountGained", "amountSpent"] {
        let value = user[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field}: {user}"));
        money(&user[field], value, field);
    }
    for field in ["salesCount", "purchasesCount"] {
        assert!(user[field].is_u64(), "{field} is a count: {user}");
    }
    times(user, "user");
}

/// A product: `admin` is `{id, name}` of `adminId`; `imageUrls` a list of strings.
pub fn product(product: &Value) {
    keys(product, PRODUCT_KEYS, "a Product");
    id(&product["id"], "product.id");
    assert!(product["name"].is_string() && product["description"].is_string());
    let price = product["price"].as_f64().expect("price is a number");
    money(&product["price"], price, "product.price");
    assert!(product["quantity"].is_u64(), "quantity: {product}");
    assert!(product["orderCount"].is_u64(), "orderCount: {product}");
    let urls = product["imageUrls"]
        .as_array()
        .expect("imageUrls is a list");
    assert!(urls.iter().all(Value::is_string), "imageUrls: {product}");
    keys(&product["admin"], &["id", "name"], "product.admin");
    assert_eq!(product["admin"]["id"], product["adminId"], "{product}");
    id(&product["adminId"], "product.adminId");
    assert!(product["admin"]["name"].is_string());
    times(product, "product");
}

/// A cart line with its product as the catalog shows it.
pub fn cart_item(item: &Value) {
    keys(item, CART_ITEM_KEYS, "a CartItem");
    id(&item["id"], "cartItem.id");
    assert_eq!(item["productId"], item["product"]["id"], "{item}");
    assert!(item["quantity"].as_u64().is_some_and(|q| q >= 1), "{item}");
    product(&item["product"]);
    times(item, "cartItem");
}

/// An order line: `price` is the line total, `unitPrice` one unit.
fn order_item(item: &Value) {
    keys(item, ORDER_ITEM_KEYS, "an order item");
    id(&item["id"], "orderItem.id");
    assert_eq!(item["productId"], item["product"]["id"], "{item}");
    let quantity = item["quantity"].as_u64().expect("quantity is a count") as f64;
    let unit = item["unitPrice"].as_f64().expect("unitPrice is a number");
    money(&item["unitPrice"], unit, "orderItem.unitPrice");
    money(
        &item["price"],
        unit * quantity,
        "orderItem.price (the line total)",
    );
    product(&item["product"]);
}

fn lines_total(order: &Value) -> f64 {
    let items = order["orderItems"]
        .as_array()
        .expect("orderItems is a list");
    items.iter().for_each(order_item);
    items.iter().filter_map(|i| i["price"].as_f64()).sum()
}

/// A buyer's order: `total` is the sum of its lines.
pub fn order(order: &Value) {
    keys(order, ORDER_KEYS, "an Order");
    id(&order["id"], "order.id");
    id(&order["userId"], "order.userId");
    id(&order["checkoutSessionId"], "order.checkoutSessionId");
    status(&order["status"]);
    let total = lines_total(order);
    money(&order["total"], total, "order.total");
    times(order, "order");
}

/// A seller's sale: the buyer's public name, the seller's lines and their subtotal only.
pub fn sale(sale: &Value) {
    keys(sale, SALE_KEYS, "a sale");
    id(&sale["id"], "sale.id");
    keys(&sale["buyer"], &["id", "name"], "sale.buyer");
    status(&sale["status"]);
    let subtotal = lines_total(sale);
    money(&sale["subtotal"], subtotal, "sale.subtotal");
    times(sale, "sale");
}

fn status(status: &Value) {
    let known = ["PROCESSING", "COMPLETED", "REFUNDED"];
    assert!(
        known.contains(&status.as_str().unwrap_or_default()),
        "status: {status}"
    );
}

/// `{<items>: [...], meta}` of a paged list, with the meta of `total` items at `page`/`limit`.
pub fn page<'v>(answer: &'v Value, items: &str, total: u64, page: u64, limit: u64) -> &'v [Value] {
    keys(answer, &[items, "meta"], "a page");
    keys(&answer["meta"], META_KEYS, "page meta");
    let last = total.div_ceil(limit).max(1);
    let meta = &answer["meta"];
    for (field, want) in [
        ("total", total),
        ("page", page),
        ("limit", limit),
        ("lastPage", last),
    ] {
        count(&meta[field], want as i64, &format!("meta.{field}"));
    }
    assert_eq!(meta["hasNextPage"], page < last, "{meta}");
    assert_eq!(meta["hasPreviousPage"], page > 1, "{meta}");
    answer[items].as_array().expect("the page's items")
}

/// The contract's error body: `{statusCode, message, error}` (+ `errors` for validation).
pub fn error(body: &Value, status: u16) {
    let object = body.as_object().expect("an error object");
    let allowed = ["statusCode", "message", "error", "errors"];
    assert!(
        object.keys().all(|k| allowed.contains(&k.as_str())),
        "error keys: {body}"
    );
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "one human-readable message: {body}"
    );
    assert!(body["error"].is_string(), "{body}");
}
