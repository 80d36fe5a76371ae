//! The component's settings, from its Spin variables (see `spin.toml` and the README).

use crate::errors::CheckoutError;
use spin_sdk::variables;

fn get(name: &str) -> Result<String, CheckoutError> {
    variables::get(name)
        .map(|v| v.trim().to_owned())
        .map_err(|e| CheckoutError::Misconfigured(format!("variable {name}: {e}")))
}

/// The storefront Stripe sends the buyer back to (`frontend_base_url`, the CORS origins; the
/// first entry when it lists several).
pub fn frontend_base_url() -> Result<String, CheckoutError> {
    let origins = get("frontend_base_url")?;
    Ok(origins
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Stripe's API base (no trailing slash) and the secret key to call it with.
pub fn stripe_api() -> Result<(String, String), CheckoutError> {
    let base = get("stripe_api_base")?.trim_end_matches('/').to_owned();
    Ok((base, get("stripe_secret_key")?))
}

/// The signing secret of Stripe's webhook.
pub fn stripe_webhook_secret() -> Result<stripe::WebhookSecret, CheckoutError> {
    stripe::WebhookSecret::new(&get("stripe_webhook_secret")?)
        .map_err(|e| CheckoutError::Misconfigured(format!("stripe_webhook_secret: {e}")))
}

/// The bearer secret of the re-drive route.
pub fn redrive_secret() -> Result<String, CheckoutError> {
    let secret = get("redrive_secret")?;
    if secret.len() < 16 {
        return Err(CheckoutError::Misconfigured(
            "redrive_secret must be at least 16 characters".into(),
        ));
    }
    Ok(secret)
}

/// How long a Stripe call may wait to connect, for the answer to start and between its chunks
/// (`stripe_timeout_secs`, default 20; at least 1).
pub fn stripe_timeout() -> std::time::Duration {
    let secs = variables::get("stripe_timeout_secs")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(20)
        .max(1);
    std::time::Duration::from_secs(secs)
}
