//! Who is signed in and what their account shows: a Clerk sign-up the app learns by webhook, the
//! storefront's first page load (`users/me` and the catalog), the account's money and counts,
//! and the other users a page names.

use super::shapes;
use super::storefront::Storefront;
use super::values;
use crate::api::ClerkUser;
use crate::auth_clerk::deliver;
use crate::fake_clerk::{clerk_user, webhook};
use crate::helpers::TestApp;
use serde_json::{Value, json};

const ME: &str = "/api/v1/auth/users/me";

/// Someone as Clerk knows them.
pub struct Persona {
    pub clerk_id: &'static str,
    pub first: &'static str,
    pub last: &'static str,
}

impl Persona {
    /// The name the app shows: Clerk's first and last name.
    pub fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }

    /// Known to Clerk (and its Backend API), not yet to the app.
    pub fn at_clerk<'a>(&self, app: &'a TestApp) -> ClerkUser<'a> {
        app.clerk_user(self.clerk_id, self.first, self.last)
    }
}

/// Signs up on the storefront: Clerk creates the user and sends `user.created`, signed by Svix.
pub async fn signed_up_by_webhook<'a>(app: &'a TestApp, who: &Persona) -> ClerkUser<'a> {
    let user = who.at_clerk(app);
    let data = clerk_user(who.clerk_id, who.first, who.last, &user.email);
    let hook = webhook(&format!("msg_{}", who.clerk_id), "user.created", data);
    let res = deliver(app, &hook).await;
    assert_eq!(res.status(), 200, "user.created");
    assert_eq!(
        res.json::<Value>().await.ok(),
        Some(json!({ "received": true }))
    );
    user
}

/// The storefront's first page load, signed in: the preflight, `users/me` (a new account:
/// NADMIN, $4,000,000, nothing bought or sold), the same by Clerk id, and the catalog. Answers `(me, products)`.
pub async fn first_page_load(tab: &Storefront<'_>, who: &Persona, email: &str) -> (Value, Value) {
    tab.preflight("GET", ME).await;
    let me = tab.get(ME).await;
    shapes::own_user(&me);
    assert_eq!(me["name"], who.name().as_str());
    assert_eq!(me["email"], email);
    assert_eq!(me["role"], "NADMIN");
    assert_money(&me, Money::new(4_000_000.0, 0.0, 0.0), (0, 0));
    // The storefront knows Clerk's user id, not ours: the same User by that id.
    let by_clerk_id = tab
        .get(&format!("/api/v1/auth/users/{}", who.clerk_id))
        .await;
    assert_eq!(by_clerk_id, me, "users/<Clerk id> is users/me");
    let products = tab.get("/api/v1/products").await;
    let list = products
        .as_array()
        .expect("without page/limit, a plain array");
    list.iter().for_each(shapes::product);
    (me, products)
}

/// An account's `balance`, `amountSpent` and `amountGained`, in dollars.
#[derive(Debug, Clone, Copy)]
pub struct Money {
    pub balance: f64,
    pub spent: f64,
    pub gained: f64,
}

impl Money {
    pub fn new(balance: f64, spent: f64, gained: f64) -> Self {
        Self {
            balance,
            spent,
            gained,
        }
    }
}

/// `user` shows `money` and `(purchasesCount, salesCount)`.
pub fn assert_money(user: &Value, money: Money, (purchases, sales): (i64, i64)) {
    values::money(&user["balance"], money.balance, "balance");
    values::money(&user["amountSpent"], money.spent, "amountSpent");
    values::money(&user["amountGained"], money.gained, "amountGained");
    values::count(&user["purchasesCount"], purchases, "purchasesCount");
    values::count(&user["salesCount"], sales, "salesCount");
}

/// `users/me` now, checked as the account page reads it.
pub async fn me(tab: &Storefront<'_>) -> Value {
    let me = tab.get(ME).await;
    shapes::own_user(&me);
    me
}

/// A seller's profile as a shopper's page shows it (by id, public: no email), and the ANONYMOUS
/// user's id from the user list (the owner of products whose seller left).
pub async fn seller_and_anonymous(tab: &Storefront<'_>, seller: &Value) -> String {
    let id = seller["id"].as_str().expect("the seller's id");
    let shown = tab.get(&format!("/api/v1/auth/users/{id}")).await;
    shapes::public_user(&shown);
    assert_eq!(shown["name"], seller["name"]);
    assert_eq!(shown["role"], "ADMIN");
    let users = tab.get("/api/v1/auth/find-all").await;
    let users = users.as_array().expect("a list of users");
    users.iter().for_each(shapes::public_user);
    assert!(users.iter().any(|u| u["id"] == id), "the seller is listed");
    let anonymous = users
        .iter()
        .find(|u| u["role"] == "ANONYMOUS")
        .expect("the ANONYMOUS user is listed");
    anonymous["id"].as_str().expect("an id").to_owned()
}
