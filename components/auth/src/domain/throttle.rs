//! Sign-in throttling: after 5 failed attempts for one email from one client address within
//! 15 minutes, every attempt for that pair is refused (even with the right password) until
//! the oldest of those failures leaves the window.

use sha2::{Digest as _, Sha256};
use timestamp::Timestamp;

/// Failures allowed per pair within the window.
pub const MAX_FAILURES: usize = 5;
/// The sliding window (15 minutes).
pub const WINDOW_MILLIS: i64 = 15 * 60 * 1000;

/// Who is being throttled: an email (as typed, trimmed and lower-cased) from one client
/// address. The email is kept as its SHA-256 in hex, 64 characters whatever an anonymous
/// caller typed (up to the 1 MiB body limit), so each stored attempt has a bounded size and no
/// typed address is kept in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKey {
    pub email: String,
    pub client: String,
}

/// Longer than any IPv6 address with a zone: the host sets it, but it is stored per attempt.
const MAX_CLIENT_CHARS: usize = 64;

impl ThrottleKey {
    /// The pair for a sign-in attempt. `client_ip` is absent for chained calls.
    pub fn new(email: &str, client_ip: Option<&str>) -> Self {
        let email = Sha256::digest(email.trim().to_lowercase().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let client = client_ip
            .unwrap_or("unknown")
            .chars()
            .take(MAX_CLIENT_CHARS);
        Self {
            email,
            client: client.collect(),
        }
    }
}

/// The earliest failure that still counts at `now`.
pub fn window_start(now: Timestamp) -> Timestamp {
    now.plus_millis(-WINDOW_MILLIS)
}

/// Whether the pair may attempt a sign-in, given its failures inside the window, newest first.
/// `Err(seconds)` says how long until it may (for `Retry-After`).
pub fn check(failures_newest_first: &[Timestamp], now: Timestamp) -> Result<(), u64> {
    match failures_newest_first.get(MAX_FAILURES - 1) {
        // The lock lifts when fewer than MAX_FAILURES remain: when the MAX_FAILURES-th newest
        // failure leaves the window.
        Some(oldest_counted) => {
            let lifts_at = oldest_counted.plus_millis(WINDOW_MILLIS);
            let millis = (lifts_at.millis() - now.millis()).max(1);
            Err(u64::try_from((millis + 999) / 1000).unwrap_or(1))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_millis(secs * 1000)
    }

    #[test]
    fn four_failures_still_allow_an_attempt() {
        let failures = [at(40), at(30), at(20), at(10)];
        assert_eq!(check(&failures, at(50)), Ok(()));
    }

    #[test]
    fn the_fifth_failure_locks_until_the_oldest_leaves_the_window() {
        let failures = [at(50), at(40), at(30), at(20), at(10)];
        assert_eq!(check(&failures, at(60)), Err(15 * 60 + 10 - 60));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let failures = [at(5), at(4), at(3), at(2), at(1)];
        let now = Timestamp::from_millis(1000 + WINDOW_MILLIS - 1);
        assert_eq!(check(&failures, now), Err(1));
    }

    #[test]
    fn the_key_ignores_email_case_and_names_missing_clients() {
        let key = ThrottleKey::new(" A@B.io ", None);
        assert_eq!(key, ThrottleKey::new("a@b.io", Some("unknown")));
        assert_ne!(key, ThrottleKey::new("a@b.io", Some("10.0.0.1")));
        assert_ne!(key.email, ThrottleKey::new("c@b.io", None).email);
    }

    #[test]
    fn a_key_has_a_bounded_size_whatever_was_typed() {
        let key = ThrottleKey::new(&"x".repeat(1 << 20), Some(&"1".repeat(1000)));
        assert_eq!(key.email.len(), 64);
        assert_eq!(key.client.len(), MAX_CLIENT_CHARS);
    }
}
