//! Everything that can go wrong in the products component, and the one place that maps it to
//! an HTTP status.

use auth_guard::GuardError;
use http_kit::{ApiError, FieldError, RequestError};
use idempotency::IdempotencyError;

pub use sqlite_store::StoreError;

/// The products component's errors.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// Field values outside their rules (the first one is the message).
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("Invalid request"))]
    Invalid(Vec<FieldError>),
    #[error("Product with id {0} not found")]
    NotFound(String),
    #[error("Product with id {0} belongs to another seller")]
    NotOwner(String),
    #[error("Product with id {0} was changed concurrently; try again")]
    Conflict(String),
    /// Auth refused the fee for lack of balance; its message is passed on.
    #[error("{0}")]
    InsufficientBalance(String),
    #[error("auth fee endpoint: {0}")]
    FeeUnavailable(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ProductError {
    /// One invalid field.
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::Invalid(vec![FieldError::new(field, format!("{field} {message}"))])
    }
}

impl ApiError for ProductError {
    fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.status(),
            Self::Guard(e) => e.status(),
            Self::Idempotency(e) => e.status(),
            Self::Invalid(_) | Self::InsufficientBalance(_) => 400,
            Self::NotOwner(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::FeeUnavailable(_) => 502,
            Self::Store(_) => 500,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Request(e) => e.field_errors(),
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }

    fn headers(&self) -> Vec<(String, String)> {
        match self {
            Self::Guard(e) => e.headers(),
            _ => Vec::new(),
        }
    }
}

impl From<spin_sdk::sqlite3::Error> for ProductError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        ProductError::Store(e.into())
    }
}
