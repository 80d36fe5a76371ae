//! Stripe's answers to our calls: the session a create returns (2xx) and the error body of a
//! refused call (4xx/5xx). Lenient about fields not read, strict about those that are.

use crate::event::PaymentStatus;
use serde::Deserialize;
use std::fmt;

/// The fields checkout keeps from `POST /v1/checkout/sessions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSession {
    /// Stripe's session id (`cs_...`): the `sessionId` the API shows.
    pub id: String,
    /// The hosted payment page: the `stripeSessionUrl` the storefront navigates to.
    pub url: String,
    /// When Stripe will expire it (Unix seconds), as Stripe recorded it.
    pub expires_at: i64,
    /// `unpaid` for a new session.
    pub payment_status: PaymentStatus,
}

/// Stripe's answer is not what the call returns. Checkout treats it like Stripe failing (502).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected answer from Stripe: {0}")]
pub struct ResponseError(String);

/// Reads a create answer. A session without a `url` (Stripe sends `null` for embedded
/// sessions and ones no longer open) is an error: checkout has nowhere to send the buyer.
pub fn parse_created_session(body: &[u8]) -> Result<CreatedSession, ResponseError> {
    #[derive(Deserialize)]
    struct Wire {
        id: String,
        url: Option<String>,
        expires_at: i64,
        payment_status: PaymentStatus,
    }
    let wire: Wire = serde_json::from_slice(body)
        .map_err(|e| ResponseError(format!("not a checkout session: {e}")))?;
    let url = wire
        .url
        .filter(|url| !url.is_empty())
        .ok_or_else(|| ResponseError(format!("session {} has no url", wire.id)))?;
    Ok(CreatedSession {
        id: wire.id,
        url,
        expires_at: wire.expires_at,
        payment_status: wire.payment_status,
    })
}

/// Stripe's error `type`: which side is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorType {
    /// `api_error`: Stripe's own trouble; retrying with the same idempotency key is safe.
    ApiError,
    /// `card_error`: the buyer's card was declined.
    CardError,
    /// `idempotency_error`: the key was reused with other parameters.
    IdempotencyError,
    /// `invalid_request_error`: our request is wrong (or the object is in the wrong state).
    InvalidRequestError,
    /// A type Stripe added later, as Stripe names it.
    Other(String),
}

impl ErrorType {
    fn from_wire(name: String) -> ErrorType {
        match name.as_str() {
            "api_error" => ErrorType::ApiError,
            "card_error" => ErrorType::CardError,
            "idempotency_error" => ErrorType::IdempotencyError,
            "invalid_request_error" => ErrorType::InvalidRequestError,
            _ => ErrorType::Other(name),
        }
    }

    /// Stripe's name for this type.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorType::ApiError => "api_error",
            ErrorType::CardError => "card_error",
            ErrorType::IdempotencyError => "idempotency_error",
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::Other(name) => name,
        }
    }
}

/// The body of a refused Stripe call (`{"error": {"type", "code", "message", ...}}`), for the
/// log line and the decision to retry. Never shown to the buyer as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ErrorBody {
    /// `type`, the one field Stripe always sends.
    pub error_type: ErrorType,
    /// `code` (`resource_missing`, `parameter_invalid_integer`, ...), when Stripe gives one.
    pub code: Option<String>,
    /// `message`, a sentence for developers.
    pub message: Option<String>,
    /// `param`, the request parameter at fault.
    pub param: Option<String>,
}

impl fmt::Display for ErrorBody {
    /// `Stripe invalid_request_error (resource_missing, param session): No such ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stripe {}", self.error_type.as_str())?;
        match (&self.code, &self.param) {
            (Some(code), Some(param)) => write!(f, " ({code}, param {param})")?,
            (Some(code), None) => write!(f, " ({code})")?,
            (None, Some(param)) => write!(f, " (param {param})")?,
            (None, None) => {}
        }
        match &self.message {
            Some(message) => write!(f, ": {message}"),
            None => Ok(()),
        }
    }
}

/// Reads the body of a 4xx/5xx answer. Anything else (a proxy's HTML page, say) is an error,
/// and the caller logs the status instead.
pub fn parse_error(body: &[u8]) -> Result<ErrorBody, ResponseError> {
    #[derive(Deserialize)]
    struct Wire {
        error: WireError,
    }
    #[derive(Deserialize)]
    struct WireError {
        #[serde(rename = "type")]
        error_type: String,
        code: Option<String>,
        message: Option<String>,
        param: Option<String>,
    }
    let wire: Wire = serde_json::from_slice(body)
        .map_err(|e| ResponseError(format!("not a Stripe error body: {e}")))?;
    Ok(ErrorBody {
        error_type: ErrorType::from_wire(wire.error.error_type),
        code: wire.error.code,
        message: wire.error.message,
        param: wire.error.param,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: &str = include_str!("../testdata/checkout.session.created-response.json");
    const MISSING: &str = include_str!("../testdata/error.resource_missing.json");

    #[test]
    fn a_created_session_gives_its_id_url_and_expiry() {
        assert_eq!(
            parse_created_session(CREATED.as_bytes()),
            Ok(CreatedSession {
                id: "cs_test_a1nYqL0vXeQ2mW7oB3fK9sJ4dG6hR8tU5yI1pZ2xC3vB4nM5".into(),
                url: "https://checkout.stripe.com/c/pay/cs_test_a1nYqL0vXeQ2mW7oB3fK9sJ4dG6hR8tU5yI1pZ2xC3vB4nM5#fidkdWxOYHwnPyd1blpxYHZxWjA0".into(),
                expires_at: 1725013060,
                payment_status: PaymentStatus::Unpaid,
            })
        );
    }

    #[test]
    fn a_created_session_without_a_url_is_an_error() {
        let mut session: serde_json::Value = serde_json::from_str(CREATED).unwrap();
        session["url"] = serde_json::Value::Null;
        let err = parse_created_session(&serde_json::to_vec(&session).unwrap()).unwrap_err();
        assert!(err.to_string().contains("has no url"), "{err}");
    }

    #[test]
    fn an_answer_that_is_not_a_session_is_an_error() {
        assert!(parse_created_session(MISSING.as_bytes()).is_err());
        assert!(parse_created_session(b"<html>502</html>").is_err());
    }

    #[test]
    fn an_error_body_gives_type_code_param_and_message() {
        let error = parse_error(MISSING.as_bytes()).unwrap();
        assert_eq!(
            error,
            ErrorBody {
                error_type: ErrorType::InvalidRequestError,
                code: Some("resource_missing".into()),
                message: Some("No such checkout.session: 'cs_test_missing'".into()),
                param: Some("session".into()),
            }
        );
        assert_eq!(
            error.to_string(),
            "Stripe invalid_request_error (resource_missing, param session): \
             No such checkout.session: 'cs_test_missing'"
        );
    }

    #[test]
    fn an_error_with_only_a_type_reads_and_new_types_keep_their_name() {
        let error = parse_error(br#"{"error":{"type":"api_error"}}"#).unwrap();
        assert_eq!(error.error_type, ErrorType::ApiError);
        assert_eq!(error.to_string(), "Stripe api_error");
        let error =
            parse_error(br#"{"error":{"type":"temporary_error","message":"Try again"}}"#).unwrap();
        assert_eq!(error.error_type, ErrorType::Other("temporary_error".into()));
        assert_eq!(error.to_string(), "Stripe temporary_error: Try again");
    }

    #[test]
    fn a_body_that_is_not_a_stripe_error_is_an_error() {
        assert!(parse_error(b"<html>Bad gateway</html>").is_err());
        assert!(parse_error(br#"{"message":"no"}"#).is_err());
    }
}
