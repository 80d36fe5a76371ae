//! CORS for the storefront: exact-match allowed origins (variable `frontend_base_url`, a
//! comma-separated list), credentials allowed for the refresh cookie, preflights answered here.

use spin_sdk::http::{Method, Request, Response};

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, Idempotency-Key, ngrok-skip-browser-warning, X-Request-Id";
/// Browsers may cache a preflight answer this long (seconds).
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// From a comma-separated list of origins (`http://localhost:3001, https://shop.example`);
    /// trailing slashes are ignored because browsers never send them in `Origin`.
    pub fn from_origins(list: &str) -> Self {
        let origins = list
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Self { origins }
    }

    /// The request's `Origin` header, if any.
    pub fn origin_of(req: &Request) -> Option<String> {
        req.header("origin")?.as_str().map(str::to_owned)
    }

    fn is_allowed(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
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
