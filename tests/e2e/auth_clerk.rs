//! Clerk: session tokens on protected routes (provisioning on first sight), tokens that must be
//! refused, and the Svix-signed webhook.

use crate::api::{PASSWORD, SignedIn, body, unique_email};
use crate::fake_clerk::{
    self, clerk_user, foreign_keys, hs256_with_public_key, session_claims, sign_rs256,
    unsigned_token, webhook, webhook_at,
};
use crate::helpers::{JWT_SECRET, TestApp, spawn_app};
use reqwest::{Method, Response};
use serde_json::{Value, json};

/// Delivers a signed Clerk webhook as Svix does.
pub async fn deliver(app: &TestApp, hook: &fake_clerk::Webhook) -> Response {
    let mut request = app
        .request(Method::POST, "/api/v1/webhooks/clerk")
        .header("content-type", "application/json")
        .body(hook.body.clone());
    for (name, value) in &hook.headers {
        request = request.header(*name, value);
    }
    app.send(request).await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_user_is_provisioned_from_the_backend_api_on_first_use() {
    let app = spawn_app().await;
    let clara = app.clerk_user("user_2clara", "Clara", "Clerk");

    let me = clara.me().await;

    assert_eq!(me["name"], "Clara Clerk");
    assert_eq!(me["email"], clara.email);
    assert_eq!(me["role"], "NADMIN");
    assert_eq!(me["balance"], 4_000_000);
    let calls = app.clerk.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "GET");
    assert_eq!(calls[0].path, "/v1/users/user_2clara");
    assert_eq!(
        calls[0].authorization.as_deref(),
        Some("Bearer sk_test_e2e_backend_key")
    );
    assert_eq!(
        clara.me().await["id"],
        me["id"],
        "known users need no second API call"
    );
    assert_eq!(app.clerk.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_of_a_clerk_user_create_one_user() {
    let app = spawn_app().await;
    let clara = app.clerk_user("user_2race", "Racing", "Clerk");

    let responses =
        futures::future::join_all((0..6).map(|_| clara.get("/api/v1/auth/users/me"))).await;

    let mut ids = Vec::new();
    for res in responses {
        assert_eq!(res.status(), 200);
        ids.push(body(res).await["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every request sees the same user");
    let all = clara.get_json("/api/v1/auth/find-all").await;
    let named = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == "Racing Clerk")
        .count();
    assert_eq!(named, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_and_unsigned_tokens_are_401_on_every_route() {
    let app = spawn_app().await;
    app.clerk_user("user_2victim", "Vic", "Tim");
    let mut expired = session_claims("user_2victim");
    expired["exp"] = json!(now() - 60);
    expired["nbf"] = json!(now() - 120);
    let mut foreign_party = session_claims("user_2victim");
    foreign_party["azp"] = json!("https://evil.example");
    let own_expired = {
        let claims = json!({ "sub": "someone", "role": "ADMIN", "email": "x@y.io", "jti": "j",
                             "iat": now() - 1000, "exp": now() - 100, "iss": "reen" });
        let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let tokens = [
        (
            "expired Clerk token",
            sign_rs256(&expired, fake_clerk::clerk_keys()),
        ),
        (
            "token from another key",
            sign_rs256(&session_claims("user_2victim"), foreign_keys()),
        ),
        ("alg none", unsigned_token(&session_claims("user_2victim"))),
        (
            "HS256 signed with the public key",
            hs256_with_public_key(&session_claims("user_2victim")),
        ),
        (
            "foreign azp",
            sign_rs256(&foreign_party, fake_clerk::clerk_keys()),
        ),
        ("expired access token", own_expired),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (what, token) in tokens {
        let protected = app
            .call(Method::GET, "/api/v1/auth/users/me", &token, None)
            .await;
        assert_eq!(protected.status(), 401, "{what}");
        assert_eq!(body(protected).await["error"], "Unauthorized");
        let public = app
            .send(
                app.request(Method::POST, "/api/v1/auth/sign-in")
                    .bearer_auth(&token)
                    .json(&json!({
                "email": "a@b.io", "password": PASSWORD })),
            )
            .await;
        assert_eq!(public.status(), 401, "{what} on a public route");
    }
    assert!(
        app.clerk.requests().is_empty(),
        "no refused token reached Clerk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_token_for_a_user_clerk_does_not_know_is_401() {
    let app = spawn_app().await;
    let res = app
        .call(
            Method::GET,
            "/api/v1/auth/users/me",
            &fake_clerk::session_token("user_2ghost"),
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_clerk_user_while_clerk_is_down_is_a_502_that_creates_nothing_and_a_retry_works() {
    let app = spawn_app().await;
    app.clerk.add_user(clerk_user(
        "user_2outage",
        "Olga",
        "Outage",
        "olga@example.com",
    ));
    app.clerk.set_down(true);
    let token = fake_clerk::session_token("user_2outage");
    // Every auth route that resolves a Clerk caller (each documents the 502).
    let routes = [
        (Method::POST, "/api/v1/auth/sign-out", None),
        (Method::GET, "/api/v1/auth/find-all", None),
        (Method::GET, "/api/v1/auth/users/anyone", None),
        (
            Method::PATCH,
            "/api/v1/auth/users/me",
            Some(json!({ "name": "O" })),
        ),
        (
            Method::POST,
            "/api/v1/auth/update-user-role",
            Some(json!({ "role": "ADMIN" })),
        ),
        (Method::DELETE, "/api/v1/auth/users/me", None),
    ];
    for (method, path, body) in &routes {
        let res = app.call(method.clone(), path, &token, body.clone()).await;
        assert_eq!(res.status(), 502, "{method} {path} while Clerk is down");
    }
    app.clerk.set_down(false);
    let res = app
        .call(Method::GET, "/api/v1/auth/users/me", &token, None)
        .await;
    assert_eq!(res.status(), 200, "the same token works once Clerk is back");
    assert_eq!(
        body(res).await["name"],
        "Olga Outage",
        "one user, created now"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_found_by_clerk_id_too() {
    let app = spawn_app().await;
    let clara = app.clerk_user("user_2findme", "Clara", "Clerk");
    let bob = app.new_user("Bob").await;
    let clara_id = clara.me().await["id"].clone();

    let own = clara
        .get_json(&format!("/api/v1/auth/users/{}", clara.clerk_id))
        .await;
    assert_eq!(own["id"], clara_id);
    assert_eq!(own["email"], clara.email);

    let seen_by_bob = bob.get_json("/api/v1/auth/users/user_2findme").await;
    assert_eq!(seen_by_bob["id"], clara_id);
    assert!(seen_by_bob.get("email").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_by_webhook_is_known_without_calling_clerk() {
    let app = spawn_app().await;
    let email = unique_email("hooked");
    let hook = webhook(
        "msg_created_1",
        "user.created",
        clerk_user("user_2hooked", "Hook", "Ed", &email),
    );

    let res = deliver(&app, &hook).await;

    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, json!({ "received": true }));
    let token = fake_clerk::session_token("user_2hooked");
    let me = body(
        app.call(Method::GET, "/api/v1/auth/users/me", &token, None)
            .await,
    )
    .await;
    assert_eq!(me["name"], "Hook Ed");
    assert_eq!(me["email"], email);
    assert!(app.clerk.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_updates_rename_and_deletions_end_the_account() {
    let app = spawn_app().await;
    let clara = app.clerk_user("user_2changing", "Clara", "Clerk");
    clara.me().await;
    let mut updated = clerk_user("user_2changing", "Clarissa", "Clerk", &clara.email);
    updated["updated_at"] = json!((now() + 10) * 1000);

    assert_eq!(
        deliver(&app, &webhook("msg_upd", "user.updated", updated))
            .await
            .status(),
        200
    );
    assert_eq!(clara.me().await["name"], "Clarissa Clerk");

    let deleted = json!({ "id": "user_2changing", "object": "user", "deleted": true });
    assert_eq!(
        deliver(&app, &webhook("msg_del", "user.deleted", deleted))
            .await
            .status(),
        200
    );
    assert_eq!(clara.get("/api/v1/auth/users/me").await.status(), 401);

    let ignored = webhook("msg_other", "session.created", json!({ "id": "sess_1" }));
    assert_eq!(
        deliver(&app, &ignored).await.status(),
        200,
        "other events are acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_webhook_has_no_second_effect() {
    let app = spawn_app().await;
    let email = unique_email("replay");
    let created = webhook(
        "msg_replayed",
        "user.created",
        clerk_user("user_2replay", "First", "Name", &email),
    );
    assert_eq!(deliver(&app, &created).await.status(), 200);
    let token = fake_clerk::session_token("user_2replay");
    let rename = app
        .call(
            Method::PATCH,
            "/api/v1/auth/users/me",
            &token,
            Some(json!({ "name": "Chosen" })),
        )
        .await;
    assert_eq!(rename.status(), 200);

    let again = deliver(&app, &created).await;

    assert_eq!(again.status(), 200);
    let me = body(
        app.call(Method::GET, "/api/v1/auth/users/me", &token, None)
            .await,
    )
    .await;
    assert_eq!(me["name"], "Chosen", "the replay did not reapply the event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_with_bad_signatures_or_old_timestamps_are_400_and_do_nothing() {
    let app = spawn_app().await;
    let user = |id: &str| clerk_user(id, "Eve", "Il", &unique_email("eve"));
    let event = |id: &str| json!({ "type": "user.created", "object": "event", "data": user(id) });

    let mut tampered = webhook_at("msg_bad", now(), &event("user_2tampered"));
    tampered.body = tampered.body.replace("Eve", "Mallory");
    let old = webhook_at("msg_old", now() - 301, &event("user_2old"));
    let mut unsigned = webhook_at("msg_unsigned", now(), &event("user_2unsigned"));
    unsigned
        .headers
        .retain(|(name, _)| *name != "svix-signature");

    for (what, hook) in [
        ("tampered body", tampered),
        ("old timestamp", old),
        ("no signature", unsigned),
    ] {
        let res = deliver(&app, &hook).await;
        assert_eq!(res.status(), 400, "{what}");
        let error: Value = body(res).await;
        assert_eq!(error["error"], "Bad Request", "{what}");
    }
    for id in ["user_2tampered", "user_2old", "user_2unsigned"] {
        let res = app
            .call(
                Method::GET,
                "/api/v1/auth/users/me",
                &fake_clerk::session_token(id),
                None,
            )
            .await;
        assert_eq!(res.status(), 401, "{id} was not created");
    }
}
