//! Signing up and in, refresh-token rotation, signing out, throttling, input validation, CORS.

use crate::api::{PASSWORD, SignedIn, body, refresh_cookie, set_cookie, unique_email};
use crate::helpers::{TestApp, repo_root, spawn_app, spawn_manifest_with};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_signs_up_signs_in_refreshes_and_signs_out() {
    let app = spawn_app().await;
    let email = unique_email("ada");

    let res = app
        .sign_up("Ada Lovelace", &email.to_uppercase(), PASSWORD)
        .await;
    assert_eq!(res.status(), 201);
    let cookie = set_cookie(&res);
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Lax; Path=/api/v1/auth; Max-Age=604800; Secure"),
        "{cookie}"
    );
    let signed_up = body(res).await;
    assert_eq!(
        signed_up["user"]["email"], email,
        "emails are stored lower-cased"
    );
    assert_eq!(signed_up["user"]["role"], "NADMIN");
    assert_eq!(signed_up["user"]["balance"], 4_000_000);
    assert_eq!(signed_up["user"]["amountSpent"], 0);
    assert_eq!(signed_up["user"]["salesCount"], 0);
    assert!(signed_up["user"].get("password").is_none());

    let res = app.sign_in(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(res.status(), 200);
    let first_refresh = refresh_cookie(&res).expect("sign-in sets the refresh cookie");
    let token = body(res).await["accessToken"].as_str().unwrap().to_owned();

    let me = app
        .call(Method::GET, "/api/v1/auth/users/me", &token, None)
        .await;
    assert_eq!(me.status(), 200);
    assert_eq!(body(me).await["id"], signed_up["user"]["id"]);

    let res = app.refresh(&first_refresh).await;
    assert_eq!(res.status(), 200);
    let second_refresh = refresh_cookie(&res).expect("refresh sets a new cookie");
    assert_ne!(second_refresh, first_refresh);
    let refreshed = body(res).await;
    let new_token = refreshed["accessToken"].as_str().unwrap();
    assert_eq!(
        app.call(Method::GET, "/api/v1/auth/users/me", new_token, None)
            .await
            .status(),
        200
    );

    let sign_out = |token: String, refresh: String| {
        let request = app
            .request(Method::POST, "/api/v1/auth/sign-out")
            .bearer_auth(token)
            .header("cookie", format!("refreshToken={refresh}"));
        app.send(request)
    };
    let res = sign_out(new_token.to_owned(), second_refresh.clone()).await;
    assert_eq!(res.status(), 200);
    assert!(
        set_cookie(&res).starts_with("refreshToken=; "),
        "the cookie is cleared"
    );
    assert!(set_cookie(&res).contains("Max-Age=0"));
    assert_eq!(body(res).await, json!({}));
    let again = sign_out(new_token.to_owned(), second_refresh.clone()).await;
    assert_eq!(again.status(), 200, "signing out twice is fine");
    assert_eq!(
        app.refresh(&second_refresh).await.status(),
        401,
        "the session is over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let user = app.new_user("Grace").await;

    let res = app.refresh(&user.refresh).await;
    assert_eq!(res.status(), 200);
    let current = refresh_cookie(&res).unwrap();
    // Past the grace window in which a second tab may still present the rotated token.
    tokio::time::sleep(std::time::Duration::from_millis(REUSE_GRACE_MILLIS + 1_000)).await;

    let stolen = app.refresh(&user.refresh).await;
    assert_eq!(stolen.status(), 401, "the old token is refused");
    assert_eq!(body(stolen).await["statusCode"], 401);
    assert_eq!(
        app.refresh(&current).await.status(),
        401,
        "the newest token of the family is revoked too"
    );

    let other_session = refresh_cookie(&app.sign_in(&user.email, PASSWORD).await).unwrap();
    assert_eq!(
        app.refresh(&other_session).await.status(),
        200,
        "a new sign-in starts a new family"
    );
}

/// The auth component's grace window for a just-rotated refresh token.
const REUSE_GRACE_MILLIS: u64 = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_refreshing_with_the_same_cookie_both_stay_signed_in() {
    let app = spawn_app().await;
    let user = app.new_user("Tabs").await;

    let (first, second) = tokio::join!(app.refresh(&user.refresh), app.refresh(&user.refresh));

    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let first = refresh_cookie(&first).expect("a cookie");
    let second = refresh_cookie(&second).expect("a cookie");
    assert_ne!(first, second, "two sibling tokens");
    assert_eq!(app.refresh(&first).await.status(), 200);
    assert_eq!(app.refresh(&second).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_thirty_days_after_its_sign_in_however_often_it_refreshed() {
    let app = spawn_app().await;
    let user = app.new_user("Long").await;
    let res = app.refresh(&user.refresh).await;
    assert_eq!(res.status(), 200);
    let current = refresh_cookie(&res).expect("a cookie");

    // The family began 30 days and a minute ago (its tokens are fresh: it kept refreshing).
    let db = rusqlite::Connection::open(app.app.state_dir().join("auth.db")).expect("auth.db");
    db.busy_timeout(std::time::Duration::from_secs(5))
        .expect("timeout");
    let month_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
        - (30 * 24 * 60 + 1) * 60 * 1000;
    let changed = db
        .execute(
            "UPDATE token_families SET created_at = ? WHERE user_id = ?",
            rusqlite::params![month_ago, user.id],
        )
        .expect("the family is dated back");
    assert_eq!(changed, 1);

    assert_eq!(app.refresh(&current).await.status(), 401);
    assert_eq!(
        refresh_cookie(&app.sign_in(&user.email, PASSWORD).await).map(|_| ()),
        Some(()),
        "signing in again starts a new family"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_without_a_cookie_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let user = app.new_user("Edsger").await;
    let second = refresh_cookie(&app.sign_in(&user.email, PASSWORD).await).unwrap();

    let res = user.post("/api/v1/auth/sign-out", json!({})).await;
    assert_eq!(res.status(), 200);

    assert_eq!(app.refresh(&user.refresh).await.status(), 401);
    assert_eq!(app.refresh(&second).await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_without_a_valid_cookie_and_sign_out_without_a_token_are_401() {
    let app = spawn_app().await;
    let res = app
        .send(app.request(Method::POST, "/api/v1/auth/refresh-token"))
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(body(res).await["error"], "Unauthorized");
    assert_eq!(app.refresh("not-a-token").await.status(), 401);
    assert_eq!(app.refresh(&"A".repeat(43)).await.status(), 401);
    let res = app
        .send(app.request(Method::POST, "/api/v1/auth/sign-out"))
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_can_only_sign_up_once_whatever_its_case() {
    let app = spawn_app().await;
    let email = unique_email("dup");
    assert_eq!(app.sign_up("First", &email, PASSWORD).await.status(), 201);

    let res = app.sign_up("Second", &email.to_uppercase(), PASSWORD).await;

    assert_eq!(res.status(), 409);
    assert_eq!(
        body(res).await,
        json!({ "statusCode": 409, "message": "Email already exists", "error": "Conflict" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.new_user("Barbara").await;

    let wrong_password = app.sign_in(&user.email, "not the password").await;
    let unknown_email = app.sign_in(&unique_email("nobody"), PASSWORD).await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let expected = json!({ "statusCode": 401, "message": "Invalid email or password", "error": "Unauthorized" });
    assert_eq!(body(wrong_password).await, expected);
    assert_eq!(body(unknown_email).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_sign_ins_lock_that_email_from_that_address_even_with_the_right_password() {
    let app = spawn_app().await;
    let user = app.new_user("Alan").await;
    for _ in 0..5 {
        assert_eq!(
            app.sign_in(&user.email, "wrong password").await.status(),
            401
        );
    }

    let res = app.sign_in(&user.email, PASSWORD).await;

    assert_eq!(res.status(), 429);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    let message = body(res).await;
    assert_eq!(message["error"], "Too Many Requests");
    let other = app.new_user("Other").await;
    assert_eq!(
        app.sign_in(&other.email, PASSWORD).await.status(),
        200,
        "other emails are not locked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_wrong_passwords_get_at_most_five_password_checks() {
    let app = spawn_app().await;
    let user = app.new_user("Grace").await;

    let answers = join_all((0..50).map(|_| app.sign_in(&user.email, "wrong password"))).await;

    let checked = answers.iter().filter(|res| res.status() == 401).count();
    let refused = answers.iter().filter(|res| res.status() == 429).count();
    assert_eq!(checked + refused, 50, "only 401 or 429");
    assert!(
        (1..=5).contains(&checked),
        "{checked} passwords were checked"
    );
    assert_eq!(app.sign_in(&user.email, PASSWORD).await.status(), 429);
}

/// A sign-in as forwarded by a load balancer for `client`.
async fn sign_in_from(app: &TestApp, client: &str, email: &str, password: &str) -> u16 {
    let request = app
        .request(Method::POST, "/api/v1/auth/sign-in")
        .header("x-forwarded-for", client)
        .json(&json!({ "email": email, "password": password }));
    app.send(request).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_throttle_locks_the_forwarded_client_only() {
    // The test client connects from 127.0.0.1: here that is the load balancer.
    let app = spawn_manifest_with(
        repo_root().join("spin.toml"),
        &[("trusted_proxies", "127.0.0.1, 10.0.0.0/8")],
    )
    .await;
    let user = app.new_user("Hedy").await;
    for _ in 0..5 {
        let status = sign_in_from(&app, "198.51.100.1, 203.0.113.7", &user.email, "wrong").await;
        assert_eq!(status, 401);
    }

    // The attacker's address is locked, even when it claims another one further left...
    let status = sign_in_from(&app, "192.0.2.9, 203.0.113.7", &user.email, PASSWORD).await;
    assert_eq!(status, 429);
    // ...while the owner, behind the same balancer, signs in.
    let status = sign_in_from(&app, "192.0.2.50", &user.email, PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_a_forwarded_for_header_changes_nothing() {
    let app = spawn_app().await;
    let user = app.new_user("Ida").await;
    for n in 0..5 {
        let status = sign_in_from(&app, &format!("203.0.113.{n}"), &user.email, "wrong").await;
        assert_eq!(status, 401);
    }

    // A sixth "client" is the same peer: refused, whatever it forwards.
    let status = sign_in_from(&app, "192.0.2.50", &user.email, PASSWORD).await;
    assert_eq!(status, 429);
}

/// The sum of a database file and its write-ahead log, whichever the host keeps.
fn database_bytes(app: &TestApp, name: &str) -> u64 {
    let dir = app.app.state_dir();
    [name.to_owned(), format!("{name}-wal")]
        .iter()
        .filter_map(|file| std::fs::metadata(dir.join(file)).ok())
        .map(|meta| meta.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_with_huge_emails_do_not_grow_the_database_by_what_they_sent() {
    let app = spawn_app().await;
    assert_eq!(app.sign_in("warm@example.com", "x").await.status(), 401);
    let before = database_bytes(&app, "auth.db");

    for n in 0..20 {
        let email = format!("{}{n}@example.com", "x".repeat(512 * 1024));
        let status = app.sign_in(&email, "wrong password").await.status();
        assert!(status == 400 || status == 401, "{status}");
    }

    // 10 MiB of emails were sent; a fixed-size key per attempt is stored.
    let grown = database_bytes(&app, "auth.db").saturating_sub(before);
    assert!(
        grown < 1024 * 1024,
        "the auth database grew by {grown} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_bodies_are_400s_naming_the_problem_and_store_nothing() {
    let app = spawn_app().await;
    let email = unique_email("valid");
    let cases = [
        (
            r#"{"name":"A","email":"#.to_owned(),
            "Request body must be valid JSON".to_owned(),
        ),
        (
            json!({ "name": "A", "email": email, "password": PASSWORD, "isAdmin": true })
                .to_string(),
            "property isAdmin should not exist".to_owned(),
        ),
        (
            json!({ "name": 7, "email": email, "password": PASSWORD }).to_string(),
            "name must be a string".to_owned(),
        ),
        (
            json!({ "name": "A", "password": PASSWORD }).to_string(),
            "email is required".to_owned(),
        ),
        (
            json!({ "name": "A", "email": "not-an-email", "password": PASSWORD }).to_string(),
            "email must be a valid email address".to_owned(),
        ),
        (
            json!({ "name": "A", "email": email, "password": "short" }).to_string(),
            "password must be between 8 and 128 characters".to_owned(),
        ),
        (
            json!({ "name": "", "email": email, "password": PASSWORD }).to_string(),
            "name must be between 1 and 100 characters".to_owned(),
        ),
    ];
    for (raw, message) in cases {
        let res = app.post_raw("/api/v1/auth/sign-up", &raw).await;
        assert_eq!(res.status(), 400, "{raw}");
        let error = body(res).await;
        assert_eq!(error["statusCode"], 400);
        assert_eq!(error["error"], "Bad Request");
        assert_eq!(error["message"], message, "{raw}");
    }
    let res = app
        .post_raw("/api/v1/auth/sign-up", r#"{"name":"A","isAdmin":true}"#)
        .await;
    assert_eq!(body(res).await["errors"][0]["field"], "isAdmin");

    assert_eq!(
        app.sign_in(&email, PASSWORD).await.status(),
        401,
        "no account was created"
    );
    assert_eq!(app.sign_up("A", &email, PASSWORD).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_pass_for_the_storefront_origin_only() {
    let app = spawn_app().await;
    let preflight = |origin: &'static str| {
        app.send(
            app.request(Method::OPTIONS, "/api/v1/auth/sign-in")
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "content-type, idempotency-key",
                ),
        )
    };

    let allowed = preflight("http://localhost:3001").await;
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3001"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("idempotency-key") && headers.contains("authorization"));

    let foreign = preflight("https://evil.example").await;
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        foreign
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}
