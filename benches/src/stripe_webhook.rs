//! Stripe's webhook deliveries, made as Stripe makes them: an event (`evt_...`, `type`,
//! `data.object` a Checkout Session), pretty-printed JSON as Stripe sends it, and
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of `"{t}.{body}"` keyed with
//! the endpoint's whole signing secret (`whsec_...` as it is). Signed here with `hmac` directly,
//! from Stripe's documented scheme, never with the app's `crates/stripe`.
//!
//! [`Webhook`] turns a kind of delivery into the load generator's per-request generator: each
//! request a fresh signature (and, for all but [`Webhook::Duplicate`], a new event id).

use crate::fake_stripe::{new_id, unix_now};
use crate::load::{Outgoing, Requests};
use bytes::Bytes;
use hmac::{Hmac, Mac as _};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The webhook's route.
pub const WEBHOOK: &str = "/api/v1/webhooks/stripe";

/// The API version the events claim.
const API_VERSION: &str = "2024-06-20";

/// `t=<timestamp>,v1=<hex>`: HMAC-SHA256 keyed with the whole `secret` over
/// `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// The body of event `id` of `kind` about `object`, pretty-printed as Stripe sends it.
pub fn event_body(id: &str, kind: &str, object: &Value) -> String {
    let event = json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": unix_now(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
    });
    serde_json::to_string_pretty(&event).unwrap_or_default()
}

/// A Checkout Session of another integration on the same Stripe account, completed and paid:
/// not one of ours (no `metadata.checkoutId`; a `client_reference_id` that is no checkout id of
/// ours), so the webhook records the event, looks the session up twice, logs and answers 200.
pub fn foreign_paid_session() -> Value {
    let id = new_id("cs_test_");
    json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": 4_200,
        "amount_total": 4_200,
        "cancel_url": "https://other.example/cancel",
        "client_reference_id": format!("other-app-order-{id}"),
        "created": unix_now() - 120,
        "currency": "usd",
        "customer": null,
        "expires_at": unix_now() + 1_800,
        "livemode": false,
        "metadata": { "orderNumber": "A-1001" },
        "mode": "payment",
        "payment_intent": new_id("pi_"),
        "payment_method_types": ["card"],
        "payment_status": "paid",
        "status": "complete",
        "success_url": "https://other.example/thanks",
        "ui_mode": "hosted",
        "url": null,
    })
}

/// `session` (open, as the fake Stripe created it for one of our checkouts) as Stripe shows it
/// in `checkout.session.completed` once the buyer paid by card.
pub fn paid(session: &Value) -> Value {
    let mut session = session.clone();
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!(new_id("pi_"));
    session["url"] = Value::Null;
    session
}

/// `checkout.session.completed` paying `session` (open, one of our checkouts), a new event
/// signed now with `secret`, as Stripe delivers it once the buyer paid by card.
pub fn pays(secret: &str, session: &Value) -> Outgoing {
    let body = event_body(
        &new_id("evt_"),
        "checkout.session.completed",
        &paid(session),
    );
    delivery(secret, body, StatusCode::OK)
}

/// Open sessions of our checkouts, each to be paid by one webhook request.
pub struct Pool {
    sessions: Vec<Value>,
    next: AtomicUsize,
    /// Requests that found the pool empty (and sent a foreign event instead).
    short: AtomicU64,
}

impl Pool {
    pub fn new(sessions: Vec<Value>) -> Arc<Self> {
        Arc::new(Self {
            sessions,
            next: AtomicUsize::new(0),
            short: AtomicU64::new(0),
        })
    }

    /// The next session to pay, or `None` (counted) when every one was used.
    fn take(&self) -> Option<&Value> {
        let session = self.sessions.get(self.next.fetch_add(1, Ordering::Relaxed));
        if session.is_none() {
            self.short.fetch_add(1, Ordering::Relaxed);
        }
        session
    }

    /// Sessions handed out (paid or being paid).
    pub fn used(&self) -> usize {
        self.next.load(Ordering::Relaxed).min(self.sessions.len())
    }

    /// Requests that found no session left: the runs that made them did not measure what
    /// they claim (the bench fails).
    pub fn short(&self) -> u64 {
        self.short.load(Ordering::Relaxed)
    }
}

/// A kind of webhook delivery.
#[derive(Clone)]
pub enum Webhook {
    /// `checkout.session.completed`, paid, for a session not ours; a new event each request.
    Foreign,
    /// `checkout.session.completed`, paid, for one of our open checkouts (the next of the
    /// pool); a new event each request: marks it paid, records the saga start in the outbox
    /// and publishes it.
    Pays(Arc<Pool>),
    /// The same foreign event every request (a redelivery), freshly signed: the inbox finds
    /// its id and nothing is written.
    Duplicate(Arc<String>),
    /// A foreign event signed with another secret: refused (400) before anything is read.
    BadSignature,
}

impl Webhook {
    /// A duplicate delivery of one foreign event.
    pub fn duplicate() -> Self {
        let body = event_body(
            &new_id("evt_"),
            "checkout.session.completed",
            &foreign_paid_session(),
        );
        Webhook::Duplicate(Arc::new(body))
    }

    /// The load generator's requests for this kind, signed with `secret`.
    pub fn requests(&self, secret: &'static str) -> Requests {
        let kind = self.clone();
        Arc::new(move |_connection| {
            let completed =
                |object: &Value| event_body(&new_id("evt_"), "checkout.session.completed", object);
            let (body, key, expect) = match &kind {
                Webhook::Foreign => (completed(&foreign_paid_session()), secret, StatusCode::OK),
                Webhook::Pays(pool) => match pool.take() {
                    Some(session) => return pays(secret, session),
                    None => (completed(&foreign_paid_session()), secret, StatusCode::OK),
                },
                Webhook::Duplicate(body) => (body.as_ref().clone(), secret, StatusCode::OK),
                Webhook::BadSignature => (
                    completed(&foreign_paid_session()),
                    "whsec_not_the_endpoint_secret",
                    StatusCode::BAD_REQUEST,
                ),
            };
            delivery(key, body, expect)
        })
    }
}

/// `POST /api/v1/webhooks/stripe` with `body`, signed now with `secret`, as Stripe sends it.
fn delivery(secret: &str, body: String, expect: StatusCode) -> Outgoing {
    let signed = signature(secret, unix_now(), body.as_bytes());
    let headers = vec![
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        ),
        (
            header::USER_AGENT,
            HeaderValue::from_static("Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
        ),
        (
            HeaderName::from_static("stripe-signature"),
            HeaderValue::try_from(signed).unwrap_or_else(|_| HeaderValue::from_static("t=0")),
        ),
    ];
    Outgoing {
        method: Method::POST,
        path: WEBHOOK.to_owned(),
        headers,
        body: Bytes::from(body),
        expect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_stripes_documented_hmac() {
        // Computed independently:
        // printf '%s' '1700000000.{"id":"evt_1"}' \
        //   | openssl dgst -sha256 -hmac 'whsec_test_secret'
        assert_eq!(
            signature("whsec_test_secret", 1_700_000_000, br#"{"id":"evt_1"}"#),
            "t=1700000000,v1=248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a"
        );
    }

    #[test]
    fn every_foreign_delivery_is_a_new_event_about_a_session_not_ours() {
        let requests = Webhook::Foreign.requests("whsec_x");
        let (a, b) = (requests(0), requests(0));
        let parse = |o: &Outgoing| serde_json::from_slice::<Value>(&o.body).unwrap();
        let (a_event, b_event) = (parse(&a), parse(&b));
        assert_ne!(a_event["id"], b_event["id"]);
        assert_eq!(a_event["type"], "checkout.session.completed");
        let session = &a_event["data"]["object"];
        assert_eq!(session["object"], "checkout.session");
        assert_eq!(session["payment_status"], "paid");
        assert!(session["metadata"].get("checkoutId").is_none());
        assert_eq!((a.method, a.path.as_str()), (Method::POST, WEBHOOK));
        let header = a
            .headers
            .iter()
            .find(|(n, _)| n == "stripe-signature")
            .unwrap();
        let t = header.1.to_str().unwrap()[2..12].parse::<i64>().unwrap();
        assert_eq!(header.1.to_str().unwrap(), signature("whsec_x", t, &a.body));
    }

    #[test]
    fn the_pool_pays_each_session_once_then_says_it_ran_short() {
        let open = json!({ "id": "cs_test_1", "object": "checkout.session",
            "status": "open", "payment_status": "unpaid", "payment_intent": null,
            "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "metadata": { "checkoutId": "c1" } });
        let pool = Pool::new(vec![open]);
        let requests = Webhook::Pays(pool.clone()).requests("whsec_x");
        let first: Value = serde_json::from_slice(&requests(3).body).unwrap();
        let session = &first["data"]["object"];
        assert_eq!(session["id"], "cs_test_1");
        assert_eq!(session["payment_status"], "paid");
        assert_eq!(session["status"], "complete");
        assert!(
            session["payment_intent"]
                .as_str()
                .unwrap()
                .starts_with("pi_")
        );
        assert_eq!((pool.used(), pool.short()), (1, 0));
        let _ = requests(3);
        assert_eq!((pool.used(), pool.short()), (1, 1));
    }

    #[test]
    fn a_duplicate_is_the_same_event_signed_anew_and_a_bad_signature_expects_400() {
        let duplicate = Webhook::duplicate().requests("whsec_x");
        assert_eq!(duplicate(0).body, duplicate(1).body);
        let bad = Webhook::BadSignature.requests("whsec_x")(0);
        assert_eq!(bad.expect, StatusCode::BAD_REQUEST);
        let header = bad
            .headers
            .iter()
            .find(|(n, _)| n == "stripe-signature")
            .unwrap();
        let t = header.1.to_str().unwrap()[2..12].parse::<i64>().unwrap();
        assert_ne!(
            header.1.to_str().unwrap(),
            signature("whsec_x", t, &bad.body)
        );
    }
}
