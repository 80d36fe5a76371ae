//! Authentication and authorisation failures, with their statuses.

use http_kit::ApiError;

/// Why a request is not allowed through.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// No `Authorization: Bearer` header on a protected route.
    #[error("Missing bearer token")]
    MissingToken,
    /// A token that is malformed, expired, wrongly signed or otherwise unacceptable. The
    /// reason is logged, not sent: it would help an attacker more than a user.
    #[error("Invalid or expired token")]
    InvalidToken(String),
    /// A valid token for a user that no longer exists (deleted account).
    #[error("User no longer exists")]
    UnknownUser,
    /// Authenticated, but the role does not allow this.
    #[error("Forbidden resource")]
    Forbidden,
    /// The guard cannot run: a variable is missing or malformed.
    #[error("authentication is misconfigured: {0}")]
    Misconfigured(String),
    /// The auth component could not be reached to provision a new Clerk user.
    #[error("The identity service is unavailable, please retry")]
    IdentityUnavailable(String),
}

impl ApiError for GuardError {
    fn status(&self) -> u16 {
        match self {
            Self::MissingToken | Self::InvalidToken(_) | Self::UnknownUser => 401,
            Self::Forbidden => 403,
            Self::Misconfigured(_) => 500,
            Self::IdentityUnavailable(_) => 503,
        }
    }
}
