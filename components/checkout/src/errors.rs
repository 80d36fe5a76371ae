//! Everything that can go wrong in the checkout component, and the one place that maps it to
//! an HTTP status.

use auth_guard::GuardError;
use http_kit::{ApiError, FieldError, RequestError};
use idempotency::IdempotencyError;

pub use sqlite_store::StoreError;

/// The checkout component's errors.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error("Cart is empty. Cannot proceed to checkout.")]
    EmptyCart,
    /// Products whose available stock is below the quantity in the cart (their names).
    #[error("Not enough stock for: {}", .0.join(", "))]
    OutOfStock(Vec<String>),
    /// The buyer's balance cannot hold the total (auth's message).
    #[error("{0}")]
    InsufficientBalance(String),
    /// The total is outside what Stripe can charge.
    #[error(transparent)]
    Amount(#[from] stripe::AmountError),
    /// A newer checkout of the same buyer replaced this one while it was being created.
    #[error("This checkout was replaced by a newer one")]
    Replaced,
    /// Stripe refused, failed or could not be reached (detail logged).
    #[error("stripe: {0}")]
    Stripe(String),
    /// Auth (balance holds) could not be reached or answered unexpectedly (detail logged).
    #[error("identity service: {0}")]
    Unavailable(String),
    /// Missing, or another user's: never told apart.
    #[error("Checkout session with id {0} not found")]
    NotFound(String),
    /// The webhook's `Stripe-Signature` is missing, malformed, wrong or too old.
    #[error("Invalid Stripe signature: {0}")]
    Signature(#[from] stripe::SignatureError),
    /// A signed webhook body that is not a usable event.
    #[error("Invalid Stripe event: {0}")]
    Event(#[from] stripe::EventError),
    /// The re-drive route without the re-drive secret.
    #[error("Missing or invalid re-drive credentials")]
    RedriveUnauthorized,
    #[error("checkout is misconfigured: {0}")]
    Misconfigured(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ApiError for CheckoutError {
    fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.status(),
            Self::Guard(e) => e.status(),
            Self::Idempotency(e) => e.status(),
            Self::EmptyCart
            | Self::InsufficientBalance(_)
            | Self::Amount(_)
            | Self::Signature(_)
            | Self::Event(_) => 400,
            Self::RedriveUnauthorized => 401,
            Self::NotFound(_) => 404,
            Self::OutOfStock(_) | Self::Replaced => 409,
            Self::Stripe(_) => 502,
            Self::Unavailable(_) => 503,
            Self::Misconfigured(_) | Self::Store(_) => 500,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Request(e) => e.field_errors(),
            _ => Vec::new(),
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        match self {
            Self::Guard(e) => e.headers(),
            Self::Unavailable(_) => vec![("retry-after".into(), "1".into())],
            _ => Vec::new(),
        }
    }

    fn public_message(&self) -> Option<String> {
        match self {
            Self::Stripe(_) => {
                Some("The payment provider could not start the payment; nothing was charged. Please try again.".into())
            }
            Self::Unavailable(_) => Some("A service checkout needs is unavailable; try again shortly".into()),
            _ => None,
        }
    }
}

impl From<spin_sdk::sqlite3::Error> for CheckoutError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        CheckoutError::Store(e.into())
    }
}
