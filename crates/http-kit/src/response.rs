//! Building responses.

use serde::Serialize;
use spin_sdk::http::Response;

/// A JSON response (`application/json; charset=utf-8`).
pub fn json(status: u16, body: &impl Serialize) -> Response {
    // Serializing our own plain data types cannot fail; fall back to `null` rather than trap.
    let body = serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec());
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .build()
}

/// A response without a body (204, 304).
pub fn empty(status: u16) -> Response {
    Response::builder().status(status).body(Vec::new()).build()
}
