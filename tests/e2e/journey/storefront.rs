//! The storefront's HTTP calls as the browser makes them: from the storefront's origin (so CORS
//! must let the page read the answer), with the Clerk session token as the bearer, and every
//! answer checked the same way before a step looks at it: the expected status, JSON, the CORS
//! and request-id headers, no cookie but the refresh cookie, no leak, and the contract's error
//! body on a refusal.

use super::{leaks, shapes};
use crate::api::ClerkUser;
use crate::fake_clerk::ORIGIN;
use crate::helpers::TestApp;
use reqwest::{Method, Response};
use serde_json::Value;

/// A browser tab of the storefront: a signed-out visitor or a Clerk user.
pub struct Storefront<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl<'a> Storefront<'a> {
    /// Nobody signed in (product pages need no token).
    pub fn visitor(app: &'a TestApp) -> Self {
        Self { app, token: None }
    }

    /// Signed in with Clerk; Clerk's frontend puts the session token on every API call.
    pub fn signed_in(user: &ClerkUser<'a>) -> Self {
        Self {
            app: user.app,
            token: Some(user.token.clone()),
        }
    }

    /// `method path` with a JSON `body`; asserts the answer is `status` and answers its body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let mut request = self
            .app
            .request(method.clone(), path)
            .header("origin", ORIGIN);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let res = self.app.send(request).await;
        checked(&format!("{method} {path}"), res, status).await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None, 200).await
    }

    /// A GET the storefront expects to be refused with `status`; answers the error body.
    pub async fn get_refused(&self, path: &str, status: u16) -> Value {
        self.call(Method::GET, path, None, status).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>, status: u16) -> Value {
        self.call(Method::POST, path, body, status).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Value {
        self.call(Method::PATCH, path, Some(body), 200).await
    }

    pub async fn delete(&self, path: &str, status: u16) -> Value {
        self.call(Method::DELETE, path, None, status).await
    }

    /// The browser's CORS preflight before a credentialed `method` to `path` (the
    /// `Authorization` header makes every signed-in call non-simple).
    pub async fn preflight(&self, method: &str, path: &str) {
        let request = self
            .app
            .request(Method::OPTIONS, path)
            .header("origin", ORIGIN)
            .header("access-control-request-method", method)
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            );
        let res = self.app.send(request).await;
        assert_eq!(res.status(), 204, "preflight of {method} {path}");
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("access-control-allow-origin"), Some(ORIGIN));
        assert_eq!(header("access-control-allow-credentials"), Some("true"));
        let methods = header("access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains(method), "{method} allowed: {methods}");
        let headers = header("access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
    }
}

/// The checks every answer the storefront reads passes; answers its JSON body.
async fn checked(call: &str, res: Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert!(
        header("x-request-id").is_some_and(|id| !id.is_empty()),
        "{call}: x-request-id"
    );
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some(ORIGIN),
        "{call}: the page may read the answer"
    );
    assert_eq!(
        header("access-control-allow-credentials").as_deref(),
        Some("true"),
        "{call}"
    );
    let content_type = header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{call}: {content_type}"
    );
    only_the_refresh_cookie(call, &res);
    let route = call.split_once(' ').map_or(call, |(_, path)| path);
    let route = route.split('?').next().unwrap_or(route);
    let text = res.text().await.expect("a body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{call} answered {got} with a body that is not JSON ({e}): {text}")
    });
    assert_eq!(got, status, "{call}: {body}");
    leaks::assert_none(route, &body);
    if status >= 400 {
        shapes::error(&body, status);
    }
    body
}

/// A `Set-Cookie` is only ever the documented refresh cookie (§2: `refreshToken`, HttpOnly,
/// Lax, on `/api/v1/auth`).
fn only_the_refresh_cookie(call: &str, res: &Response) {
    for cookie in res.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap_or_default();
        let attributes: Vec<String> = cookie
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(cookie.starts_with("refreshToken="), "{call} sets {cookie}");
        for required in ["httponly", "samesite=lax", "path=/api/v1/auth"] {
            assert!(
                attributes.iter().any(|a| a == required),
                "{call}: {required} in {cookie}"
            );
        }
    }
}
