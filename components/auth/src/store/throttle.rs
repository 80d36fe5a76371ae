//! Sign-in attempts per email and client address. An attempt is recorded before its password
//! is checked (and cleared if it succeeds), so parallel attempts count against each other.

use super::{int, text};
use crate::domain::throttle::{self, MAX_FAILURES, ThrottleKey, window_start};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// Takes one of the pair's attempts in the window, or answers `Err(seconds)` until the next one
/// frees up. In one `BEGIN IMMEDIATE` transaction, so of N parallel attempts at most
/// [`MAX_FAILURES`] get here first and the rest see them: the password checks (~35 ms each)
/// run only for those. Also forgets every pair's attempts that left the window (one indexed
/// delete), so the table holds at most the last 15 minutes of traffic.
pub fn take_attempt(
    db: &Connection,
    key: &ThrottleKey,
    now: Timestamp,
) -> Result<Result<(), u64>, StoreError> {
    super::transaction(db, |db| {
        db.execute(
            "DELETE FROM sign_in_failures WHERE failed_at <= ?",
            &[int(window_start(now).millis())],
        )?;
        let recent = recent_attempts(db, key, now)?;
        if let Err(retry_after_secs) = throttle::check(&recent, now) {
            return Ok(Err(retry_after_secs));
        }
        db.execute(
            "INSERT INTO sign_in_failures (email, client, failed_at) VALUES (?, ?, ?)",
            &[text(&key.email), text(&key.client), int(now.millis())],
        )?;
        Ok(Ok(()))
    })
}

/// The pair's attempts still inside the window, newest first (at most as many as matter).
fn recent_attempts(
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

/// A successful sign-in clears the pair's attempts.
pub fn clear(db: &Connection, key: &ThrottleKey) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM sign_in_failures WHERE email = ? AND client = ?",
        &[text(&key.email), text(&key.client)],
    )?;
    Ok(())
}
