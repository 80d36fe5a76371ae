//! The contract's JSON objects (api-contract §2–§6) as the storefront reads them: exactly these
//! keys (one more is something leaking, one fewer a page that breaks), each of its kind
//! (`values.rs`). Which values they hold is the steps' business.

use super::values::{count, id, keys, money, times};
use serde_json::Value;

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
