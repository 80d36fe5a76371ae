//! The storefront journey (issue #16, item 4): the Next.js storefront's real flows, in the order
//! a seller and a shopper live them, against the whole app on the run's host (reen-host, or
//! Spin with `REEN_TEST_HOST=spin`), both signed in with Clerk RS256 session tokens; Stripe, the
//! email API and Clerk's Backend API are the loopback fakes, the saga runs on a private
//! redis-server. Every answer goes through `storefront.rs` (status, CORS, cookies, no leak, the
//! error body) and every object through `shapes.rs` (exactly the contract's keys and kinds);
//! the steps below assert the values the pages show.

mod account;
mod cart;
mod catalog;
mod leaks;
mod leaving;
mod purchase;
mod shapes;
mod storefront;
mod values;

use crate::checkout::open_shop;
use account::{Money, Persona, assert_money};
use serde_json::{Value, json};
use storefront::Storefront;

/// Signs up on the storefront (Clerk tells the app by webhook) and sells.
const SAM: Persona = Persona {
    clerk_id: "user_2journey_sam",
    first: "Sam",
    last: "Seller",
};
/// Arrives with a Clerk session the app has never seen (provisioned from Clerk's API) and buys.
const ADA: Persona = Persona {
    clerk_id: "user_2journey_ada",
    first: "Ada",
    last: "Shopper",
};

/// The storefront's "new product" form.
fn draft(name: &str, price: f64, quantity: u64) -> Value {
    json!({
        "name": name,
        "description": format!("A fine {name}"),
        "price": price,
        "quantity": quantity,
        "imageUrls": [format!("https://cdn.example.com/{}.png", name.to_lowercase())],
    })
}

fn by_id(list: &[Value]) -> Vec<Value> {
    let mut list = list.to_vec();
    list.sort_by_key(|p| p["id"].to_string());
    list
}

fn id_of(value: &Value) -> &str {
    values::id(&value["id"], "id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_and_a_shopper_walk_the_storefront_from_first_page_load_to_account_deletion() {
    let shop = open_shop(&[]).await;
    let app = &shop.app;
    let visitor = Storefront::visitor(app);

    // A signed-out visitor: an empty shop.
    catalog::browse(&visitor, &[]).await;

    // Sam signs up; the app knows him from Clerk's webhook, without asking Clerk's API.
    let sam = account::signed_up_by_webhook(app, &SAM).await;
    let sam_tab = Storefront::signed_in(&sam);
    let (_, products) = account::first_page_load(&sam_tab, &SAM, &sam.email).await;
    assert_eq!(products, json!([]));
    assert!(
        app.clerk.requests().is_empty(),
        "{:?}",
        app.clerk.requests()
    );

    // He becomes a seller, lists three products, edits one and deletes another.
    let sam_me = catalog::become_admin(&sam_tab).await;
    let sam_id = id_of(&sam_me).to_owned();
    let lamp = catalog::list_product(&sam_tab, &sam_me, draft("Lamp", 19.99, 5)).await;
    let mug = catalog::list_product(&sam_tab, &sam_me, draft("Mug", 12.5, 10)).await;
    let kettle = catalog::list_product(&sam_tab, &sam_me, draft("Kettle", 30.0, 2)).await;
    let changes = json!({ "name": "Blue Mug", "price": 15 });
    let mug = catalog::edit_product(&sam_tab, &mug, changes).await;
    catalog::delete_product(&sam_tab, &kettle).await;
    catalog::browse(&visitor, &[&lamp, &mug]).await;
    // $160,000 to sell, then 4% fees: $4.00, $5.00, $2.40 and $1.00 for the dearer mug; the
    // fees count as spent, as the upgrade does (the kettle's is not given back).
    let sam_money = Money::new(3_839_987.6, 160_012.4, 0.0);
    assert_money(&account::me(&sam_tab).await, sam_money, (0, 0));

    // Ada's first visit: her Clerk session provisions her from Clerk's Backend API, once.
    let ada = ADA.at_clerk(app);
    let ada_tab = Storefront::signed_in(&ada);
    let (ada_me, products) = account::first_page_load(&ada_tab, &ADA, &ada.email).await;
    let ada_id = id_of(&ada_me).to_owned();
    let products = products.as_array().expect("a list").clone();
    assert_eq!(by_id(&products), by_id(&[lamp.clone(), mug.clone()]));
    let calls = app.clerk.requests();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].path, format!("/v1/users/{}", ADA.clerk_id));
    let anonymous_id = account::seller_and_anonymous(&ada_tab, &sam_me).await;

    // Her cart: two lamps in the end; the mug added and removed again.
    let lamp_line = cart::add(&ada_tab, &lamp, 1).await;
    let mug_line = cart::add(&ada_tab, &mug, 2).await;
    cart::assert_cart(&ada_tab, &[&lamp_line, &mug_line]).await;
    let lamp_line = cart::change_quantity(&ada_tab, &lamp_line, 2).await;
    cart::remove(&ada_tab, &mug_line).await;
    cart::assert_cart(&ada_tab, &[&lamp_line]).await;

    // Checkout holds $39.98 of her balance; Stripe's signed webhook pays; the saga completes.
    let lines = [("Lamp", "1999", "2")];
    let session_id = purchase::checkout(&shop, &ada_tab, &ada_id, &lines).await;
    let held = Money::new(3_999_960.02, 0.0, 0.0);
    assert_money(&account::me(&ada_tab).await, held, (0, 0));
    purchase::pay(&shop, &session_id).await;
    let settled = purchase::completed_order(&ada).await;

    // Her orders: the lamp as it is now (3 left, ordered once), the line total, the total.
    let lamp_now = catalog::shown(&visitor, &lamp).await;
    values::count(&lamp_now["quantity"], 3, "stock after the sale");
    values::count(&lamp_now["orderCount"], 1, "orderCount after the sale");
    let orders = purchase::orders(&ada_tab).await;
    assert_eq!(orders, [settled]);
    let order = &orders[0];
    purchase::assert_order(order, &ada_id, &session_id, &[(&lamp_now, 2, 19.99)]);
    let status = purchase::session_status(&ada_tab, &session_id).await;
    let paid = json!({ "sessionId": session_id, "status": "paid", "orderId": order["id"] });
    assert_eq!(status, paid);
    let spent = Money::new(3_999_960.02, 39.98, 0.0);
    assert_money(&account::me(&ada_tab).await, spent, (1, 0));
    cart::assert_cart(&ada_tab, &[]).await;
    purchase::assert_purchase_email(&shop, &ada.email, id_of(order));

    // Sam's sales page; the money reached him. A shopper has no sales page.
    let sales = purchase::sales(&sam_tab).await;
    assert_eq!(sales.len(), 1, "{sales:?}");
    let ada_public = json!({ "id": ada_id, "name": ADA.name() });
    purchase::assert_sale(&sales[0], order, ada_public, &[(&lamp_now, 2, 19.99)]);
    let sam_money = Money::new(3_840_027.58, 160_012.4, 39.98);
    assert_money(&account::me(&sam_tab).await, sam_money, (0, 1));
    ada_tab.get_refused("/api/v1/orders/sales", 403).await;

    // Ada deletes her account on the storefront: signed out; Sam's sale keeps an unnamed buyer.
    leaving::delete_account(app, &ada_tab, &ada_id).await;
    leaving::signed_out(&ada_tab).await;
    let sales = purchase::sales(&sam_tab).await;
    assert_eq!(
        sales[0]["buyer"],
        json!({ "id": ada_id, "name": "Unknown" })
    );

    // Sam deletes his in Clerk: signed out; the ordered lamp is kept for the order and handed to
    // the ANONYMOUS user, the never-ordered mug is gone.
    leaving::deleted_at_clerk(app, SAM.clerk_id, &sam_id).await;
    leaving::signed_out(&sam_tab).await;
    let kept = catalog::shown(&visitor, &lamp).await;
    assert_eq!(
        kept["admin"],
        json!({ "id": anonymous_id, "name": "Anonymous" })
    );
    let mug_path = format!("/api/v1/products/{}", id_of(&mug));
    visitor.get_refused(&mug_path, 404).await;
    catalog::browse(&visitor, &[&kept]).await;
    assert_eq!(
        app.clerk.requests().len(),
        1,
        "nobody was provisioned again"
    );
}
