//! Calls to Stripe's API (`stripe_api_base`, the component's only outbound host besides
//! auth and Redis): the request shapes come from the `stripe` crate, this module sends them.

use crate::config;
use crate::errors::CheckoutError;
use http_kit::outbound::{self, Outbound, Reply};
use stripe::{CreatedSession, FormRequest, NewSession};

/// Sends a Stripe call, waiting at most `stripe_timeout_secs` for each stage (a stalled Stripe
/// must not hold the buyer's request open: the checkout fails, and a session Stripe made
/// meanwhile is still matched to it by our checkout id when it is paid).
fn send(call: &FormRequest) -> Result<Reply, CheckoutError> {
    let (base, key) = config::stripe_api()?;
    let url = format!("{base}{}", call.path);
    let authorization = format!("Bearer {key}");
    let mut headers = vec![
        ("authorization", authorization.as_str()),
        ("content-type", stripe::FORM_CONTENT_TYPE),
    ];
    if let Some(idempotency_key) = &call.idempotency_key {
        headers.push(("idempotency-key", idempotency_key.as_str()));
    }
    let body = call.body();
    let request = Outbound {
        method: "POST",
        url: &url,
        headers: &headers,
        body: body.as_bytes(),
    };
    outbound::send(&request, config::stripe_timeout())
        .map_err(|e| CheckoutError::Stripe(format!("{} unreachable: {e}", call.path)))
}

fn refused(call: &FormRequest, response: &Reply) -> CheckoutError {
    let detail = match stripe::parse_error(&response.body) {
        Ok(error) => error.to_string(),
        Err(_) => String::from_utf8_lossy(&response.body)
            .chars()
            .take(200)
            .collect(),
    };
    CheckoutError::Stripe(format!(
        "{} answered {}: {detail}",
        call.path, response.status
    ))
}

/// Creates the Checkout Session (our checkout id as `Idempotency-Key`).
pub fn create_session(session: &NewSession) -> Result<CreatedSession, CheckoutError> {
    let call = stripe::create_session(session)
        .map_err(|e| CheckoutError::Stripe(format!("building the session: {e}")))?;
    let response = send(&call)?;
    if !(200..300).contains(&response.status) {
        return Err(refused(&call, &response));
    }
    stripe::parse_created_session(&response.body).map_err(|e| CheckoutError::Stripe(e.to_string()))
}

/// Expires a session that was replaced: it can no longer be paid. A session Stripe no longer
/// has open (400) is as good as expired.
pub fn expire_session(session_id: &str) -> Result<(), CheckoutError> {
    let call = stripe::expire_session(session_id);
    let response = send(&call)?;
    match response.status {
        200..=299 | 400 => Ok(()),
        _ => Err(refused(&call, &response)),
    }
}
