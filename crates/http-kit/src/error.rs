//! The error body every route answers with — `{statusCode, message, error}` plus `errors[]`
//! for validation — and the trait that gives each domain error its status in one place.

use serde::Serialize;
use spin_sdk::http::Response;

/// One invalid input field, as listed under `errors` in a 400 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's JSON name (`price`, `imageUrls[3]`), or the query parameter.
    pub field: String,
    /// What is wrong, readable on its own (`price must be at least 0`).
    pub message: String,
}

impl FieldError {
    /// A field error with a message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A typed error that knows its HTTP status. `Display` is the client-facing message, except
/// for 5xx, whose details are logged and replaced by a generic message.
pub trait ApiError: std::error::Error {
    /// The HTTP status this error answers with.
    fn status(&self) -> u16;

    /// Per-field details for validation failures (400).
    fn field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Extra response headers (e.g. `Retry-After` on 429).
    fn headers(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// For a 5xx the client can act on (a 503 "try again shortly"): the message to send
    /// instead of the generic one. It must hold no internal detail; the cause chain is still
    /// only logged. `None` (the default) sends "Internal server error".
    fn public_message(&self) -> Option<String> {
        None
    }
}

/// The standard reason phrase for a status, as the original API used in `error`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    status_code: u16,
    message: &'a str,
    error: &'static str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// Renders an error as its response. 5xx details are written to stderr (the component log)
/// with their cause chain and never sent to the client.
pub fn error_response(err: &dyn ApiError) -> Response {
    let status = err.status();
    let message = if status >= 500 {
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        eprintln!("internal error: {chain}");
        err.public_message()
            .unwrap_or_else(|| "Internal server error".to_owned())
    } else {
        err.to_string()
    };
    let errors = err.field_errors();
    let body = ErrorBody {
        status_code: status,
        message: &message,
        error: reason_phrase(status),
        errors: &errors,
    };
    let mut response = crate::json(status, &body);
    for (name, value) in err.headers() {
        response.set_header(name, value);
    }
    response
}

/// Failures found before a handler's own logic runs: the request itself is unusable.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The body is not valid JSON of the expected shape.
    #[error("{message}")]
    InvalidBody {
        /// Summary for `message`.
        message: String,
        /// Per-field details.
        errors: Vec<FieldError>,
    },
    /// A query string parameter is unknown or has the wrong type.
    #[error("{message}")]
    InvalidQuery {
        /// Summary for `message`.
        message: String,
        /// Per-parameter details.
        errors: Vec<FieldError>,
    },
    /// The body exceeds [`crate::MAX_BODY_BYTES`].
    #[error("Request body must not exceed {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No route matches this method and path.
    #[error("Cannot {method} {path}")]
    NoRoute {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
}

impl ApiError for RequestError {
    fn status(&self) -> u16 {
        match self {
            Self::InvalidBody { .. } | Self::InvalidQuery { .. } => 400,
            Self::BodyTooLarge { .. } => 413,
            Self::NoRoute { .. } => 404,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::InvalidBody { errors, .. } | Self::InvalidQuery { errors, .. } => errors.clone(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("upstream said: secret detail")]
    struct Unavailable {
        public: bool,
    }

    impl ApiError for Unavailable {
        fn status(&self) -> u16 {
            503
        }
        fn public_message(&self) -> Option<String> {
            self.public.then(|| "Try again shortly".to_owned())
        }
    }

    fn message(err: &dyn ApiError) -> serde_json::Value {
        let response = error_response(err);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        body["message"].clone()
    }

    #[test]
    fn a_server_fault_never_shows_its_detail() {
        assert_eq!(
            message(&Unavailable { public: false }),
            "Internal server error"
        );
    }

    #[test]
    fn a_server_fault_may_show_its_public_message_instead() {
        assert_eq!(message(&Unavailable { public: true }), "Try again shortly");
    }
}
