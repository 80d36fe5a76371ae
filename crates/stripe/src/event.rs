//! Webhook events. Stripe adds fields to events and sessions in every API version, so only
//! the fields checkout uses are read, and unknown ones are ignored; those it uses are strict:
//! a handled event whose `data.object` is not a readable Checkout Session is an error, never a
//! session with guessed fields. Call this only after [`crate::verify`] accepted the body.

use money::Money;
use serde::Deserialize;
use serde_json::Value;

/// A verified webhook delivery, reduced to what checkout acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stripe's event id (`evt_...`): the inbox key, the same on every redelivery.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The session the event is about: `Some` for every handled kind, `None` for `Other`.
    pub session: Option<CheckoutSession>,
}

/// The event types checkout handles; every other type is acknowledged and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `checkout.session.completed`: the buyer finished; paid now only if `payment_status`
    /// is `paid` (delayed methods complete unpaid and report later).
    Completed,
    /// `checkout.session.async_payment_succeeded`: a delayed payment arrived.
    AsyncPaymentSucceeded,
    /// `checkout.session.async_payment_failed`: a delayed payment did not arrive.
    AsyncPaymentFailed,
    /// `checkout.session.expired`: the session can no longer be paid.
    Expired,
    /// Any other type, as Stripe names it.
    Other(String),
}

impl EventKind {
    /// The kind for Stripe's `type` string.
    pub fn from_type(event_type: &str) -> EventKind {
        match event_type {
            "checkout.session.completed" => EventKind::Completed,
            "checkout.session.async_payment_succeeded" => EventKind::AsyncPaymentSucceeded,
            "checkout.session.async_payment_failed" => EventKind::AsyncPaymentFailed,
            "checkout.session.expired" => EventKind::Expired,
            other => EventKind::Other(other.to_owned()),
        }
    }

    /// Stripe's `type` string for this kind.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Completed => "checkout.session.completed",
            EventKind::AsyncPaymentSucceeded => "checkout.session.async_payment_succeeded",
            EventKind::AsyncPaymentFailed => "checkout.session.async_payment_failed",
            EventKind::Expired => "checkout.session.expired",
            EventKind::Other(name) => name,
        }
    }
}

/// A Checkout Session's `payment_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// The funds are available: the saga may start.
    Paid,
    /// Not paid (yet): open, expired, or a delayed payment still on its way.
    Unpaid,
    /// Nothing to pay (a zero total; checkout never creates one).
    NoPaymentRequired,
}

/// The fields of a Checkout Session that checkout reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// Stripe's session id (`cs_...`).
    pub id: String,
    /// `client_reference_id`: our checkout id, as sent at creation.
    pub client_reference_id: Option<String>,
    /// `metadata.checkoutId`: our checkout id, as sent at creation.
    pub metadata_checkout_id: Option<String>,
    /// Whether the money has arrived.
    pub payment_status: PaymentStatus,
    /// The PaymentIntent (`pi_...`) to refund through; absent until the buyer pays.
    pub payment_intent: Option<String>,
    /// What Stripe charges, in cents of the session's currency.
    pub amount_total: Option<Money>,
}

impl CheckoutSession {
    /// Our checkout id: `metadata.checkoutId`, else `client_reference_id` (both are sent;
    /// either alone identifies a session created while our call timed out).
    pub fn checkout_id(&self) -> Option<&str> {
        [&self.metadata_checkout_id, &self.client_reference_id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|id| !id.is_empty())
    }
}

/// Why a webhook body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or no string `id` and `type`.
    #[error("the webhook body is not a Stripe event: {0}")]
    NotAnEvent(String),
    /// A handled type whose `data.object` is something else.
    #[error("a {event_type} event must carry a checkout.session, not {object}")]
    NotACheckoutSession {
        /// The event's `type`.
        event_type: String,
        /// `data.object.object`, or what was there instead.
        object: String,
    },
    /// A Checkout Session without a field checkout reads, or with one of the wrong type.
    #[error("the checkout session of a {event_type} event cannot be read: {reason}")]
    BadSession {
        /// The event's `type`.
        event_type: String,
        /// What is wrong, as serde says it.
        reason: String,
    },
}

/// Reads a webhook body (already verified).
pub fn parse_event(body: &[u8]) -> Result<Event, EventError> {
    let wire: WireEvent =
        serde_json::from_slice(body).map_err(|e| EventError::NotAnEvent(e.to_string()))?;
    let kind = EventKind::from_type(&wire.event_type);
    let session = match kind {
        EventKind::Other(_) => None,
        _ => Some(read_session(&wire.event_type, wire.data)?),
    };
    Ok(Event {
        id: wire.id,
        kind,
        session,
    })
}

fn read_session(event_type: &str, data: Option<WireData>) -> Result<CheckoutSession, EventError> {
    let object = data.map(|d| d.object).unwrap_or(Value::Null);
    let object_type = match object.get("object") {
        Some(Value::String(name)) => name.clone(),
        Some(other) => other.to_string(),
        None if object.is_object() => "an object without an \"object\" field".to_owned(),
        None => object.to_string(),
    };
    if object_type != "checkout.session" {
        return Err(EventError::NotACheckoutSession {
            event_type: event_type.to_owned(),
            object: object_type,
        });
    }
    let wire: WireSession = serde_json::from_value(object).map_err(|e| EventError::BadSession {
        event_type: event_type.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(CheckoutSession {
        id: wire.id,
        client_reference_id: wire.client_reference_id,
        metadata_checkout_id: wire.metadata.and_then(|m| m.checkout_id),
        payment_status: wire.payment_status,
        payment_intent: wire.payment_intent.map(ExpandableId::into_id),
        amount_total: wire.amount_total.map(Money::from_cents),
    })
}

#[derive(Deserialize)]
struct WireEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: Option<WireData>,
}

#[derive(Deserialize)]
struct WireData {
    object: Value,
}

#[derive(Deserialize)]
struct WireSession {
    id: String,
    client_reference_id: Option<String>,
    metadata: Option<WireMetadata>,
    payment_status: PaymentStatus,
    payment_intent: Option<ExpandableId>,
    /// Integer cents: not `Money`'s own JSON form, which is dollars.
    amount_total: Option<i64>,
}

#[derive(Deserialize)]
struct WireMetadata {
    #[serde(rename = "checkoutId")]
    checkout_id: Option<String>,
}

/// Stripe sends a related object as its id, or as the object when the request expanded it.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpandableId {
    Id(String),
    Expanded { id: String },
}

impl ExpandableId {
    fn into_id(self) -> String {
        match self {
            ExpandableId::Id(id) | ExpandableId::Expanded { id } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPLETED: &str = include_str!("../testdata/checkout.session.completed.json");
    const EXPIRED: &str = include_str!("../testdata/checkout.session.expired.json");
    const OTHER: &str = include_str!("../testdata/payment_intent.succeeded.json");

    /// `COMPLETED` with its type set to `event_type` and `edit` applied to the session.
    fn completed_as(event_type: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut event: Value = serde_json::from_str(COMPLETED).unwrap();
        event["type"] = Value::from(event_type);
        edit(&mut event["data"]["object"]);
        serde_json::to_vec(&event).unwrap()
    }

    #[test]
    fn a_paid_completed_event_gives_the_session_and_our_checkout_id() {
        let event = parse_event(COMPLETED.as_bytes()).unwrap();
        assert_eq!(event.id, "evt_1PtQ5RLkdIwHu7ixVbW8a9Xc");
        assert_eq!(event.kind, EventKind::Completed);
        let session = event.session.unwrap();
        assert_eq!(
            session,
            CheckoutSession {
                id: "cs_test_a1nYqL0vXeQ2mW7oB3fK9sJ4dG6hR8tU5yI1pZ2xC3vB4nM5".into(),
                client_reference_id: Some("01J6ZQ3K8V2M4N6P8R0T2W4Y6A".into()),
                metadata_checkout_id: Some("01J6ZQ3K8V2M4N6P8R0T2W4Y6A".into()),
                payment_status: PaymentStatus::Paid,
                payment_intent: Some("pi_3PtQ5QLkdIwHu7ix0kP2s7Qd".into()),
                amount_total: Some(Money::from_cents(3899)),
            }
        );
        assert_eq!(session.checkout_id(), Some("01J6ZQ3K8V2M4N6P8R0T2W4Y6A"));
    }

    #[test]
    fn an_expired_session_has_no_payment_intent_and_falls_back_to_client_reference_id() {
        let event = parse_event(EXPIRED.as_bytes()).unwrap();
        assert_eq!(event.kind, EventKind::Expired);
        let session = event.session.unwrap();
        assert_eq!(session.payment_status, PaymentStatus::Unpaid);
        assert_eq!(session.payment_intent, None);
        assert_eq!(session.metadata_checkout_id, None);
        assert_eq!(session.checkout_id(), Some("01J6ZR0CHECKOUTEXPIRED00000"));
    }

    #[test]
    fn metadata_wins_over_client_reference_id_and_empty_ids_are_no_ids() {
        let body = completed_as("checkout.session.completed", |s| {
            s["client_reference_id"] = Value::from("from-reference");
            s["metadata"]["checkoutId"] = Value::from("from-metadata");
        });
        let session = parse_event(&body).unwrap().session.unwrap();
        assert_eq!(session.checkout_id(), Some("from-metadata"));
        let body = completed_as("checkout.session.completed", |s| {
            s["client_reference_id"] = Value::Null;
            s["metadata"] = serde_json::json!({});
        });
        let session = parse_event(&body).unwrap().session.unwrap();
        assert_eq!(session.checkout_id(), None);
        let body = completed_as("checkout.session.completed", |s| {
            s["client_reference_id"] = Value::from("");
            s["metadata"]["checkoutId"] = Value::from("");
        });
        assert_eq!(
            parse_event(&body).unwrap().session.unwrap().checkout_id(),
            None
        );
    }

    #[test]
    fn each_handled_type_has_its_kind() {
        for kind in [
            EventKind::Completed,
            EventKind::AsyncPaymentSucceeded,
            EventKind::AsyncPaymentFailed,
            EventKind::Expired,
        ] {
            let event = parse_event(&completed_as(kind.as_str(), |_| {})).unwrap();
            assert_eq!(event.kind, kind);
            assert!(event.session.is_some());
        }
    }

    #[test]
    fn a_completed_event_for_a_delayed_payment_is_unpaid() {
        let body = completed_as("checkout.session.completed", |s| {
            s["payment_status"] = Value::from("unpaid");
        });
        let session = parse_event(&body).unwrap().session.unwrap();
        assert_eq!(session.payment_status, PaymentStatus::Unpaid);
        let body = completed_as("checkout.session.completed", |s| {
            s["payment_status"] = Value::from("no_payment_required");
        });
        let session = parse_event(&body).unwrap().session.unwrap();
        assert_eq!(session.payment_status, PaymentStatus::NoPaymentRequired);
    }

    #[test]
    fn other_types_are_kept_by_name_without_reading_their_object() {
        let event = parse_event(OTHER.as_bytes()).unwrap();
        assert_eq!(
            event.kind,
            EventKind::Other("payment_intent.succeeded".into())
        );
        assert_eq!(event.session, None);
        let bare = br#"{"id":"evt_1","type":"customer.created"}"#;
        assert_eq!(
            parse_event(bare).unwrap().kind,
            EventKind::Other("customer.created".into())
        );
    }

    #[test]
    fn a_handled_type_carrying_another_object_is_an_error() {
        let mut event: Value = serde_json::from_str(OTHER).unwrap();
        event["type"] = Value::from("checkout.session.completed");
        let err = parse_event(&serde_json::to_vec(&event).unwrap()).unwrap_err();
        assert_eq!(
            err,
            EventError::NotACheckoutSession {
                event_type: "checkout.session.completed".into(),
                object: "payment_intent".into(),
            }
        );
        let no_data = br#"{"id":"evt_1","type":"checkout.session.expired"}"#;
        assert!(matches!(
            parse_event(no_data),
            Err(EventError::NotACheckoutSession { .. })
        ));
    }

    #[test]
    fn a_session_missing_or_mistyping_a_used_field_is_an_error() {
        type Edit = fn(&mut Value);
        let edits: [(&str, Edit); 5] = [
            ("no id", |s| {
                s.as_object_mut().unwrap().remove("id");
            }),
            ("unknown payment_status", |s| {
                s["payment_status"] = Value::from("refunded")
            }),
            ("no payment_status", |s| {
                s.as_object_mut().unwrap().remove("payment_status");
            }),
            ("amount_total as dollars", |s| {
                s["amount_total"] = Value::from(38.99)
            }),
            ("checkoutId not a string", |s| {
                s["metadata"]["checkoutId"] = Value::from(7)
            }),
        ];
        for (case, edit) in edits {
            let body = completed_as("checkout.session.completed", edit);
            assert!(
                matches!(parse_event(&body), Err(EventError::BadSession { .. })),
                "{case}"
            );
        }
    }

    #[test]
    fn an_expanded_payment_intent_gives_its_id() {
        let body = completed_as("checkout.session.completed", |s| {
            s["payment_intent"] = serde_json::json!({"id": "pi_123", "object": "payment_intent"});
        });
        let session = parse_event(&body).unwrap().session.unwrap();
        assert_eq!(session.payment_intent.as_deref(), Some("pi_123"));
    }

    #[test]
    fn a_body_that_is_not_an_event_is_an_error() {
        for body in [&b"not json"[..], b"{}", br#"{"id":"evt_1"}"#, br#"[1,2]"#] {
            assert!(matches!(parse_event(body), Err(EventError::NotAnEvent(_))));
        }
    }
}
