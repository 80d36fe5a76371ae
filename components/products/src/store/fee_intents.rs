//! `fee_intents`: every listing fee is recorded here before auth is asked to charge it, so a
//! charge is never made that this database does not know about — whatever crashes or fails
//! next, the row says which fee may have to be given back (`fees.rs` has the protocol).

use super::{int, text, transaction};
use crate::errors::StoreError;
use money::Money;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// How many owed refunds one reconciliation takes on (the rest wait for the next).
const BATCH: i64 = 10;

/// Records that the fee under `key` is about to be charged.
pub fn record(
    db: &Connection,
    key: &str,
    user_id: &str,
    amount: Money,
    now: Timestamp,
) -> Result<(), StoreError> {
    put(db, key, user_id, amount, "pending", now)
}

/// Settles a pending fee inside the transaction of the write it paid for; `false` when the
/// intent is no longer pending (a reconciliation gave the fee back meanwhile), and the write
/// must not commit.
pub fn settle(db: &Connection, key: &str) -> Result<bool, StoreError> {
    db.execute(
        "DELETE FROM fee_intents WHERE key = ? AND state = 'pending'",
        &[text(key)],
    )?;
    Ok(db.changes() == 1)
}

/// Marks the fee under `key` as owed back (recreating the row if a reconciliation already
/// refunded and removed it: the refund is idempotent, recording it twice costs nothing).
pub fn owe_back(
    db: &Connection,
    key: &str,
    user_id: &str,
    amount: Money,
    now: Timestamp,
) -> Result<(), StoreError> {
    put(db, key, user_id, amount, "refund_due", now)
}

/// Writes the intent under `key` in `state`, whether or not a row exists.
fn put(
    db: &Connection,
    key: &str,
    user_id: &str,
    amount: Money,
    state: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO fee_intents (key, user_id, amount, state, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET state = excluded.state",
        &[
            text(key),
            text(user_id),
            int(amount.cents()),
            text(state),
            int(now.millis()),
        ],
    )?;
    Ok(())
}

/// Forgets the fee under `key`: refunded, or never charged.
pub fn forget(db: &Connection, key: &str) -> Result<(), StoreError> {
    db.execute("DELETE FROM fee_intents WHERE key = ?", &[text(key)])?;
    Ok(())
}

/// The keys of fees to give back, oldest first: those already owed back, and pending ones
/// recorded before `abandoned_before` (their request died or gave up: a live one settles
/// long before), which are switched to owed back in the same transaction so that their
/// request, should it still be alive, can no longer settle them.
pub fn due(db: &Connection, abandoned_before: Timestamp) -> Result<Vec<String>, StoreError> {
    transaction(db, |db| {
        db.execute(
            "UPDATE fee_intents SET state = 'refund_due'
             WHERE state = 'pending' AND created_at < ?",
            &[int(abandoned_before.millis())],
        )?;
        let result = db.execute(
            "SELECT key FROM fee_intents WHERE state = 'refund_due'
             ORDER BY created_at LIMIT ?",
            &[int(BATCH)],
        )?;
        Ok(result
            .rows()
            .filter_map(|row| row.get::<&str>("key").map(str::to_owned))
            .collect())
    })
}
