//! A small stand-in for the email API the saga sends through (Resend's wire format):
//! `POST /emails` with `Authorization: Bearer <key>` and a JSON body carrying `from`, `to`,
//! `subject` and `html`, answered `200 {"id": ...}` (a new id); 401 for another key, 422 for a body
//! without those fields, as Resend answers. An `Idempotency-Key` seen before is answered with
//! the first answer's id and not counted again, so the count is of emails a person would get.
//!
//! Written from the API's documented format, sharing no code with the app's `components/events`.
//! The end-to-end tests' fake (`tests/e2e/fake_email.rs`) records bodies for assertions; this one
//! only counts, cheaply, under load.

use crate::fake_server::FakeServer;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the fake answered, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EmailCounts {
    /// Emails accepted (a repeated `Idempotency-Key` not counted again).
    pub sent: u64,
    /// Requests answered from an earlier one with the same `Idempotency-Key`.
    pub replayed: u64,
    /// Refused: wrong key (401), a body missing a field (422), another route (404).
    pub refused: u64,
}

#[derive(Default)]
struct State {
    /// `Idempotency-Key` → the id answered for it.
    keys: HashMap<String, String>,
    counts: EmailCounts,
}

/// The running fake; stops when dropped.
pub struct FakeEmail {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl FakeEmail {
    /// Listens on `127.0.0.1:<free port>`, accepting `api_key` as the only key.
    pub async fn start(api_key: &str) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let bearer = Arc::new(format!("Bearer {api_key}"));
        let answer = move |req| {
            let (state, bearer) = (shared.clone(), bearer.clone());
            async move { answer(&state, &bearer, req).await }
        };
        let server = FakeServer::start(answer, || {}).await?;
        Ok(Self { server, state })
    }

    /// `http://127.0.0.1:<port>`: the app's `email_api_base`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// What the fake answered so far.
    pub fn counts(&self) -> EmailCounts {
        self.state.lock().expect("fake email state").counts
    }
}

async fn answer(
    state: &Mutex<State>,
    bearer: &str,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (authorization, key) = (header("authorization"), header("idempotency-key"));
    let route_ok = req.method() == hyper::Method::POST && req.uri().path() == "/emails";
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut state = state.lock().expect("fake email state");
    if !route_ok {
        state.counts.refused += 1;
        return reply(
            404,
            json!({ "name": "not_found", "message": "Route not found" }),
        );
    }
    if authorization.as_deref() != Some(bearer) {
        state.counts.refused += 1;
        return reply(
            401,
            json!({ "name": "validation_error", "message": "API key is invalid" }),
        );
    }
    let email: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let missing = ["from", "to", "subject", "html"]
        .into_iter()
        .find(|field| email.get(field).is_none_or(Value::is_null));
    if let Some(field) = missing {
        state.counts.refused += 1;
        return reply(
            422,
            json!({ "name": "missing_required_field", "message": format!("Missing `{field}` field.") }),
        );
    }
    if let Some(id) = key.as_ref().and_then(|k| state.keys.get(k)) {
        let id = id.clone();
        state.counts.replayed += 1;
        return reply(200, json!({ "id": id }));
    }
    let id = crate::fake_stripe::new_id("email_");
    if let Some(key) = key {
        state.keys.insert(key, id.clone());
    }
    state.counts.sent += 1;
    reply(200, json!({ "id": id }))
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
