//! Everything that can go wrong in the auth component, and the one place that maps it to an
//! HTTP status.

use crate::domain::clerk::ProfileError;
use crate::domain::svix::SignatureError;
use auth_guard::GuardError;
use http_kit::{ApiError, FieldError, RequestError};
use idempotency::IdempotencyError;
use money::Money;

pub use sqlite_store::StoreError;

/// The auth component's errors.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
    #[error("Email already exists")]
    EmailTaken,
    #[error("Invalid email or password")]
    InvalidCredentials,
    #[error("Too many failed sign-in attempts. Try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("Invalid or expired refresh token")]
    InvalidRefreshToken,
    #[error("Insufficient balance to upgrade to ADMIN. Minimum required is {0}")]
    InsufficientBalanceForUpgrade(Money),
    #[error("Insufficient balance to pay {amount}. Current balance is {balance}")]
    InsufficientBalance { amount: Money, balance: Money },
    #[error("User with id {0} not found")]
    UserNotFound(String),
    #[error("Clerk user {0} not found")]
    ClerkUserNotFound(String),
    #[error(transparent)]
    InvalidSignature(#[from] SignatureError),
    #[error(transparent)]
    InvalidClerkPayload(#[from] ProfileError),
    #[error("Fee {0} not found")]
    FeeNotFound(String),
    #[error("Hold {0} not found")]
    HoldNotFound(String),
    #[error("Hold {0} was released")]
    HoldReleased(String),
    #[error("Hold {0} was captured")]
    HoldCaptured(String),
    #[error("Key {0} was already used with a different request")]
    LedgerKeyReused(String),
    #[error("Clerk API: {0}")]
    ClerkUnavailable(String),
    #[error("configuration: {0}")]
    Misconfigured(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ApiError for AuthError {
    fn status(&self) -> u16 {
        match self {
            Self::Request(e) => e.status(),
            Self::Guard(e) => e.status(),
            Self::Idempotency(e) => e.status(),
            Self::InsufficientBalanceForUpgrade(_)
            | Self::InsufficientBalance { .. }
            | Self::InvalidSignature(_)
            | Self::InvalidClerkPayload(_) => 400,
            Self::InvalidCredentials | Self::InvalidRefreshToken => 401,
            Self::UserNotFound(_)
            | Self::ClerkUserNotFound(_)
            | Self::FeeNotFound(_)
            | Self::HoldNotFound(_) => 404,
            Self::EmailTaken | Self::HoldReleased(_) | Self::HoldCaptured(_) => 409,
            Self::LedgerKeyReused(_) => 422,
            Self::TooManyAttempts { .. } => 429,
            Self::ClerkUnavailable(_) => 502,
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
            Self::TooManyAttempts { retry_after_secs } => {
                vec![("retry-after".into(), retry_after_secs.to_string())]
            }
            Self::Guard(e) => e.headers(),
            _ => Vec::new(),
        }
    }
}

impl From<spin_sdk::sqlite3::Error> for AuthError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        AuthError::Store(e.into())
    }
}

impl From<crate::domain::password::HashingError> for AuthError {
    fn from(e: crate::domain::password::HashingError) -> Self {
        AuthError::Misconfigured(e.to_string())
    }
}

impl From<ids::RandomUnavailable> for AuthError {
    fn from(e: ids::RandomUnavailable) -> Self {
        AuthError::Misconfigured(e.to_string())
    }
}
