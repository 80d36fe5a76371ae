//! A local stand-in for the email API the saga sends through (Resend's wire format:
//! `POST /emails`, `Authorization: Bearer <key>`, JSON `{from, to, subject, html, text}`,
//! `Idempotency-Key`), on `127.0.0.1:0`. Like Resend, a repeated key is answered with the
//! first answer and sends nothing again; it records every request and every email sent, and can
//! be made to fail the next requests with a 5xx (the API being down).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// The key the app is configured with (`email_api_key`).
pub const API_KEY: &str = "re_e2e_fake_email_key";

/// One email the API accepted and sent.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub idempotency_key: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Default)]
struct State {
    requests: usize,
    sent: Vec<SentEmail>,
    answers: HashMap<String, Value>,
    failures_left: usize,
}

/// The fake email API; stops when dropped.
pub struct FakeEmail {
    base_url: String,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for FakeEmail {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeEmail {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = state.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base_url,
            state,
            server,
        }
    }

    /// `email_api_base` for the app.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The next `count` requests answer 503 and send nothing.
    pub fn fail_next(&self, count: usize) {
        self.lock().failures_left = count;
    }

    /// Every email sent, in order (a repeated key is not sent again).
    pub fn sent(&self) -> Vec<SentEmail> {
        self.lock().sent.clone()
    }

    /// The emails sent to `to`.
    pub fn sent_to(&self, to: &str) -> Vec<SentEmail> {
        self.sent().into_iter().filter(|e| e.to == to).collect()
    }

    /// How many requests arrived, failed and repeated ones included.
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake email state")
    }
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a response")
}

async fn answer(
    state: Arc<Mutex<State>>,
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
    let mut state = state.lock().expect("fake email state");
    state.requests += 1;
    if parts.method != hyper::Method::POST || parts.uri.path() != "/emails" {
        return Ok(reply(
            404,
            json!({ "name": "not_found", "message": "Not found" }),
        ));
    }
    if header("authorization").as_deref() != Some(&format!("Bearer {API_KEY}")) {
        return Ok(reply(
            401,
            json!({ "name": "missing_api_key", "message": "Missing API key" }),
        ));
    }
    if state.failures_left > 0 {
        state.failures_left -= 1;
        return Ok(reply(
            503,
            json!({ "name": "internal_server_error", "message": "Unavailable" }),
        ));
    }
    let key = header("idempotency-key").unwrap_or_default();
    if let Some(first) = state.answers.get(&key).filter(|_| !key.is_empty()) {
        return Ok(reply(200, first.clone()));
    }
    let Ok(email) = serde_json::from_slice::<Value>(&body) else {
        return Ok(reply(
            422,
            json!({ "name": "validation_error", "message": "Invalid JSON" }),
        ));
    };
    let field = |name: &str| email[name].as_str().map(str::to_owned);
    let (Some(from), Some(to), Some(subject)) = (field("from"), field("to"), field("subject"))
    else {
        return Ok(reply(
            422,
            json!({ "name": "validation_error", "message": "from, to and subject are required" }),
        ));
    };
    let id = format!("email_{}", state.sent.len() + 1);
    state.sent.push(SentEmail {
        idempotency_key: key.clone(),
        from,
        to,
        subject,
        html: field("html").unwrap_or_default(),
        text: field("text").unwrap_or_default(),
    });
    let first = json!({ "id": id });
    if !key.is_empty() {
        state.answers.insert(key, first.clone());
    }
    Ok(reply(200, first))
}
