//! A small stand-in for Stripe's API on loopback, for the checkout component's two calls:
//! `POST /v1/checkout/sessions` (a form-encoded create, answered with a Checkout Session as
//! JSON: `cs_...` id, `url`, `status: open`, `expires_at`, `client_reference_id`, `metadata`)
//! and `POST /v1/checkout/sessions/{id}/expire` (an open session becomes `expired`; Stripe's 400
//! for one that is not open, 404 for one it does not know). Every call must carry
//! `Authorization: Bearer <secret key>` (401 with Stripe's error body otherwise), and the fake
//! counts what it answered, so the report can say how many Stripe round trips the runs made.
//!
//! Written from Stripe's documented wire format with a generic form parser, sharing no code
//! with the app's `crates/stripe`: a fake built on the app's own code would only agree with it.
//! Fuller Stripe rules (parameter checks, refunds, injected faults) are the end-to-end tests'
//! fake (`tests/e2e/fake_stripe.rs`); this one only has to be correct and cheap under load.

use crate::fake_server::FakeServer;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the fake answered, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// TCP connections accepted (a caller that reuses connections makes fewer than calls).
    pub connections: u64,
    /// Sessions created (a replayed `Idempotency-Key` not counted again).
    pub created: u64,
    /// Creates answered from a saved `Idempotency-Key` answer.
    pub replayed: u64,
    /// Open sessions expired.
    pub expired: u64,
    /// Expire calls for a session that was not open (400) or unknown (404).
    pub expire_refused: u64,
    /// Calls without the right bearer key (401).
    pub unauthorized: u64,
    /// Anything else refused: an unknown route, a create missing a field it needs (400/404).
    pub bad_requests: u64,
}

#[derive(Default)]
struct State {
    /// Every session by id, as Stripe holds it.
    sessions: HashMap<String, Value>,
    /// `Idempotency-Key` → the session id its create made.
    keys: HashMap<String, String>,
    counts: Counts,
}

/// The running fake; stops when dropped.
pub struct FakeStripe {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl FakeStripe {
    /// Listens on `127.0.0.1:<free port>`, accepting `secret_key` as the only API key.
    pub async fn start(secret_key: &str) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let bearer = Arc::new(format!("Bearer {secret_key}"));
        let answer = move |req| {
            let (state, bearer) = (shared.clone(), bearer.clone());
            async move { answer(&state, &bearer, req).await }
        };
        let counted = state.clone();
        let accepted = move || {
            counted
                .lock()
                .expect("fake Stripe state")
                .counts
                .connections += 1
        };
        let server = FakeServer::start(answer, accepted).await?;
        Ok(Self { server, state })
    }

    /// `http://127.0.0.1:<port>`: the app's `stripe_api_base`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// What the fake answered so far.
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// The session `id` as Stripe holds it now.
    pub fn session(&self, id: &str) -> Option<Value> {
        self.lock().sessions.get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake Stripe state")
    }
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A new id with Stripe's prefix (`cs_test_`, `pi_`, `evt_`): unique within this process,
/// and across runs (the start time is part of it), letters and digits like Stripe's.
pub fn new_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let start = START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}b{}x{n:06}", base36(*start))
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Stripe's error body: `{"error": {"type", "message", "code"?}}` with `status`.
fn error(status: u16, kind: &str, code: Option<&str>, message: &str) -> (u16, Value) {
    let mut body = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    (status, json!({ "error": body }))
}

async fn answer(
    state: &Mutex<State>,
    bearer: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let authorized = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == bearer.as_bytes());
    let key = parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let segments: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    let mut state = state.lock().expect("fake Stripe state");
    let (status, body) = if !authorized {
        state.counts.unauthorized += 1;
        error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided (the fake Stripe of checkout-bench)",
        )
    } else {
        match (parts.method.as_str(), segments.as_slice()) {
            ("POST", ["v1", "checkout", "sessions"]) => create(&mut state, key, &form),
            ("POST", ["v1", "checkout", "sessions", id, "expire"]) => expire(&mut state, id),
            _ => {
                state.counts.bad_requests += 1;
                error(
                    404,
                    "invalid_request_error",
                    None,
                    &format!("Unrecognized request URL ({} {})", parts.method, parts.uri),
                )
            }
        }
    };
    drop(state);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", new_id("req_"))
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// `POST /v1/checkout/sessions`: a new open session from the form (the fields the app sends:
/// `mode`, `line_items[i][price_data][currency|unit_amount|product_data][name]]`,
/// `line_items[i][quantity]`, `client_reference_id`, `metadata[...]`, `expires_at`,
/// `success_url`, `cancel_url`). A repeated `Idempotency-Key` answers the first session again.
fn create(state: &mut State, key: Option<String>, form: &[(String, String)]) -> (u16, Value) {
    if let Some(id) = key.as_ref().and_then(|key| state.keys.get(key))
        && let Some(session) = state.sessions.get(id)
    {
        state.counts.replayed += 1;
        return (200, session.clone());
    }
    let mut refused = |param: &str| {
        state.counts.bad_requests += 1;
        error(
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            &format!("Missing required param: {param}."),
        )
    };
    if field(form, "mode") != Some("payment") {
        return refused("mode");
    }
    let mut total: i64 = 0;
    let mut lines = 0;
    while let Some(amount) = field(
        form,
        &format!("line_items[{lines}][price_data][unit_amount]"),
    ) {
        let quantity = field(form, &format!("line_items[{lines}][quantity]"))
            .and_then(|q| q.parse::<i64>().ok());
        match (amount.parse::<i64>().ok(), quantity) {
            (Some(amount), Some(quantity)) => total += amount * quantity,
            _ => return refused(&format!("line_items[{lines}]")),
        }
        lines += 1;
    }
    if lines == 0 {
        return refused("line_items");
    }
    let Some(expires_at) = field(form, "expires_at").and_then(|at| at.parse::<i64>().ok()) else {
        return refused("expires_at");
    };
    let (Some(success_url), Some(cancel_url)) =
        (field(form, "success_url"), field(form, "cancel_url"))
    else {
        return refused("success_url");
    };
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), json!(value)))
        })
        .collect();
    let id = new_id("cs_test_");
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "cancel_url": cancel_url,
        "client_reference_id": field(form, "client_reference_id"),
        "created": unix_now(),
        "currency": field(form, "line_items[0][price_data][currency]").unwrap_or("usd"),
        "expires_at": expires_at,
        "livemode": false,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": null,
        "payment_status": "unpaid",
        "status": "open",
        "success_url": success_url,
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    });
    state.counts.created += 1;
    if let Some(key) = key {
        state.keys.insert(key, id.clone());
    }
    state.sessions.insert(id, session.clone());
    (200, session)
}

/// `POST /v1/checkout/sessions/{id}/expire`.
fn expire(state: &mut State, id: &str) -> (u16, Value) {
    let Some(session) = state.sessions.get_mut(id) else {
        state.counts.expire_refused += 1;
        return error(
            404,
            "invalid_request_error",
            Some("resource_missing"),
            &format!("No such checkout.session: '{id}'"),
        );
    };
    if session["status"] != "open" {
        state.counts.expire_refused += 1;
        return error(
            400,
            "invalid_request_error",
            None,
            &format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This \
                 Checkout Session has a status of \"{}\".",
                session["status"].as_str().unwrap_or_default()
            ),
        );
    }
    session["status"] = json!("expired");
    session["url"] = Value::Null;
    state.counts.expired += 1;
    (200, session.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper_util::rt::TokioIo;
    use std::net::SocketAddr;

    const KEY: &str = "sk_test_fake";

    async fn post(
        addr: SocketAddr,
        path: &str,
        key: Option<&str>,
        idempotency_key: Option<&str>,
        form: &str,
    ) -> (u16, Value) {
        use http_body_util::BodyExt as _;
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::post(path)
            .header("host", addr.to_string())
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("idempotency-key", idempotency_key);
        }
        let response = sender
            .send_request(
                request
                    .body(Full::new(Bytes::from(form.to_owned())))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// What checkout sends (`crates/stripe`'s `create_session_form`), written out by hand.
    const CREATE: &str = "mode=payment\
        &line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=usd\
        &line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Mug\
        &line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1099\
        &line_items%5B0%5D%5Bquantity%5D=2\
        &line_items%5B1%5D%5Bprice_data%5D%5Bcurrency%5D=usd\
        &line_items%5B1%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Cup\
        &line_items%5B1%5D%5Bprice_data%5D%5Bunit_amount%5D=500\
        &line_items%5B1%5D%5Bquantity%5D=1\
        &client_reference_id=chk1&metadata%5BcheckoutId%5D=chk1&metadata%5BuserId%5D=u1\
        &expires_at=1900000000&success_url=http%3A%2F%2Fshop%2Fcheckout%3Fsuccess%3Dtrue\
        &cancel_url=http%3A%2F%2Fshop%2Fcheckout%3Fcanceled%3Dtrue";

    #[tokio::test]
    async fn a_create_answers_an_open_session_and_expire_closes_it() {
        let fake = FakeStripe::start(KEY).await.unwrap();
        let (status, session) = post(
            fake.server.addr(),
            "/v1/checkout/sessions",
            Some(KEY),
            Some("chk1"),
            CREATE,
        )
        .await;
        assert_eq!(status, 200, "{session}");
        let id = session["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("cs_test_"));
        assert_eq!(session["status"], "open");
        assert_eq!(session["payment_status"], "unpaid");
        assert_eq!(session["amount_total"], 2 * 1099 + 500);
        assert_eq!(session["client_reference_id"], "chk1");
        assert_eq!(
            session["metadata"],
            json!({ "checkoutId": "chk1", "userId": "u1" })
        );
        assert_eq!(session["expires_at"], 1_900_000_000);
        assert!(session["url"].as_str().unwrap().ends_with(&id));

        let (status, again) = post(
            fake.server.addr(),
            "/v1/checkout/sessions",
            Some(KEY),
            Some("chk1"),
            CREATE,
        )
        .await;
        assert_eq!((status, &again["id"]), (200, &session["id"]));

        let expire = format!("/v1/checkout/sessions/{id}/expire");
        let (status, expired) = post(fake.server.addr(), &expire, Some(KEY), None, "").await;
        assert_eq!((status, &expired["status"]), (200, &json!("expired")));
        assert_eq!(expired["url"], Value::Null);
        let (status, refused) = post(fake.server.addr(), &expire, Some(KEY), None, "").await;
        assert_eq!(status, 400);
        assert_eq!(refused["error"]["type"], "invalid_request_error");
        let (status, _) = post(
            fake.server.addr(),
            "/v1/checkout/sessions/cs_test_unknown/expire",
            Some(KEY),
            None,
            "",
        )
        .await;
        assert_eq!(status, 404);

        assert_eq!(
            fake.counts(),
            Counts {
                connections: 5,
                created: 1,
                replayed: 1,
                expired: 1,
                expire_refused: 2,
                ..Counts::default()
            }
        );
        assert_eq!(fake.session(&id).unwrap()["status"], "expired");
    }

    #[tokio::test]
    async fn a_call_without_the_secret_key_is_refused() {
        let fake = FakeStripe::start(KEY).await.unwrap();
        for key in [None, Some("sk_test_other")] {
            let (status, body) = post(
                fake.server.addr(),
                "/v1/checkout/sessions",
                key,
                None,
                CREATE,
            )
            .await;
            assert_eq!(status, 401);
            assert_eq!(body["error"]["type"], "invalid_request_error");
        }
        assert_eq!(fake.counts().unauthorized, 2);
        assert_eq!(fake.counts().created, 0);
    }

    #[tokio::test]
    async fn a_create_without_line_items_is_refused() {
        let fake = FakeStripe::start(KEY).await.unwrap();
        let (status, body) = post(
            fake.server.addr(),
            "/v1/checkout/sessions",
            Some(KEY),
            None,
            "mode=payment&expires_at=1900000000",
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], "parameter_missing");
        assert_eq!(fake.counts().bad_requests, 1);
    }
}
