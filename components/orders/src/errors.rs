//! Everything that can go wrong in the orders component, and the one place that maps it to an
//! HTTP status.

use auth_guard::GuardError;
use http_kit::{ApiError, FieldError, RequestError};

pub use sqlite_store::StoreError;

/// The orders component's errors.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// Missing, or another user's: never told apart.
    #[error("Order with id {0} not found")]
    NotFound(String),
    /// The products component could not be reached or gave no usable answer (detail logged).
    #[error(transparent)]
    CatalogUnavailable(#[from] catalog_client::Unavailable),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ApiError for OrderError {
    fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.status(),
            Self::Guard(e) => e.status(),
            Self::NotFound(_) => 404,
            Self::CatalogUnavailable(_) => 503,
            Self::Store(_) => 500,
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
            Self::CatalogUnavailable(_) => vec![(
                "retry-after".into(),
                catalog_client::Unavailable::RETRY_AFTER_SECS.into(),
            )],
            _ => Vec::new(),
        }
    }

    fn public_message(&self) -> Option<String> {
        match self {
            Self::CatalogUnavailable(_) => {
                Some(catalog_client::Unavailable::PUBLIC_MESSAGE.to_owned())
            }
            _ => None,
        }
    }
}

impl From<spin_sdk::sqlite3::Error> for OrderError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        OrderError::Store(e.into())
    }
}
