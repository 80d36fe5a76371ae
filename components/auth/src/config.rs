//! The component's settings, from its Spin variables (see `spin.toml` and the README).

use crate::domain::svix::WebhookSecret;
use crate::errors::AuthError;
use spin_sdk::variables;

fn get(name: &str) -> Result<String, AuthError> {
    variables::get(name).map_err(|e| AuthError::Misconfigured(format!("variable {name}: {e}")))
}

/// Whether the refresh cookie carries `Secure` (`cookie_secure`; only `false` turns it off,
/// for local http).
pub fn cookie_secure() -> bool {
    !matches!(
        variables::get("cookie_secure").as_deref().map(str::trim),
        Ok("false")
    )
}

/// The HS256 key our access tokens are signed with.
pub fn jwt_secret() -> Result<String, AuthError> {
    get("jwt_secret")
}

/// Where the Clerk Backend API lives, and the key to call it with.
pub fn clerk_api() -> Result<(String, String), AuthError> {
    let base = get("clerk_api_base")?
        .trim()
        .trim_end_matches('/')
        .to_owned();
    Ok((base, get("clerk_secret_key")?))
}

/// The Svix signing secret of Clerk's webhooks.
pub fn clerk_webhook_secret() -> Result<WebhookSecret, AuthError> {
    WebhookSecret::parse(&get("clerk_webhook_secret")?)
        .map_err(|e| AuthError::Misconfigured(e.to_string()))
}

/// The load balancers in front of the app (`trusted_proxies`: addresses or CIDRs,
/// comma-separated; empty by default), whose `X-Forwarded-For` names the client.
pub fn trusted_proxies() -> Result<http_kit::TrustedProxies, AuthError> {
    http_kit::TrustedProxies::parse(&variables::get("trusted_proxies").unwrap_or_default())
        .map_err(AuthError::Misconfigured)
}
