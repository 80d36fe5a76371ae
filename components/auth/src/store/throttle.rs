//! Failed sign-in attempts per email and client address.

use super::{int, text};
use crate::domain::throttle::{MAX_FAILURES, ThrottleKey, window_start};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The pair's failures still inside the window, newest first (at most as many as matter).
pub fn recent_failures(
    db: &Connection,
    key: &ThrottleKey,
    now: Timestamp,
) -> Result<Vec<Timestamp>, StoreError> {
    let result = db.execute(
        "SELECT failed_at FROM sign_in_failures
         WHERE email = ? AND client = ? AND failed_at > ?
         ORDER BY failed_at DESC LIMIT ?",
        &[
            text(&key.email),
            text(&key.client),
            int(window_start(now).millis()),
            int(MAX_FAILURES as i64),
        ],
    )?;
    Ok(result
        .rows
        .iter()
        .filter_map(|r| r.get::<i64>(0))
        .map(Timestamp::from_millis)
        .collect())
}

/// Records a failure, and forgets this pair's failures that left the window.
pub fn record_failure(
    db: &Connection,
    key: &ThrottleKey,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO sign_in_failures (email, client, failed_at) VALUES (?, ?, ?)",
        &[text(&key.email), text(&key.client), int(now.millis())],
    )?;
    db.execute(
        "DELETE FROM sign_in_failures WHERE email = ? AND client = ? AND failed_at <= ?",
        &[
            text(&key.email),
            text(&key.client),
            int(window_start(now).millis()),
        ],
    )?;
    Ok(())
}

/// A successful sign-in clears the pair's failures.
pub fn clear(db: &Connection, key: &ThrottleKey) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM sign_in_failures WHERE email = ? AND client = ?",
        &[text(&key.email), text(&key.client)],
    )?;
    Ok(())
}
