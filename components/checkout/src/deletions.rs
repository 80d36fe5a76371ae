//! The re-drive of account deletions, which live in auth's database: checkout's re-drive (the
//! one route a scheduler calls) asks auth's private endpoint by service chaining to send every
//! deletion still pending after the quiet period again.

use crate::errors::CheckoutError;
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use timestamp::Timestamp;

const REDRIVE_URL: &str = "http://auth.spin.internal/internal/v1/account-deletions/redrive";

#[derive(Deserialize)]
struct Redriven {
    republished: u64,
}

/// Has auth send `account.deleted` again for every deletion still pending that was requested
/// before `requested_before`; answers how many.
pub async fn redrive(requested_before: Timestamp) -> Result<u64, CheckoutError> {
    let unavailable = |what: String| CheckoutError::Unavailable(what);
    let body = json!({ "requestedBefore": requested_before.millis() }).to_string();
    let request = Request::builder()
        .method(Method::Post)
        .uri(REDRIVE_URL)
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    if *response.status() != 200 {
        return Err(unavailable(format!(
            "auth answered {} to the deletions re-drive",
            response.status()
        )));
    }
    let redriven: Redriven =
        serde_json::from_slice(response.body()).map_err(|e| unavailable(e.to_string()))?;
    Ok(redriven.republished)
}
