//! Leaving: the storefront's "Delete account" (`DELETE /auth/users/me`) and Clerk's
//! `user.deleted` webhook (an account deleted in Clerk's own profile page), and what the
//! storefront sees afterwards: its token is refused (401, so it signs the user out).

use super::shapes;
use super::storefront::Storefront;
use crate::account_deletion::completion;
use crate::auth_clerk::deliver;
use crate::fake_clerk::webhook;
use crate::helpers::TestApp;
use serde_json::{Value, json};

/// "Delete account": accepted (202 `{status: "deleting"}`), then done in the background.
pub async fn delete_account(app: &TestApp, tab: &Storefront<'_>, user_id: &str) {
    let answer = tab.delete("/api/v1/auth/users/me", 202).await;
    assert_eq!(answer, json!({ "status": "deleting" }));
    completion(app, user_id).await;
}

/// Clerk deletes the user and tells the app by signed webhook.
pub async fn deleted_at_clerk(app: &TestApp, clerk_id: &str, user_id: &str) {
    let data = json!({ "id": clerk_id, "object": "user", "deleted": true });
    let hook = webhook(&format!("msg_deleted_{clerk_id}"), "user.deleted", data);
    let res = deliver(app, &hook).await;
    assert_eq!(res.status(), 200, "user.deleted");
    assert_eq!(
        res.json::<Value>().await.ok(),
        Some(json!({ "received": true }))
    );
    completion(app, user_id).await;
}

/// The deleted user's storefront: every signed-in page answers 401, with the contract's error
/// body, and nothing about the account.
pub async fn signed_out(tab: &Storefront<'_>) {
    for path in [
        "/api/v1/auth/users/me",
        "/api/v1/cart-items",
        "/api/v1/orders",
    ] {
        let refused = tab.get_refused(path, 401).await;
        shapes::error(&refused, 401);
        assert_eq!(refused["error"], "Unauthorized", "{path}");
    }
}
