//! CORS for the storefront: exact-match allowed origins (variable `frontend_base_url`, a
//! comma-separated list), credentials allowed for the refresh cookie, preflights answered here.
//!
//! The list is read only for a request that carries `Origin`: on Spin every variable read is a
//! blocking host call, and a request without `Origin` (a server-side fetch, curl, a webhook)
//! gets the same answer whatever the list holds.

use spin_sdk::http::{Method, Request, Response};
use std::cell::OnceCell;

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, ngrok-skip-browser-warning, X-Request-Id";
/// Browsers may cache a preflight answer this long (seconds).
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// The Spin variable holding the list, read on first need; `None`: no origin is allowed
    /// beyond `origins`.
    variable: Option<&'static str>,
    origins: OnceCell<Vec<String>>,
}

impl Cors {
    /// From a comma-separated list of origins (`http://localhost:3001, https://shop.example`);
    /// trailing slashes are ignored because browsers never send them in `Origin`.
    pub fn from_origins(list: &str) -> Self {
        Self {
            variable: None,
            origins: OnceCell::from(parse_origins(list)),
        }
    }

    /// From the Spin variable `name` (such a list; unset or unreadable: none), read the first
    /// time a request's `Origin` has to be checked.
    pub fn from_variable(name: &'static str) -> Self {
        Self {
            variable: Some(name),
            origins: OnceCell::new(),
        }
    }

    fn origins(&self) -> &[String] {
        self.origins.get_or_init(|| {
            let list = self
                .variable
                .map(|name| spin_sdk::variables::get(name).unwrap_or_default())
                .unwrap_or_default();
            parse_origins(&list)
        })
    }

    /// The request's `Origin` header, if any.
    pub fn origin_of(req: &Request) -> Option<String> {
        req.header("origin")?.as_str().map(str::to_owned)
    }

    fn is_allowed(&self, origin: &str) -> bool {
        self.origins().iter().any(|o| o == origin)
    }

    /// Answers a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`): 204 with the
    /// allow headers for an allowed origin, a bare 204 otherwise (the browser then blocks).
    pub fn preflight(&self, req: &Request) -> Option<Response> {
        if *req.method() != Method::Options || req.header("access-control-request-method").is_none()
        {
            return None;
        }
        let mut response = crate::empty(204);
        if let Some(origin) = Self::origin_of(req).filter(|o| self.is_allowed(o)) {
            response.set_header("access-control-allow-origin", origin.as_str());
            response.set_header("access-control-allow-credentials", "true");
            response.set_header("access-control-allow-methods", ALLOWED_METHODS);
            response.set_header("access-control-allow-headers", ALLOWED_HEADERS);
            response.set_header("access-control-max-age", PREFLIGHT_MAX_AGE);
        }
        response.set_header("vary", "Origin");
        Some(response)
    }

    /// Adds the CORS headers an actual (non-preflight) response needs, given the request's
    /// `Origin` (taken before the request was handed to the handler).
    pub fn apply(&self, origin: Option<&str>, response: &mut Response) {
        if let Some(origin) = origin.filter(|o| self.is_allowed(o)) {
            response.set_header("access-control-allow-origin", origin);
            response.set_header("access-control-allow-credentials", "true");
            response.set_header(
                "access-control-expose-headers",
                "x-request-id, etag, retry-after",
            );
        }
        response.set_header("vary", "Origin");
    }
}

fn parse_origins(list: &str) -> Vec<String> {
    list.split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect()
}
