//! The saga's two outside services, Stripe (refunds) and the email API, called with
//! host-enforced timeouts; their answers classified as the saga needs them.

use crate::config;
use crate::retry::StepError;
use http_kit::outbound::{self, Outbound, Reply};

/// A call's answer: 2xx is done; 429, 5xx and no answer are worth retrying; any other 4xx
/// will not change by retrying.
fn classify(what: &str, reply: Result<Reply, outbound::OutboundError>) -> Result<Reply, StepError> {
    match reply {
        Ok(reply) if (200..300).contains(&reply.status) => Ok(reply),
        Ok(reply) if reply.status == 429 || reply.status >= 500 => Err(StepError::Transient(
            format!("{what} answered {}", reply.status),
        )),
        Ok(reply) => Err(StepError::Permanent(format!(
            "{what} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
                .chars()
                .take(200)
                .collect::<String>()
        ))),
        Err(e) => Err(StepError::Transient(format!("{what}: {e}"))),
    }
}

/// Refunds the whole payment `payment_intent`, once per `key` (Stripe replays the first answer
/// to a repeated key).
pub fn refund(payment_intent: &str, key: &str) -> Result<(), StepError> {
    let (base, secret) = config::stripe_api();
    let call = stripe::refund(payment_intent, key);
    let url = format!("{base}{}", call.path);
    let authorization = format!("Bearer {secret}");
    let body = call.body();
    let headers = [
        ("authorization", authorization.as_str()),
        ("content-type", stripe::FORM_CONTENT_TYPE),
        ("idempotency-key", key),
    ];
    let request = Outbound {
        method: "POST",
        url: &url,
        headers: &headers,
        body: body.as_bytes(),
    };
    classify(
        "Stripe's refund",
        outbound::send(&request, config::outbound_timeout()),
    )
    .map(|_| ())
}

/// Posts one email to the email API (`POST {email_api_base}/emails`), once per `key`.
pub fn send_email(base: &str, api_key: &str, json: &[u8], key: &str) -> Result<(), StepError> {
    let url = format!("{base}/emails");
    let authorization = format!("Bearer {api_key}");
    let headers = [
        ("authorization", authorization.as_str()),
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    let request = Outbound {
        method: "POST",
        url: &url,
        headers: &headers,
        body: json,
    };
    classify(
        "the email API",
        outbound::send(&request, config::outbound_timeout()),
    )
    .map(|_| ())
}
