//! The component's settings, from its Spin variables (see `spin.toml` and the README).

use spin_sdk::variables;
use std::time::Duration;

fn get(name: &str) -> String {
    variables::get(name)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// The storefront's base URL (the first of `frontend_base_url`'s origins): order links in
/// emails.
pub fn frontend_base_url() -> String {
    get("frontend_base_url")
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// The email API (`email_api_base`, no trailing slash); `None` when unset: emails are logged.
pub fn email_api() -> Option<(String, String)> {
    let base = get("email_api_base").trim_end_matches('/').to_owned();
    (!base.is_empty()).then(|| (base, get("email_api_key")))
}

/// The sender of every email (`email_from`).
pub fn email_from() -> String {
    get("email_from")
}

/// Stripe's API base (no trailing slash) and secret key, for refunds.
pub fn stripe_api() -> (String, String) {
    (
        get("stripe_api_base").trim_end_matches('/').to_owned(),
        get("stripe_secret_key"),
    )
}

/// How long one outbound call (Stripe, the email API) may wait at each stage.
pub fn outbound_timeout() -> Duration {
    let secs = get("stripe_timeout_secs")
        .parse::<u64>()
        .unwrap_or(20)
        .max(1);
    // A saga handler must stay short (Spin handles one message at a time per connection).
    Duration::from_secs(secs.min(5))
}

/// How long a handler owns a saga before another may take it over (`saga_lease_secs`,
/// default 15): longer than one handler runs, short enough that a crashed one's saga resumes
/// at the next re-drive.
pub fn lease() -> Duration {
    Duration::from_secs(get("saga_lease_secs").parse::<u64>().unwrap_or(15).max(1))
}
