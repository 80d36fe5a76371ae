//! Users: look-ups by id, the public list, role upgrades and their price, renaming, deletion.

use crate::api::{PASSWORD, SignedIn, body};
use crate::helpers::spawn_app;
use reqwest::Method;
use serde_json::{Value, json};

fn assert_public(user: &Value) {
    let fields: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for secret in ["email", "clerkId", "password", "passwordHash"] {
        assert!(!fields.contains(&secret), "{secret} leaked in {user}");
    }
    for field in [
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
    ] {
        assert!(fields.contains(&field), "{field} missing in {user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_their_own_full_record_and_only_the_public_record_of_others() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    let bob = app.new_user("Bob").await;

    let me = ada.get_json("/api/v1/auth/users/me").await;
    assert_eq!(me["email"], ada.email);
    assert_eq!(me["id"], ada.id);
    assert!(me["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        ada.get_json(&format!("/api/v1/auth/users/{}", ada.id))
            .await,
        me
    );

    let other = ada
        .get_json(&format!("/api/v1/auth/users/{}", bob.id))
        .await;
    assert_eq!(other["name"], "Bob");
    assert_public(&other);

    let res = ada
        .get("/api/v1/auth/users/0193b2f4-6a1c-7c3e-9d2b-5f0e4a1b2c3d")
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        body(res).await["message"],
        "User with id 0193b2f4-6a1c-7c3e-9d2b-5f0e4a1b2c3d not found"
    );
    assert_eq!(
        app.send(app.request(Method::GET, "/api/v1/auth/users/me"))
            .await
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_all_lists_every_user_publicly_including_the_anonymous_system_user() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    app.new_user("Bob").await;

    let users = ada.get_json("/api/v1/auth/find-all").await;

    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 3);
    users.iter().for_each(assert_public);
    let roles: Vec<&str> = users.iter().map(|u| u["role"].as_str().unwrap()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "ANONYMOUS").count(), 1);
    let again = ada.get_json("/api/v1/auth/find-all").await;
    assert_eq!(
        again.as_array().unwrap().len(),
        3,
        "the ANONYMOUS user is created once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_to_admin_charges_160000_once() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;

    let res = ada
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(res.status(), 200);
    let upgraded = body(res).await;
    assert_eq!(upgraded["role"], "ADMIN");
    assert_eq!(upgraded["balance"], 3_840_000);
    assert_eq!(upgraded["amountSpent"], 160_000);
    assert_eq!(upgraded["email"], ada.email);

    let res = ada
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;
    assert_eq!(res.status(), 200);
    let same = body(res).await;
    assert_eq!(
        same["balance"], 3_840_000,
        "the same role again costs nothing"
    );
    assert_eq!(ada.me().await["role"], "ADMIN");

    let res = ada
        .post("/api/v1/auth/update-user-role", json!({ "role": "NADMIN" }))
        .await;
    assert_eq!(
        body(res).await["balance"],
        3_840_000,
        "downgrading is free and not refunded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_without_the_balance_is_refused_and_charges_nothing() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    // 25 upgrades spend the whole $4,000,000.
    for _ in 0..25 {
        let up = ada
            .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
            .await;
        assert_eq!(up.status(), 200);
        let down = ada
            .post("/api/v1/auth/update-user-role", json!({ "role": "NADMIN" }))
            .await;
        assert_eq!(down.status(), 200);
    }

    let res = ada
        .post("/api/v1/auth/update-user-role", json!({ "role": "ADMIN" }))
        .await;

    assert_eq!(res.status(), 400);
    assert_eq!(
        body(res).await["message"],
        "Insufficient balance to upgrade to ADMIN. Minimum required is $160,000.00"
    );
    let me = ada.me().await;
    assert_eq!(me["role"], "NADMIN");
    assert_eq!(me["balance"], 0);
    assert_eq!(me["amountSpent"], 4_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_is_replayed_for_the_same_idempotency_key() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    let upgrade = |role: &str| {
        app.send(
            app.request(Method::POST, "/api/v1/auth/update-user-role")
                .bearer_auth(&ada.token)
                .header("idempotency-key", "upgrade-1")
                .json(&json!({ "role": role })),
        )
    };
    assert_eq!(upgrade("ADMIN").await.status(), 200);
    ada.post("/api/v1/auth/update-user-role", json!({ "role": "NADMIN" }))
        .await;

    let replay = upgrade("ADMIN").await;
    assert_eq!(replay.status(), 200);
    assert_eq!(body(replay).await["balance"], 3_840_000);
    assert_eq!(
        ada.me().await["role"],
        "NADMIN",
        "the replay did not run again"
    );
    assert_eq!(
        upgrade("NADMIN").await.status(),
        422,
        "same key, other body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_roles_and_fields_are_refused() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    let res = ada
        .post(
            "/api/v1/auth/update-user-role",
            json!({ "role": "ANONYMOUS" }),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        body(res).await["message"]
            .as_str()
            .unwrap()
            .starts_with("role must be one of")
    );
    let res = ada
        .post(
            "/api/v1/auth/update-user-role",
            json!({ "role": "ADMIN", "balance": 1 }),
        )
        .await;
    assert_eq!(
        body(res).await["message"],
        "property balance should not exist"
    );
    assert_eq!(ada.me().await["balance"], 4_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_renames_themself() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;

    let res = ada
        .patch(
            "/api/v1/auth/users/me",
            json!({ "name": "  Countess Lovelace " }),
        )
        .await;

    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await["name"], "Countess Lovelace");
    assert_eq!(ada.me().await["name"], "Countess Lovelace");
    let res = ada
        .patch("/api/v1/auth/users/me", json!({ "name": "x".repeat(101) }))
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_can_no_longer_be_used() {
    let app = spawn_app().await;
    let ada = app.new_user("Ada").await;
    let bob = app.new_user("Bob").await;

    let res = ada.delete("/api/v1/auth/users/me").await;

    assert_eq!(res.status(), 202);
    assert_eq!(body(res).await, json!({ "status": "deleting" }));
    assert_eq!(ada.get("/api/v1/auth/users/me").await.status(), 401);
    assert_eq!(app.refresh(&ada.refresh).await.status(), 401);
    assert_eq!(app.sign_in(&ada.email, PASSWORD).await.status(), 401);
    assert_eq!(
        bob.get(&format!("/api/v1/auth/users/{}", ada.id))
            .await
            .status(),
        404
    );
    let names: Vec<Value> = bob
        .get_json("/api/v1/auth/find-all")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert!(!names.contains(&json!("Ada")));
    assert_eq!(
        app.sign_up("Ada again", &ada.email, PASSWORD)
            .await
            .status(),
        201,
        "the email is free again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_racing_the_deletion_does_not_bring_the_user_back() {
    let app = spawn_app().await;
    for round in 0..5 {
        let eve = app.new_user("Eve").await;

        // The sign-in hashes for ~35 ms after reading the user; the deletion commits meanwhile.
        let (signed_in, deleted) = tokio::join!(
            app.sign_in(&eve.email, PASSWORD),
            eve.delete("/api/v1/auth/users/me")
        );

        assert_eq!(deleted.status(), 202, "round {round}");
        // Cart and products know users only through the identity projection.
        assert_eq!(
            eve.get("/api/v1/cart-items").await.status(),
            401,
            "round {round}"
        );
        if signed_in.status() == 200 {
            let token = body(signed_in).await["accessToken"]
                .as_str()
                .expect("a token")
                .to_owned();
            let res = app
                .call(Method::GET, "/api/v1/cart-items", &token, None)
                .await;
            assert_eq!(
                res.status(),
                401,
                "round {round}: the racing sign-in's token"
            );
        }
    }
}
