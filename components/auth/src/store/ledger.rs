//! Movements applied once per key (`ledger_entries`): the key, what was asked (fingerprint),
//! and the result to answer a repeat with.

use super::{int, text};
use crate::domain::ledger::{LedgerKey, Movement, balance_allows, fingerprint};
use crate::errors::StoreError;
use money::Money;
use spin_sdk::sqlite3::Connection;
use std::collections::HashMap;
use timestamp::Timestamp;

/// What applying movements under a key did.
#[derive(Debug)]
pub enum Applied<R> {
    /// Applied now; `R` is the stored result.
    Now(R),
    /// Applied before with the same movements: the result stored then.
    Before(R),
    /// The key was used with different movements.
    KeyReused,
    /// A balance would go negative: nothing applied (money never half-moves).
    InsufficientBalance { user_id: String },
    /// A movement names no live user: nothing applied.
    UnknownUser { user_id: String },
}

fn stored(
    db: &Connection,
    key: &LedgerKey,
) -> Result<Option<(String, String, Option<String>)>, StoreError> {
    let result = db.execute(
        "SELECT fingerprint, result, reversal_result FROM ledger_entries WHERE key = ?",
        &[text(key.as_str())],
    )?;
    Ok(result.rows().next().map(|r| {
        (
            r.get::<&str>("fingerprint").unwrap_or_default().to_owned(),
            r.get::<&str>("result").unwrap_or_default().to_owned(),
            r.get::<&str>("reversal_result").map(str::to_owned),
        )
    }))
}

fn decode<R: serde::de::DeserializeOwned>(json: &str) -> Result<R, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError(format!("ledger result: {e}")))
}

fn encode<R: serde::Serialize>(value: &R) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("ledger result: {e}")))
}

/// Applies `movements` under `key` once, all or nothing; `result` computes what to store and
/// answer from the database after the movements (e.g. the new balance).
pub fn apply<R: serde::Serialize + serde::de::DeserializeOwned>(
    db: &Connection,
    key: &LedgerKey,
    movements: &[Movement],
    now: Timestamp,
    result: impl FnOnce(&Connection) -> Result<R, StoreError>,
) -> Result<Applied<R>, StoreError> {
    let print = fingerprint(movements);
    super::transaction(db, |db| {
        if let Some((stored_print, stored_result, _)) = stored(db, key)? {
            return if stored_print == print {
                decode(&stored_result).map(Applied::Before)
            } else {
                Ok(Applied::KeyReused)
            };
        }
        // Check every movement before writing any, following each user's running balance
        // (a user may appear twice), so a refusal leaves nothing half-applied.
        let mut balances: HashMap<&str, Money> = HashMap::new();
        for movement in movements {
            let user = movement.user_id.as_str();
            let balance = match balances.get(user) {
                Some(balance) => *balance,
                None => match super::users::balance(db, user)? {
                    Some(balance) => balance,
                    None => {
                        return Ok(Applied::UnknownUser {
                            user_id: user.to_owned(),
                        });
                    }
                },
            };
            if !balance_allows(balance, movement) {
                return Ok(Applied::InsufficientBalance {
                    user_id: user.to_owned(),
                });
            }
            let after = balance
                .checked_add(movement.balance)
                .ok_or_else(|| StoreError("balance overflow".into()))?;
            balances.insert(user, after);
        }
        for movement in movements {
            super::users::add_movement(db, movement, now)?;
        }
        let value = result(db)?;
        db.execute(
            "INSERT INTO ledger_entries (key, fingerprint, movements, result, created_at)
             VALUES (?, ?, ?, ?, ?)",
            &[
                text(key.as_str()),
                text(&print),
                text(&print),
                text(&encode(&value)?),
                int(now.millis()),
            ],
        )?;
        Ok(Applied::Now(value))
    })
}

/// What reversing an entry did.
#[derive(Debug)]
pub enum Reversed<R> {
    Now(R),
    Before(R),
    NotFound,
}

/// The fingerprint of a voided key: no movements' fingerprint is ever this.
const VOID: &str = "void";

/// Undoes the movements stored under `key`, once (no balance check: money comes back). A key
/// never applied is voided: `NotFound` now and on every repeat, and a later [`apply`] under it
/// is `KeyReused`. So a compensation that overtakes its action (a refund sent while the charge
/// it gives back was still on its way, or lost with a crashed caller) blocks that action
/// instead of leaving it applied for good.
pub fn reverse<R: serde::Serialize + serde::de::DeserializeOwned>(
    db: &Connection,
    key: &LedgerKey,
    now: Timestamp,
    result: impl FnOnce(&Connection, &[Movement]) -> Result<R, StoreError>,
) -> Result<Reversed<R>, StoreError> {
    super::transaction(db, |db| {
        let Some((print, _, reversal)) = stored(db, key)? else {
            void(db, key, now)?;
            return Ok(Reversed::NotFound);
        };
        if print == VOID {
            return Ok(Reversed::NotFound);
        }
        if let Some(reversal) = reversal {
            return decode(&reversal).map(Reversed::Before);
        }
        let movements: Vec<Movement> = decode(&print)?;
        for movement in &movements {
            super::users::add_movement(db, &movement.reversed(), now)?;
        }
        let value = result(db, &movements)?;
        db.execute(
            "UPDATE ledger_entries SET reversed_at = ?, reversal_result = ? WHERE key = ?",
            &[
                int(now.millis()),
                text(&encode(&value)?),
                text(key.as_str()),
            ],
        )?;
        Ok(Reversed::Now(value))
    })
}

/// Records `key` as voided (see [`reverse`]).
fn void(db: &Connection, key: &LedgerKey, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO ledger_entries (key, fingerprint, movements, result, created_at, reversed_at)
         VALUES (?, ?, '[]', 'null', ?, ?)",
        &[
            text(key.as_str()),
            text(VOID),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    Ok(())
}
