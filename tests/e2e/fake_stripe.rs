//! A local stand-in for Stripe that speaks its wire formats, as `fake_clerk.rs` does for Clerk:
//! the Checkout Session, expire and refund calls of Stripe's API on `127.0.0.1:0` (form-encoded
//! requests, JSON answers, Stripe's error body, `Idempotency-Key` replay), recording every
//! request; signed webhook events for a test to deliver; and switches that make the next create
//! fail, stall (performed or not) or find Stripe unreachable.
//!
//! What the app sends is read back with a generic form parser (`form_urlencoded`), never with
//! `crates/stripe`: a fake sharing the app's code would only check that code against itself.
//! Webhooks are signed here with `hmac` directly, from Stripe's documented scheme, for the same
//! reason (the self-tests check it against a signature computed with `openssl`).

mod objects;
mod params;
mod self_tests;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use objects::Payment;
use params::{Hash, StripeError};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The Stripe secret key the app is configured with (`stripe_secret_key`).
pub const SECRET_KEY: &str = "sk_test_e2e_fake_stripe_0123456789abcdef";
/// The webhook endpoint's signing secret the app is configured with (`stripe_webhook_secret`).
pub const WEBHOOK_SECRET: &str = "whsec_e2e_fake_stripe_0123456789abcdef";
/// The API version events and answers claim.
pub const API_VERSION: &str = "2024-06-20";

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Unix seconds now: the `timestamp` for [`FakeStripe::signed`].
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// One request the fake received, whatever it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub content_type: Option<String>,
    /// The body as sent (lossy UTF-8).
    pub body: String,
    /// The body read by a generic form parser, pairs in the order sent; empty unless the
    /// request says it is `application/x-www-form-urlencoded`.
    pub form: Vec<(String, String)>,
}

/// What the next create does instead of answering at once.
enum Fault {
    /// Answer a Stripe error with this status; create nothing.
    Fail(u16),
    /// Hold the request (its idempotency key in use), then create and answer.
    Stall(Duration),
    /// Create the session, then hold the answer.
    PerformThenStall(Duration),
}

/// An `Idempotency-Key` in use: the call it was first sent with and, once that call ran, its
/// saved answer.
struct KeyUse {
    endpoint: String,
    params: Vec<(String, String)>,
    saved: Option<(u16, Value)>,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    sessions: Vec<Value>,
    payments: HashMap<String, Payment>,
    refunds: Vec<Value>,
    keys: HashMap<String, KeyUse>,
    next_create: Option<Fault>,
}

impl State {
    fn session_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.sessions.iter_mut().find(|session| session["id"] == id)
    }
}

type Shared = Arc<Mutex<State>>;

/// The fake Stripe API server; stops when dropped.
pub struct FakeStripe {
    base_url: String,
    state: Shared,
    shutdown: watch::Sender<bool>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl FakeStripe {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Shared::default();
        let (shutdown, mut stopping) = watch::channel(false);
        let shared = state.clone();
        let server = tokio::spawn(async move {
            // Connections live in the set, so stopping closes the kept-alive ones too: a
            // client's pooled connection must not outlive "unreachable".
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { break };
                        while connections.try_join_next().is_some() {}
                        let state = shared.clone();
                        connections.spawn(async move {
                            let service = service_fn(move |req| answer(state.clone(), req));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    _ = stopping.changed() => break,
                }
            }
            drop(listener);
            connections.shutdown().await;
        });
        Self {
            base_url,
            state,
            shutdown,
            server: Mutex::new(Some(server)),
        }
    }

    /// `stripe_api_base` for the app.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stripe becomes unreachable: the port stops listening and open connections close.
    /// Returns once they have.
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        let server = self.lock_server().take();
        if let Some(server) = server {
            let _ = server.await;
        }
    }

    /// The next `POST /v1/checkout/sessions` (authorized, not a replay) answers a Stripe error
    /// with `status` (`api_error` for 5xx, `card_error` for 402, `rate_limit` for 429,
    /// `invalid_request_error` otherwise) and creates nothing. As at Stripe, a 5xx is saved
    /// under the request's `Idempotency-Key` and replayed to a retry; a 4xx is not.
    pub fn fail_next_create(&self, status: u16) {
        assert!((400..=599).contains(&status), "a Stripe error status");
        self.lock().next_create = Some(Fault::Fail(status));
    }

    /// The next create is slow at Stripe: held for `delay` with its idempotency key in use (a
    /// retry meanwhile gets 409 `idempotency_key_in_use`), then the session is created and
    /// answered, even if the client gave up waiting.
    pub fn stall_next_create(&self, delay: Duration) {
        self.lock().next_create = Some(Fault::Stall(delay));
    }

    /// The next create is performed at once (the session exists, its answer saved under the
    /// idempotency key) but answered only after `delay`: a create the caller times out on
    /// although Stripe made the session.
    pub fn perform_then_stall_next_create(&self, delay: Duration) {
        self.lock().next_create = Some(Fault::PerformThenStall(delay));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Every session created so far, in order, as `GET /v1/checkout/sessions/{id}` shows it now.
    pub fn sessions(&self) -> Vec<Value> {
        self.lock().sessions.clone()
    }

    /// One session as it is now.
    pub fn session(&self, id: &str) -> Option<Value> {
        self.lock().session_mut(id).map(|session| session.clone())
    }

    /// Every refund made so far, in order.
    pub fn refunds(&self) -> Vec<Value> {
        self.lock().refunds.clone()
    }

    /// The buyer completes an open session's payment page: `payment_status` is `paid` (card) or
    /// `unpaid` (a delayed method, settled later by `async_payment_*`). Stripe makes its
    /// PaymentIntent (`pi_...`, refundable once paid). Returns the
    /// `checkout.session.completed` event to deliver.
    pub fn complete(&self, session_id: &str, payment_status: &str) -> Value {
        assert!(
            matches!(payment_status, "paid" | "unpaid"),
            "payment_status is paid or unpaid, got {payment_status}"
        );
        let mut state = self.lock();
        let State {
            sessions, payments, ..
        } = &mut *state;
        let session = held(sessions, session_id);
        assert_eq!(
            session["status"], "open",
            "Stripe completes only an open session; {session_id} is not"
        );
        let intent = random_id("pi_", 24);
        payments.insert(
            intent.clone(),
            Payment {
                charge: random_id("ch_", 24),
                amount: session["amount_total"].as_i64().expect("amount_total"),
                currency: session["currency"].as_str().expect("currency").to_owned(),
                succeeded: payment_status == "paid",
                refunded: 0,
            },
        );
        session["status"] = json!("complete");
        session["payment_status"] = json!(payment_status);
        session["payment_intent"] = json!(intent);
        session["url"] = Value::Null;
        Self::event_from("checkout.session.completed", session.clone())
    }

    /// The event of `kind` about a session, after Stripe's change for it:
    /// `checkout.session.async_payment_succeeded` (a session completed unpaid becomes paid),
    /// `checkout.session.async_payment_failed` (it stays unpaid) or `checkout.session.expired`
    /// (an open session expires). Any other kind is the session as it is, unchanged.
    pub fn event(&self, kind: &str, session_id: &str) -> Value {
        let mut state = self.lock();
        let State {
            sessions, payments, ..
        } = &mut *state;
        let session = held(sessions, session_id);
        let (status, payment) = (session["status"].clone(), session["payment_status"].clone());
        match kind {
            "checkout.session.completed" => panic!("use FakeStripe::complete for {kind}"),
            "checkout.session.async_payment_succeeded"
            | "checkout.session.async_payment_failed" => {
                assert!(
                    status == "complete" && payment == "unpaid",
                    "Stripe sends {kind} only for a session completed unpaid; {session_id} is \
                     {status}, {payment}"
                );
                if kind == "checkout.session.async_payment_succeeded" {
                    session["payment_status"] = json!("paid");
                    let intent = session["payment_intent"].as_str().unwrap_or_default();
                    if let Some(payment) = payments.get_mut(intent) {
                        payment.succeeded = true;
                    }
                }
            }
            "checkout.session.expired" => {
                assert_eq!(status, "open", "only an open session expires");
                session["status"] = json!("expired");
                session["url"] = Value::Null;
            }
            _ => {}
        }
        Self::event_from(kind, session.clone())
    }

    /// An event of `kind` carrying `object` as it is, with a new `evt_...` id; changes nothing.
    /// For events about objects the fake does not hold.
    pub fn event_from(kind: &str, object: Value) -> Value {
        json!({
            "id": random_id("evt_", 24),
            "object": "event",
            "api_version": API_VERSION,
            "created": unix_now(),
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        })
    }

    /// `event` as Stripe delivers it at `timestamp`: the body (pretty-printed JSON, as Stripe
    /// sends it, so a verifier that re-serialises fails) and its `Stripe-Signature` value,
    /// signed with [`WEBHOOK_SECRET`].
    pub fn signed(event: &Value, timestamp: i64) -> (String, String) {
        Self::signed_with(WEBHOOK_SECRET, event, timestamp)
    }

    /// [`FakeStripe::signed`] with another signing secret.
    pub fn signed_with(secret: &str, event: &Value, timestamp: i64) -> (String, String) {
        let body = serde_json::to_string_pretty(event).expect("JSON");
        let header = Self::signature_header(secret, timestamp, &body);
        (body, header)
    }

    /// `t=<timestamp>,v1=<hex>`: HMAC-SHA256 keyed with the whole secret (`whsec_` included)
    /// over `"{timestamp}.{body}"`. Append `,v1=...` for a header with several signatures.
    pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
        use hmac::Mac as _;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC key");
        mac.update(format!("{timestamp}.{body}").as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("t={timestamp},v1={hex}")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("state")
    }

    fn lock_server(&self) -> std::sync::MutexGuard<'_, Option<JoinHandle<()>>> {
        self.server.lock().expect("server")
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(server) = self.lock_server().take() {
            server.abort();
        }
    }
}

/// The held session `id`; a test naming a session the fake never made is a mistake.
fn held<'a>(sessions: &'a mut [Value], id: &str) -> &'a mut Value {
    sessions
        .iter_mut()
        .find(|session| session["id"] == id)
        .unwrap_or_else(|| panic!("the fake Stripe has no session {id}"))
}

fn random_id(prefix: &str, len: usize) -> String {
    use rand::Rng as _;
    let tail: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

/// The API calls the fake serves.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    CreateSession,
    GetSession(String),
    ExpireSession(String),
    CreateRefund,
}

impl Call {
    fn route(method: &str, path: &str) -> Option<Call> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("POST", ["v1", "checkout", "sessions"]) => Some(Call::CreateSession),
            ("GET", ["v1", "checkout", "sessions", id]) => Some(Call::GetSession((*id).into())),
            ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
                Some(Call::ExpireSession((*id).into()))
            }
            ("POST", ["v1", "refunds"]) => Some(Call::CreateRefund),
            _ => None,
        }
    }
}

/// An answer: status and JSON body, plus the idempotency headers Stripe adds.
struct Reply {
    status: u16,
    body: Value,
    idempotency_key: Option<String>,
    replayed: bool,
}

impl Reply {
    fn new(result: Result<Value, StripeError>) -> Self {
        let (status, body) = match result {
            Ok(body) => (200, body),
            Err(error) => (error.status, error.body()),
        };
        Self {
            status,
            body,
            idempotency_key: None,
            replayed: false,
        }
    }

    fn keyed(mut self, key: Option<&str>) -> Self {
        self.idempotency_key = key.map(str::to_owned);
        self
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .header("request-id", random_id("req_", 14))
            .header("stripe-version", API_VERSION);
        if let Some(key) = &self.idempotency_key {
            response = response.header("idempotency-key", key);
        }
        if self.replayed {
            response = response.header("idempotent-replayed", "true");
        }
        response
            .body(Full::new(Bytes::from(self.body.to_string())))
            .expect("response")
    }
}

async fn answer(
    state: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let is_form = content_type
        .as_deref()
        .is_some_and(|value| value.to_ascii_lowercase().starts_with(FORM_CONTENT_TYPE));
    let request = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        form: if is_form {
            form_urlencoded::parse(&body).into_owned().collect()
        } else {
            Vec::new()
        },
    };
    state.lock().expect("state").requests.push(request.clone());
    Ok(respond(state, request, is_form).await.into_response())
}

async fn respond(state: Shared, request: Recorded, is_form: bool) -> Reply {
    if let Err(error) = authorize(request.authorization.as_deref()) {
        return Reply::new(Err(error));
    }
    let Some(call) = Call::route(&request.method, &request.path) else {
        let message = format!(
            "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can \
             help at https://support.stripe.com/.",
            request.method, request.path
        );
        return Reply::new(Err(StripeError {
            status: 404,
            ..StripeError::invalid(None, message)
        }));
    };
    if !request.body.is_empty() && !is_form {
        let message = format!(
            "Stripe's API takes {FORM_CONTENT_TYPE} request bodies; this one is {:?}",
            request.content_type.as_deref().unwrap_or("untyped")
        );
        return Reply::new(Err(StripeError::invalid(None, message)));
    }
    // Keys belong to POSTs; Stripe ignores one on a GET.
    let key = request
        .idempotency_key
        .clone()
        .filter(|_| request.method == "POST");
    let fault = {
        let mut state = state.lock().expect("state");
        if let Some(key) = &key
            && let Some(reply) = claim(&mut state, key, &request)
        {
            return reply.keyed(Some(key));
        }
        match call {
            Call::CreateSession => state.next_create.take(),
            _ => None,
        }
    };
    match fault {
        None => execute(&state, &call, &request, key.as_deref(), None),
        Some(Fault::Fail(status)) => execute(&state, &call, &request, key.as_deref(), Some(status)),
        Some(Fault::PerformThenStall(delay)) => {
            let reply = execute(&state, &call, &request, key.as_deref(), None);
            tokio::time::sleep(delay).await;
            reply
        }
        // Stripe finishes what it started even when the client hangs up: a task of its own,
        // which dropping this connection does not cancel.
        Some(Fault::Stall(delay)) => tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            execute(&state, &call, &request, key.as_deref(), None)
        })
        .await
        .expect("the stalled create ran"),
    }
}

/// Runs the call (or answers the injected failure) and settles its idempotency key.
fn execute(
    state: &Shared,
    call: &Call,
    request: &Recorded,
    key: Option<&str>,
    fail_with: Option<u16>,
) -> Reply {
    let mut state = state.lock().expect("state");
    let result = match fail_with {
        Some(status) => Err(injected(status)),
        None => perform(&mut state, call, &request.form),
    };
    let reply = Reply::new(result).keyed(key);
    if let Some(key) = key {
        settle(&mut state, key, &reply);
    }
    reply
}

fn perform(
    state: &mut State,
    call: &Call,
    form: &[(String, String)],
) -> Result<Value, StripeError> {
    let params = params::parse(form)?;
    let form = Hash::root(&params);
    let now = unix_now();
    let missing = |id: &str| StripeError::no_such("checkout.session", id, "session");
    match call {
        Call::CreateSession => {
            // Stripe's test-mode ids: `cs_test_a1` and 54 more letters and digits.
            let session = objects::new_session(&form, &random_id("cs_test_a1", 54), now)?;
            state.sessions.push(session.clone());
            Ok(session)
        }
        Call::GetSession(id) => state
            .session_mut(id)
            .map(|s| s.clone())
            .ok_or_else(|| missing(id)),
        Call::ExpireSession(id) => {
            let session = state.session_mut(id).ok_or_else(|| missing(id))?;
            objects::expire(session, &form)?;
            Ok(session.clone())
        }
        Call::CreateRefund => {
            let refund =
                objects::new_refund(&form, &mut state.payments, &random_id("re_", 24), now)?;
            state.refunds.push(refund.clone());
            Ok(refund)
        }
    }
}

/// Stripe's `Authorization: Bearer <secret key>`.
fn authorize(header: Option<&str>) -> Result<(), StripeError> {
    let unauthorized = |message: String| StripeError {
        status: 401,
        ..StripeError::invalid(None, message)
    };
    match header {
        Some(value) if value.strip_prefix("Bearer ") == Some(SECRET_KEY) => Ok(()),
        None => Err(unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or \
             we can help at https://support.stripe.com/."
                .to_owned(),
        )),
        Some(value) => {
            let key = value.strip_prefix("Bearer ").unwrap_or(value);
            let tail: String = key
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Err(unauthorized(format!(
                "Invalid API Key provided: {}****{tail}",
                key.chars().take(8).collect::<String>()
            )))
        }
    }
}

/// Claims `key` for this request, or answers in its place: the saved answer of the call the
/// key was first used for, or an `idempotency_error` when that call differs or still runs.
fn claim(state: &mut State, key: &str, request: &Recorded) -> Option<Reply> {
    let endpoint = format!("{} {}", request.method, request.path);
    // Stripe compares parameters, not their order in the body.
    let mut params = request.form.clone();
    params.sort();
    let idempotency_error = |status: u16, message: String| StripeError {
        status,
        kind: "idempotency_error",
        ..StripeError::invalid(None, message)
    };
    let refused = match state.keys.get(key) {
        None => {
            let claimed = KeyUse {
                endpoint,
                params,
                saved: None,
            };
            state.keys.insert(key.to_owned(), claimed);
            return None;
        }
        Some(used) if used.endpoint != endpoint => idempotency_error(
            400,
            format!(
                "Keys for idempotent requests can only be used for the same endpoint they were \
                 first used for ('{}' vs '{endpoint}'). Try using a key other than '{key}' if \
                 you meant to execute a different request.",
                used.endpoint
            ),
        ),
        Some(used) if used.params != params => idempotency_error(
            400,
            format!(
                "Keys for idempotent requests can only be used with the same parameters they \
                 were first used with. Try using a key other than '{key}' if you meant to \
                 execute a different request."
            ),
        ),
        Some(KeyUse { saved: None, .. }) => idempotency_error(
            409,
            format!(
                "There is currently another in-progress request using this Idempotent Key \
                 (that probably means you submitted twice, and the other request is still \
                 going through): {key}. Please try again later."
            ),
        )
        .code("idempotency_key_in_use"),
        Some(KeyUse {
            saved: Some((status, body)),
            ..
        }) => {
            return Some(Reply {
                status: *status,
                body: body.clone(),
                idempotency_key: None,
                replayed: true,
            });
        }
    };
    Some(Reply::new(Err(refused)))
}

/// Stripe saves an answer once the endpoint began executing (a success, or its own 5xx) and
/// replays it to every retry; a refused request saves nothing, so the key can be used again.
fn settle(state: &mut State, key: &str, reply: &Reply) {
    if reply.status < 400 || reply.status >= 500 {
        if let Some(used) = state.keys.get_mut(key) {
            used.saved = Some((reply.status, reply.body.clone()));
        }
    } else {
        state.keys.remove(key);
    }
}

/// The error a test asked the next create to answer with.
fn injected(status: u16) -> StripeError {
    let (kind, code, message) = match status {
        402 => (
            "card_error",
            Some("card_declined"),
            "Your card was declined.",
        ),
        429 => (
            "invalid_request_error",
            Some("rate_limit"),
            "Too many requests hit the API too quickly. We recommend an exponential backoff of \
             your requests.",
        ),
        500..=599 => (
            "api_error",
            None,
            "Something went wrong on Stripe's end. (The fake Stripe was told to fail.)",
        ),
        _ => (
            "invalid_request_error",
            None,
            "The fake Stripe was told to refuse this request.",
        ),
    };
    StripeError {
        status,
        kind,
        code,
        message: message.to_owned(),
        param: None,
    }
}
