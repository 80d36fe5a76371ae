//! `POST /api/v1/checkout/redrive`: what a scheduler calls (a Kubernetes CronJob, a cron on
//! the host) so that nothing paid is lost to a dropped Redis message or a crash: paid checkouts
//! whose order has not settled after the quiet period get their saga start again, holds that
//! failed to be given back are given back, every pending outbox row is published, and auth
//! sends the account deletions still pending after the quiet period again (`deletions.rs`).
//! Idempotent: the saga is idempotent per checkout id, releases per key, a deletion per user.

use super::{give_back, quiet_millis, redrive_one};
use crate::errors::CheckoutError;
use crate::{config, deletions, store};
use http_kit::json;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use timestamp::Timestamp;

/// How many checkouts one call takes on per kind (the rest go with the next call).
const BATCH: i64 = 100;

/// Constant-time equality, so the secret cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(req: &Request, secret: &str) -> bool {
    let presented = req
        .header("authorization")
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    same(presented.trim().as_bytes(), secret.as_bytes())
}

/// POST /api/v1/checkout/redrive — `Authorization: Bearer <redrive_secret>`; 200
/// `{republished, released, published, pending, deletions}` (`deletions`: how many pending
/// account deletions auth sent again; `null` when auth could not be asked, logged, and the
/// next call asks again).
pub async fn redrive(req: Request) -> Result<Response, CheckoutError> {
    let secret = config::redrive_secret()?;
    if !authorized(&req, &secret) {
        return Err(CheckoutError::RedriveUnauthorized);
    }
    let db = store::open()?;
    let now = Timestamp::now();
    let quiet_before = Timestamp::from_millis(now.millis() - quiet_millis());
    let mut republished = 0;
    for checkout in store::paid_before(&db, quiet_before, BATCH)? {
        if redrive_one(&db, &checkout, now)? {
            republished += 1;
        }
    }
    let unreleased = store::unreleased(&db, BATCH)?;
    for checkout in &unreleased {
        give_back(&db, &checkout.id).await;
    }
    let relayed = outbox::relay(&db);
    let deletions = match deletions::redrive(quiet_before).await {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("checkout: account deletions not re-driven (the next call asks again): {e}");
            None
        }
    };
    Ok(json(
        200,
        &json!({
            "republished": republished,
            "released": unreleased.len(),
            "published": relayed.published,
            "pending": relayed.pending,
            "deletions": deletions,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn only_the_same_bytes_are_the_same() {
        assert!(same(b"secret-secret-123", b"secret-secret-123"));
        assert!(!same(b"secret-secret-123", b"secret-secret-124"));
        assert!(!same(b"secret", b"secret-secret-123"));
        assert!(!same(b"", b"x"));
    }
}
