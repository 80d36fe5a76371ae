//! Account pre-takeover: someone signs up with another person's email (sign-up proves no
//! ownership), and the real owner later arrives through Clerk with that email verified. The
//! account goes on through Clerk; whatever the first registrant holds opens nothing of it.

use crate::api::{ClerkUser, PASSWORD, SignedIn, TestUser, body, refresh_cookie, unique_email};
use crate::fake_clerk;
use crate::helpers::{TestApp, spawn_app};
use reqwest::Method;

const CART: &str = "/api/v1/cart-items";

/// The owner of `email` in Clerk, verified, not yet seen by the app.
fn owner_in_clerk<'a>(app: &'a TestApp, clerk_id: &str, email: &str) -> ClerkUser<'a> {
    app.clerk
        .add_user(fake_clerk::clerk_user(clerk_id, "Olive", "Owner", email));
    ClerkUser {
        app,
        clerk_id: clerk_id.to_owned(),
        email: email.to_owned(),
        token: fake_clerk::session_token(clerk_id),
    }
}

/// What the first registrant holds: a password, an access token and a refresh cookie.
async fn squatter<'a>(app: &'a TestApp, email: &str) -> TestUser<'a> {
    let res = app.sign_up("Squatter", email, PASSWORD).await;
    assert_eq!(res.status(), 201);
    let refresh = refresh_cookie(&res).expect("a refresh cookie");
    let body = body(res).await;
    TestUser {
        app,
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
        token: body["accessToken"].as_str().unwrap().to_owned(),
        refresh,
    }
}

/// Every way in the first registrant had is shut: password, refresh cookie, access token on
/// auth itself and on another component (which reads the identity projection).
async fn assert_locked_out(app: &TestApp, email: &str, tokens: &[String], cookies: &[String]) {
    assert_eq!(app.sign_in(email, PASSWORD).await.status(), 401, "password");
    for cookie in cookies {
        assert_eq!(app.refresh(cookie).await.status(), 401, "refresh cookie");
    }
    for token in tokens {
        for path in ["/api/v1/auth/users/me", CART] {
            let res = app.call(Method::GET, path, token, None).await;
            assert_eq!(res.status(), 401, "access token on {path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_arriving_through_clerk_shuts_out_whoever_registered_their_email() {
    let app = spawn_app().await;
    let email = unique_email("olive");
    let squatter = squatter(&app, &email).await;
    // Still valid before the owner arrives.
    assert_eq!(squatter.get(CART).await.status(), 200);
    let refreshed = app.refresh(&squatter.refresh).await;
    assert_eq!(refreshed.status(), 200);
    let cookie = refresh_cookie(&refreshed).expect("a rotated cookie");

    let owner = owner_in_clerk(&app, "user_2olive", &email);
    let me = owner.me().await;

    assert_eq!(
        me["id"],
        squatter.id.as_str(),
        "the account is linked, not duplicated"
    );
    assert_eq!(me["email"], email.as_str());
    assert_locked_out(
        &app,
        &email,
        std::slice::from_ref(&squatter.token),
        &[squatter.refresh, cookie],
    )
    .await;
    assert_eq!(owner.get(CART).await.status(), 200, "the owner goes on");
    // Signing up again with the email is refused: the account lives on.
    assert_eq!(app.sign_up("Again", &email, PASSWORD).await.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_racing_the_owners_arrival_leave_nothing_usable() {
    let app = spawn_app().await;
    let email = unique_email("olga");
    squatter(&app, &email).await;
    let owner = owner_in_clerk(&app, "user_2olga", &email);

    // Sign-ins that read the password before the link commits start their sessions after it.
    let sign_ins: Vec<_> = (0..3).map(|_| app.sign_in(&email, PASSWORD)).collect();
    let (results, me) = tokio::join!(futures::future::join_all(sign_ins), owner.me());
    assert_eq!(me["email"], email.as_str());

    let mut tokens = Vec::new();
    let mut cookies = Vec::new();
    for res in results {
        if res.status() == 200 {
            cookies.push(refresh_cookie(&res).expect("a refresh cookie"));
            tokens.push(body(res).await["accessToken"].as_str().unwrap().to_owned());
        }
    }
    assert_locked_out(&app, &email, &tokens, &cookies).await;
}
