//! Stripe's wire format as checkout and the saga need it, as pure functions: verify a
//! webhook's `Stripe-Signature`, build the form-encoded Checkout Session, expire and refund
//! requests, and read webhook events, created sessions and error bodies. No HTTP happens
//! here: the components send and receive, so every rule is unit-tested natively and the crate
//! builds for `wasm32-wasip2` unchanged.
#![deny(missing_docs)]

pub mod event;
mod hex;
pub mod refund;
pub mod request;
pub mod response;
pub mod session;
pub mod signature;

pub use event::{CheckoutSession, Event, EventError, EventKind, PaymentStatus, parse_event};
pub use refund::refund;
pub use request::{FORM_CONTENT_TYPE, FormRequest, form_body};
pub use response::{
    CreatedSession, ErrorBody, ErrorType, ResponseError, parse_created_session, parse_error,
};
pub use session::{
    AmountError, LineError, MAX_LINE_ITEMS, MAX_TOTAL, MIN_TOTAL, NewSession,
    SESSION_LIFETIME_SECS, SessionError, SessionLine, check_total, create_session,
    create_session_form, expire_session, expires_at,
};
pub use signature::{EmptySecret, SignatureError, TOLERANCE_SECS, WebhookSecret, sign, verify};
