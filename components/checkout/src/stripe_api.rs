//! Calls to Stripe's API (`stripe_api_base`, the component's only outbound host besides
//! auth and Redis): the request shapes come from the `stripe` crate, this module sends them.

use crate::config;
use crate::errors::CheckoutError;
use spin_sdk::http::{Method, Request, Response};
use stripe::{CreatedSession, FormRequest, NewSession};

async fn send(call: &FormRequest) -> Result<Response, CheckoutError> {
    let (base, key) = config::stripe_api()?;
    let mut builder = Request::builder();
    builder
        .method(Method::Post)
        .uri(format!("{base}{}", call.path))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", stripe::FORM_CONTENT_TYPE);
    if let Some(idempotency_key) = &call.idempotency_key {
        builder.header("idempotency-key", idempotency_key.as_str());
    }
    let request = builder.body(call.body().into_bytes()).build();
    spin_sdk::http::send(request)
        .await
        .map_err(|e| CheckoutError::Stripe(format!("{} unreachable: {e:?}", call.path)))
}

fn refused(call: &FormRequest, response: &Response) -> CheckoutError {
    let detail = match stripe::parse_error(response.body()) {
        Ok(error) => error.to_string(),
        Err(_) => String::from_utf8_lossy(response.body())
            .chars()
            .take(200)
            .collect(),
    };
    CheckoutError::Stripe(format!(
        "{} answered {}: {detail}",
        call.path,
        response.status()
    ))
}

/// Creates the Checkout Session (our checkout id as `Idempotency-Key`).
pub async fn create_session(session: &NewSession) -> Result<CreatedSession, CheckoutError> {
    let call = stripe::create_session(session)
        .map_err(|e| CheckoutError::Stripe(format!("building the session: {e}")))?;
    let response = send(&call).await?;
    if !(200..300).contains(response.status()) {
        return Err(refused(&call, &response));
    }
    stripe::parse_created_session(response.body()).map_err(|e| CheckoutError::Stripe(e.to_string()))
}

/// Expires a session that was replaced: it can no longer be paid. A session Stripe no longer
/// has open (400) is as good as expired.
pub async fn expire_session(session_id: &str) -> Result<(), CheckoutError> {
    let call = stripe::expire_session(session_id);
    let response = send(&call).await?;
    match *response.status() {
        200..=299 | 400 => Ok(()),
        _ => Err(refused(&call, &response)),
    }
}
