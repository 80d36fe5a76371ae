//! The request pipeline every HTTP component runs: request id, CORS preflight, body limit,
//! the handler, one error mapping, CORS headers, and the log line.

use crate::body::MAX_BODY_BYTES;
use crate::cors::Cors;
use crate::error::{ApiError, RequestError, error_response};
use crate::log::RequestLog;
use crate::proxies::TrustedProxies;
use spin_sdk::http::{Request, Response};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

/// Per-request facts a handler may read or add to (the authenticated user for the log line).
#[derive(Debug)]
pub struct RequestContext {
    request_id: String,
    client_addr: Option<String>,
    forwarded_for: Option<String>,
    user_id: RefCell<Option<String>>,
}

impl RequestContext {
    /// The request id: the client's `x-request-id` if it sent a sane one, else a new id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The client's `ip:port` as Spin reports it (`spin-client-addr`).
    pub fn client_addr(&self) -> Option<&str> {
        self.client_addr.as_deref()
    }

    /// The client's address without the port (`203.0.113.7`, `::1`): what per-client limits
    /// key on, since the port changes with every connection.
    pub fn client_ip(&self) -> Option<&str> {
        self.client_addr.as_deref().map(strip_port)
    }

    /// The client's address when the app runs behind `proxies` (load balancers): taken from
    /// `X-Forwarded-For` only when the peer is one of them (see [`TrustedProxies`]).
    pub fn client_ip_behind(&self, proxies: &TrustedProxies) -> Option<&str> {
        self.client_ip()
            .map(|peer| proxies.client_ip(peer, self.forwarded_for.as_deref()))
    }

    /// Records who made the request, for the log line.
    pub fn set_user_id(&self, user_id: &str) {
        *self.user_id.borrow_mut() = Some(user_id.to_owned());
    }
}

/// `ip:port` → `ip`, `[v6]:port` → `v6`; an address without a port is returned as it is.
fn strip_port(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match addr.rsplit_once(':') {
        // More than one colon without brackets is a bare IPv6 address.
        Some((ip, port)) if !ip.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => ip,
        _ => addr,
    }
}

/// Accepts a client request id only if it is short and plain, so it is safe to echo and log.
fn sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Runs `handler` inside the pipeline and always returns a response.
pub async fn serve<F, Fut, E>(req: Request, cors: &Cors, handler: F) -> Response
where
    F: FnOnce(Request, Rc<RequestContext>) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: ApiError,
{
    let started = Instant::now();
    let header = |name: &str| req.header(name).and_then(|v| v.as_str()).map(str::to_owned);
    let ctx = Rc::new(RequestContext {
        request_id: header("x-request-id")
            .filter(|id| sane_request_id(id))
            .unwrap_or_else(ids::new_id),
        client_addr: header("spin-client-addr"),
        forwarded_for: header("x-forwarded-for"),
        user_id: RefCell::new(None),
    });
    let origin = Cors::origin_of(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();

    let mut response = if let Some(preflight) = cors.preflight(&req) {
        preflight
    } else if req.body().len() > MAX_BODY_BYTES {
        error_response(&RequestError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        })
    } else {
        match handler(req, ctx.clone()).await {
            Ok(response) => response,
            Err(err) => error_response(&err),
        }
    };
    cors.apply(origin.as_deref(), &mut response);
    response.set_header("x-request-id", ctx.request_id());

    let user_id = ctx.user_id.borrow();
    RequestLog {
        ts: timestamp::Timestamp::now().to_string(),
        level: "info",
        request_id: ctx.request_id(),
        method: &method,
        path: &path,
        status: *response.status(),
        duration_ms: (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        user_id: user_id.as_deref(),
    }
    .emit();
    response
}

/// The non-empty segments of a path, for `match` on `(method, segments)` in a component's
/// router: `/api/v1/auth/users/me` → `["api", "v1", "auth", "users", "me"]`.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_request_ids_are_echoed() {
        assert!(sane_request_id("abc-123_x.y:z"));
        assert!(!sane_request_id(""));
        assert!(!sane_request_id("a\r\nset-cookie: x"));
        assert!(!sane_request_id(&"a".repeat(129)));
    }

    #[test]
    fn client_ips_lose_their_port() {
        assert_eq!(strip_port("127.0.0.1:54321"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:8080"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn paths_split_into_segments() {
        assert_eq!(
            segments("/api/v1/auth/users/me/"),
            ["api", "v1", "auth", "users", "me"]
        );
        assert!(segments("/").is_empty());
    }
}
