//! Buying and selling as the storefront shows it: checkout (the page then goes to Stripe), Stripe
//! paying it by signed webhook, the saga completing the order, the buyer's orders pages and the
//! seller's sales page.

use super::shapes;
use super::storefront::Storefront;
use super::values;
use crate::api::ClerkUser;
use crate::checkout::{Shop, creates, deliver_ok};
use crate::fake_clerk::ORIGIN;
use serde_json::Value;

const ORDERS: &str = "/api/v1/orders";

/// One line the buyer pays for: `(product name, unit price in cents, quantity)`.
pub type Line<'a> = (&'a str, &'a str, &'a str);

/// "Checkout": `POST /checkout` with no body; Stripe was asked once for a session of `lines`
/// (prices from the catalog, in cents) and the session is open. Answers Stripe's session id.
pub async fn checkout(
    shop: &Shop,
    tab: &Storefront<'_>,
    buyer_id: &str,
    lines: &[Line<'_>],
) -> String {
    let created = tab.post("/api/v1/checkout", None, 201).await;
    values::keys(
        &created,
        &["stripeSessionUrl", "sessionId"],
        "the checkout answer",
    );
    let session_id = values::id(&created["sessionId"], "sessionId").to_owned();
    assert!(
        session_id.starts_with("cs_"),
        "Stripe's session id: {session_id}"
    );
    let session = shop
        .stripe
        .session(&session_id)
        .expect("Stripe made the session");
    assert_eq!(
        created["stripeSessionUrl"], session["url"],
        "where the page goes"
    );

    let sent = creates(&shop.stripe);
    assert_eq!(sent.len(), 1, "one session create");
    let field = |key: String| {
        let found = sent[0].form.iter().find(|(k, _)| *k == key);
        found
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{key} sent"))
    };
    assert_eq!(field("metadata[userId]".into()), buyer_id);
    for (i, (name, cents, quantity)) in lines.iter().enumerate() {
        let line = |part: &str| field(format!("line_items[{i}]{part}"));
        assert_eq!(line("[price_data][product_data][name]"), *name);
        assert_eq!(line("[price_data][unit_amount]"), *cents);
        assert_eq!(line("[quantity]"), *quantity);
    }
    assert_eq!(session_status(tab, &session_id).await["status"], "open");
    session_id
}

/// `GET /checkout/sessions/:id`, the page the storefront polls on Stripe's success return.
pub async fn session_status(tab: &Storefront<'_>, session_id: &str) -> Value {
    let status = tab
        .get(&format!("/api/v1/checkout/sessions/{session_id}"))
        .await;
    let object = status.as_object().expect("an object");
    assert!(
        object
            .keys()
            .all(|k| ["sessionId", "status", "orderId"].contains(&k.as_str())),
        "{status}"
    );
    assert_eq!(status["sessionId"], session_id);
    status
}

/// The buyer pays on Stripe's page; Stripe sends the signed `checkout.session.completed`.
pub async fn pay(shop: &Shop, session_id: &str) {
    deliver_ok(&shop.app, &shop.stripe.complete(session_id, "paid")).await;
}

/// Waits for the saga to settle the buyer's order; it must be COMPLETED.
pub async fn completed_order(buyer: &ClerkUser<'_>) -> Value {
    let order = crate::saga::settled_order(buyer).await;
    assert_eq!(order["status"], "COMPLETED", "{order}");
    order
}

/// The orders page: the buyer's orders, newest first, plain and paged, each as the details
/// page shows it.
pub async fn orders(tab: &Storefront<'_>) -> Vec<Value> {
    let list = tab.get(ORDERS).await;
    let list = list.as_array().expect("a plain array").clone();
    list.iter().for_each(shapes::order);
    let paged = tab.get(&format!("{ORDERS}?page=1&limit=10")).await;
    let page = shapes::page(&paged, "orders", list.len() as u64, 1, 10);
    assert_eq!(page, list.as_slice(), "the same orders, paged");
    for order in &list {
        let id = values::id(&order["id"], "order.id");
        let details = tab.get(&format!("{ORDERS}/{id}")).await;
        assert_eq!(&details, order, "the details page shows the listed order");
    }
    list
}

/// The one order of `session_id`: `lines` of `(product as it is now, quantity, unit price)`,
/// status COMPLETED, owned by the buyer.
pub fn assert_order(order: &Value, buyer_id: &str, session_id: &str, lines: &[(&Value, u64, f64)]) {
    assert_eq!(order["userId"], buyer_id);
    assert_eq!(order["checkoutSessionId"], session_id);
    assert_eq!(order["status"], "COMPLETED");
    assert_lines(order, lines);
    let total: f64 = lines.iter().map(|(_, q, unit)| *q as f64 * unit).sum();
    values::money(&order["total"], total, "order.total");
}

/// The order's (or sale's) items are `lines`, in order, with what the storefront reads of them.
fn assert_lines(order: &Value, lines: &[(&Value, u64, f64)]) {
    let items = order["orderItems"].as_array().expect("orderItems");
    assert_eq!(items.len(), lines.len(), "{order}");
    for (item, (product, quantity, unit)) in items.iter().zip(lines) {
        assert_eq!(item["productId"], product["id"]);
        assert_eq!(item["product"], **product, "the product as it is now");
        assert!(item["product"]["name"].is_string() && item["product"]["imageUrls"].is_array());
        values::count(&item["quantity"], *quantity as i64, "orderItem.quantity");
        values::money(&item["unitPrice"], *unit, "orderItem.unitPrice");
        values::money(&item["price"], *quantity as f64 * unit, "orderItem.price");
    }
}

/// The buyer's "You made a purchase!" email links to the order's page.
pub fn assert_purchase_email(shop: &Shop, email: &str, order_id: &str) {
    let mail = shop.email.sent_to(email);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].subject, "You made a purchase!");
    let link = format!("{ORIGIN}/orders/{order_id}");
    assert!(
        mail[0].html.contains(&link) && mail[0].text.contains(&link),
        "{link}"
    );
}

/// The sales page: each sale with the seller's lines, their subtotal and the buyer's public
/// name; nothing of the buyer's order beyond that. Paged like the orders.
pub async fn sales(tab: &Storefront<'_>) -> Vec<Value> {
    let list = tab.get(&format!("{ORDERS}/sales")).await;
    let list = list.as_array().expect("a plain array").clone();
    list.iter().for_each(shapes::sale);
    let paged = tab.get(&format!("{ORDERS}/sales?page=1&limit=10")).await;
    let page = shapes::page(&paged, "orders", list.len() as u64, 1, 10);
    assert_eq!(page, list.as_slice(), "the same sales, paged");
    list
}

/// One sale: of `order`, to `buyer` (`{id, name}`), of `lines`.
pub fn assert_sale(sale: &Value, order: &Value, buyer: Value, lines: &[(&Value, u64, f64)]) {
    assert_eq!(sale["id"], order["id"]);
    assert_eq!(sale["buyer"], buyer);
    assert_eq!(sale["status"], order["status"]);
    assert_eq!(
        (&sale["createdAt"], &sale["updatedAt"]),
        (&order["createdAt"], &order["updatedAt"])
    );
    assert_lines(sale, lines);
    let subtotal: f64 = lines.iter().map(|(_, q, unit)| *q as f64 * unit).sum();
    values::money(&sale["subtotal"], subtotal, "sale.subtotal");
}
