//! Account deletion across the domains (api-contract §7). Auth marks the user deleted and, in
//! the same transaction, records the request in `account_deletions` (`pending`) and the
//! `account.deleted` event in its outbox:
//!
//! ```json
//! {"type": "account.deleted", "id": "<event id>", "userId": "<user id>",
//!  "occurredAt": "2026-05-01T12:00:00.000Z"}
//! ```
//!
//! The events component clears carts and removes products, then completes the deletion
//! through `reen:identity` (`complete`). A pending deletion whose message was lost gets a
//! fresh event from the re-drive (`republish_pending`).

use super::{int, text};
use crate::domain::user::User;
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The event's type on the events channel.
pub const ACCOUNT_DELETED: &str = "account.deleted";

/// Where a deletion was asked for.
#[derive(Debug, Clone, Copy)]
pub enum DeletionSource {
    /// `DELETE /auth/users/me`.
    User,
    /// Clerk's `user.deleted` webhook.
    Clerk,
}

impl DeletionSource {
    fn as_str(self) -> &'static str {
        match self {
            DeletionSource::User => "user",
            DeletionSource::Clerk => "clerk",
        }
    }
}

/// Records the request and its `account.deleted` event (inside the transaction that marks the
/// user deleted). A user already recorded is left as is, with no second event.
pub fn request(
    db: &Connection,
    user_id: &str,
    source: DeletionSource,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO account_deletions (user_id, source, requested_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO NOTHING",
        &[text(user_id), text(source.as_str()), int(now.millis())],
    )?;
    if db.changes() == 1 {
        record_event(db, user_id, now)?;
    }
    Ok(())
}

fn record_event(db: &Connection, user_id: &str, now: Timestamp) -> Result<(), StoreError> {
    outbox::record(db, ACCOUNT_DELETED, &[("userId", user_id.into())], now)?;
    Ok(())
}

/// Gives every deletion still pending that was requested before `before` a fresh
/// `account.deleted` event, oldest first, at most `limit` (call inside a transaction; the
/// relay publishes them after the commit). Returns their user ids. Completing a deletion is
/// idempotent, so one still being handled may be sent again harmlessly.
pub fn republish_pending(
    db: &Connection,
    before: Timestamp,
    limit: i64,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let result = db.execute(
        "SELECT user_id FROM account_deletions
         WHERE status = 'pending' AND requested_at < ?
         ORDER BY requested_at, user_id LIMIT ?",
        &[int(before.millis()), int(limit)],
    )?;
    let pending: Vec<String> = result
        .rows()
        .filter_map(|row| row.get::<&str>("user_id").map(str::to_owned))
        .collect();
    for user_id in &pending {
        record_event(db, user_id, now)?;
    }
    Ok(pending)
}

/// What [`complete`] found.
#[derive(Debug)]
pub enum Completion {
    /// Completed now: the user as they were before their personal data was erased.
    Now(User),
    /// Completed earlier; nothing changed.
    Before,
    /// No deletion of this id was requested; nothing changed.
    NotRequested,
}

/// Completes a pending deletion in one transaction: the user's row stays as a tombstone (its
/// id is what orders, the ledger and balance holds refer to, and its Clerk id must never be
/// provisioned again) with their name, email and password erased, their refresh sessions
/// are deleted, and the deletion is recorded `completed` with its time.
pub fn complete(db: &Connection, user_id: &str, now: Timestamp) -> Result<Completion, StoreError> {
    super::transaction(db, |db| {
        let result = db.execute(
            "SELECT status FROM account_deletions WHERE user_id = ?",
            &[text(user_id)],
        )?;
        let status = result
            .rows()
            .next()
            .and_then(|row| row.get::<&str>("status").map(str::to_owned));
        match status.as_deref() {
            None => return Ok(Completion::NotRequested),
            Some("pending") => {}
            Some(_) => return Ok(Completion::Before),
        }
        let user = super::users::erase_deleted(db, user_id, now)?.ok_or_else(|| {
            StoreError(format!("deletion of {user_id} pending but no deleted user"))
        })?;
        super::sessions::forget_all(db, user_id)?;
        db.execute(
            "UPDATE account_deletions SET status = 'completed', completed_at = ?
             WHERE user_id = ? AND status = 'pending'",
            &[int(now.millis()), text(user_id)],
        )?;
        Ok(Completion::Now(user))
    })
}
