//! The re-drive of account deletions, reached only by service chaining (checkout's
//! `POST /api/v1/checkout/redrive`, which a scheduler calls, asks here): pub/sub delivers only
//! to whoever listens at that moment, so a deletion whose `account.deleted` was lost (Redis
//! down, the events trigger reconnecting, a handler that gave up) would stay pending forever.

use crate::errors::AuthError;
use crate::store::{self, deletions};
use http_kit::{json, parse_json};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use timestamp::Timestamp;

/// How many pending deletions one call sends again (the rest go with the next call).
const BATCH: i64 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RedriveBody {
    /// Unix ms: deletions requested before this (the caller's quiet period) are sent again.
    requested_before: i64,
}

/// POST /internal/v1/account-deletions/redrive `{requestedBefore}` — every deletion still
/// pending that was requested before then gets a fresh `account.deleted` event, and every
/// pending outbox row is published: 200 `{republished, published, pending}`. Idempotent in
/// effect: completing a deletion twice changes nothing.
pub async fn redrive(req: Request) -> Result<Response, AuthError> {
    let body: RedriveBody = parse_json(req.body())?;
    let db = store::open()?;
    let now = Timestamp::now();
    let before = Timestamp::from_millis(body.requested_before);
    let republished = store::transaction(&db, |db| {
        deletions::republish_pending(db, before, BATCH, now)
    })?;
    let relayed = outbox::relay(&db);
    Ok(json(
        200,
        &json!({
            "republished": republished.len(),
            "published": relayed.published,
            "pending": relayed.pending,
        }),
    ))
}
