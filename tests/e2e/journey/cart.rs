//! The shopper's cart as the storefront drives it: "Add to cart" (`{productId, quantity}`), the
//! cart page, the quantity picker (it always sends `productId` too) and "Remove".

use super::shapes;
use super::storefront::Storefront;
use super::values;
use serde_json::{Value, json};

const CART: &str = "/api/v1/cart-items";

fn path_of(item: &Value) -> String {
    format!("{CART}/{}", values::id(&item["id"], "cartItem.id"))
}

/// Adds `quantity` of `product` (as the catalog shows it now); answers the CartItem.
pub async fn add(tab: &Storefront<'_>, product: &Value, quantity: u64) -> Value {
    let body = json!({ "productId": product["id"], "quantity": quantity });
    let item = tab.post(CART, Some(body), 201).await;
    shapes::cart_item(&item);
    assert_eq!(item["productId"], product["id"]);
    values::count(&item["quantity"], quantity as i64, "cartItem.quantity");
    assert_eq!(
        item["product"], *product,
        "the product as the catalog shows it"
    );
    assert_eq!(
        tab.get(&path_of(&item)).await,
        item,
        "GET shows it as answered"
    );
    item
}

/// The cart page: the caller's lines, each with its current product.
pub async fn cart(tab: &Storefront<'_>) -> Vec<Value> {
    let cart = tab.get(CART).await;
    let items = cart.as_array().expect("the cart is a list").clone();
    items.iter().for_each(shapes::cart_item);
    items
}

/// The cart page shows exactly `expected` (item ids and quantities), in any order.
pub async fn assert_cart(tab: &Storefront<'_>, expected: &[&Value]) {
    let line = |i: &Value| {
        (
            i["id"].to_string(),
            i["productId"].to_string(),
            i["quantity"].clone(),
        )
    };
    let mut got: Vec<_> = cart(tab).await.iter().map(line).collect();
    let mut want: Vec<_> = expected.iter().map(|i| line(i)).collect();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(got, want, "the cart");
}

/// The quantity picker: `{quantity, productId}`; answers the CartItem with the new quantity.
pub async fn change_quantity(tab: &Storefront<'_>, item: &Value, quantity: u64) -> Value {
    let body = json!({ "quantity": quantity, "productId": item["productId"] });
    let changed = tab.patch(&path_of(item), body).await;
    shapes::cart_item(&changed);
    assert_eq!(
        (&changed["id"], &changed["productId"]),
        (&item["id"], &item["productId"])
    );
    values::count(&changed["quantity"], quantity as i64, "cartItem.quantity");
    assert_eq!(changed["createdAt"], item["createdAt"]);
    changed
}

/// "Remove": answers the deleted line, which is then gone (404).
pub async fn remove(tab: &Storefront<'_>, item: &Value) {
    let removed = tab.delete(&path_of(item), 200).await;
    shapes::cart_item(&removed);
    assert_eq!(removed, *item, "the deleted CartItem");
    tab.get_refused(&path_of(item), 404).await;
}
