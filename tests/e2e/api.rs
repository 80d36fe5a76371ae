//! Request helpers: JSON calls, signed-up users with their tokens and refresh cookie, Clerk
//! users, and reading what a response sets.

use crate::fake_clerk;
use crate::helpers::TestApp;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The password every test user signs up with.
pub const PASSWORD: &str = "correct horse battery";

/// A fresh email per call, so tests never collide.
pub fn unique_email(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}@example.com",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The refresh token a response sets, if any.
pub fn refresh_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("refreshToken="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// The whole `Set-Cookie` header of a response.
pub fn set_cookie(res: &Response) -> String {
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub async fn body(res: Response) -> Value {
    res.json().await.expect("a JSON body")
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends `request` and checks the response against the API document (`conformance.rs`):
    /// every request a test makes should go through here (or [`crate::conformance::send`]).
    pub async fn send(&self, request: RequestBuilder) -> Response {
        crate::conformance::send(request).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    /// A raw body, for malformed JSON.
    pub async fn post_raw(&self, path: &str, body: &str) -> Response {
        let request = self
            .request(Method::POST, path)
            .header("content-type", "application/json");
        self.send(request.body(body.to_owned())).await
    }

    pub async fn sign_up(&self, name: &str, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/sign-up",
            &json!({ "name": name, "email": email, "password": password }),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Presents a refresh token the way the browser does.
    pub async fn refresh(&self, token: &str) -> Response {
        let request = self.request(Method::POST, "/api/v1/auth/refresh-token");
        self.send(request.header("cookie", format!("refreshToken={token}")))
            .await
    }

    /// Calls with `Authorization: Bearer <token>`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.request(method, path).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// A newly signed-up user.
    pub async fn new_user(&self, name: &str) -> TestUser<'_> {
        let email = unique_email(&name.to_lowercase().replace(' ', "-"));
        let res = self.sign_up(name, &email, PASSWORD).await;
        assert_eq!(res.status(), 201, "sign-up succeeds");
        let refresh = refresh_cookie(&res).expect("a refresh cookie");
        let body = body(res).await;
        TestUser {
            app: self,
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            email,
            token: body["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh,
        }
    }

    /// A Clerk user known to the fake Backend API, signed in with a Clerk session token (not yet
    /// known to the app).
    pub fn clerk_user(&self, clerk_id: &str, first: &str, last: &str) -> ClerkUser<'_> {
        let email = unique_email(&first.to_lowercase());
        self.clerk
            .add_user(fake_clerk::clerk_user(clerk_id, first, last, &email));
        ClerkUser {
            app: self,
            clerk_id: clerk_id.to_owned(),
            email,
            token: fake_clerk::session_token(clerk_id),
        }
    }
}

/// A user signed up through the API.
pub struct TestUser<'a> {
    pub app: &'a TestApp,
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

/// A Clerk user with a Clerk session token.
pub struct ClerkUser<'a> {
    pub app: &'a TestApp,
    pub clerk_id: String,
    pub email: String,
    pub token: String,
}

/// Calls made as a signed-in user.
// Only this test crate implements it, so `Send` bounds on the futures are not a concern.
#[allow(async_fn_in_trait)]
pub trait SignedIn {
    fn app(&self) -> &TestApp;
    fn bearer(&self) -> &str;

    async fn get(&self, path: &str) -> Response {
        self.app()
            .call(Method::GET, path, self.bearer(), None)
            .await
    }

    async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        body(res).await
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.app()
            .call(Method::POST, path, self.bearer(), Some(body))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Response {
        self.app()
            .call(Method::PATCH, path, self.bearer(), Some(body))
            .await
    }

    async fn delete(&self, path: &str) -> Response {
        self.app()
            .call(Method::DELETE, path, self.bearer(), None)
            .await
    }

    async fn me(&self) -> Value {
        self.get_json("/api/v1/auth/users/me").await
    }
}

impl SignedIn for TestUser<'_> {
    fn app(&self) -> &TestApp {
        self.app
    }
    fn bearer(&self) -> &str {
        &self.token
    }
}

impl SignedIn for ClerkUser<'_> {
    fn app(&self) -> &TestApp {
        self.app
    }
    fn bearer(&self) -> &str {
        &self.token
    }
}
