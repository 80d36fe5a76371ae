//! Everything that can go wrong in the cart component, and the one place that maps it to an
//! HTTP status.

use crate::domain::MAX_ITEMS;
use auth_guard::GuardError;
use http_kit::{ApiError, FieldError, RequestError};
use idempotency::IdempotencyError;

pub use sqlite_store::StoreError;

/// The cart component's errors.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    /// Field values outside their rules (the first one is the message).
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("Invalid request"))]
    Invalid(Vec<FieldError>),
    /// Missing, or another user's: never told apart.
    #[error("Cart item with id {0} not found")]
    ItemNotFound(String),
    #[error("Product with id {0} not found")]
    ProductNotFound(String),
    /// More units than the product's available stock (also when that is 0).
    #[error("Product with id {0} has insufficient quantity")]
    InsufficientStock(String),
    #[error("Cart item already exists")]
    AlreadyExists,
    #[error("Product with id {0} is your own; you cannot buy it")]
    OwnProduct(String),
    /// Owned by the ANONYMOUS user: kept only for the orders that reference it.
    #[error("Product with id {0} is no longer for sale")]
    NotForSale(String),
    #[error("A cart holds at most {MAX_ITEMS} different products; remove one to add another")]
    CartFull,
    /// The products component could not be reached or gave no usable answer (detail logged).
    #[error("product catalog: {0}")]
    CatalogUnavailable(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl CartError {
    /// One invalid field.
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::Invalid(vec![FieldError::new(field, format!("{field} {message}"))])
    }
}

impl ApiError for CartError {
    fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.status(),
            Self::Guard(e) => e.status(),
            Self::Idempotency(e) => e.status(),
            Self::Invalid(_)
            | Self::InsufficientStock(_)
            | Self::OwnProduct(_)
            | Self::NotForSale(_)
            | Self::CartFull => 400,
            Self::ItemNotFound(_) | Self::ProductNotFound(_) => 404,
            Self::AlreadyExists => 409,
            Self::CatalogUnavailable(_) => 503,
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

impl From<spin_sdk::sqlite3::Error> for CartError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        CartError::Store(e.into())
    }
}
