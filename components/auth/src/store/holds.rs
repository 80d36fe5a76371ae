//! Balance holds (`balance_holds`): a row per checkout id, taken, released or captured in one
//! transaction with the money it moves. A voided key is a `released` row with no user and
//! amount 0.

use super::{int, text};
use crate::domain::holds::{
    self, Capture, Hold, HoldReceipt, HoldStatus, Release, Stored, Take, capture_movement,
    hold_movement,
};
use crate::domain::ledger::{LedgerKey, PositiveAmount, balance_allows};
use crate::errors::StoreError;
use money::Money;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

fn find(db: &Connection, key: &LedgerKey) -> Result<Option<Stored>, StoreError> {
    let result = db.execute(
        "SELECT user_id, amount, state FROM balance_holds WHERE key = ?",
        &[text(key.as_str())],
    )?;
    let Some(row) = result.rows().next() else {
        return Ok(None);
    };
    let Some(user_id) = row.get::<&str>("user_id") else {
        return Ok(Some(Stored::Void));
    };
    let bad = |what: &str| {
        StoreError(format!(
            "balance_holds row {} has a bad {what}",
            key.as_str()
        ))
    };
    let status = row
        .get::<&str>("state")
        .and_then(HoldStatus::parse)
        .ok_or_else(|| bad("state"))?;
    let amount = row.get::<i64>("amount").ok_or_else(|| bad("amount"))?;
    Ok(Some(Stored::Hold(Hold {
        key: key.as_str().to_owned(),
        user_id: user_id.to_owned(),
        amount: Money::from_cents(amount),
        status,
    })))
}

/// The receipt of `hold` with its user's balance now (0 for a user deleted since).
fn receipt(db: &Connection, hold: &Hold) -> Result<HoldReceipt, StoreError> {
    let balance = super::users::balance(db, &hold.user_id)?.unwrap_or_default();
    Ok(hold.receipt(balance))
}

/// What taking a hold did.
#[derive(Debug)]
pub enum Taken {
    /// Held now: the balance dropped by the amount.
    Now(HoldReceipt),
    /// The same hold was asked before: its state now, nothing moved.
    Before(HoldReceipt),
    /// The key holds another user's or another amount.
    KeyReused,
    /// The key was released (or voided) and stays so.
    Released,
    /// The balance does not cover the amount: nothing held, the key still free.
    InsufficientBalance { balance: Money },
    /// No live user has the id: nothing held.
    UnknownUser,
}

/// Holds `amount` on the user's balance under `key`, once (`BEGIN IMMEDIATE`: concurrent
/// holds of one user queue, so together they never exceed the balance).
pub fn take(
    db: &Connection,
    key: &LedgerKey,
    user_id: &str,
    amount: PositiveAmount,
    now: Timestamp,
) -> Result<Taken, StoreError> {
    super::transaction(db, |db| {
        let stored = find(db, key)?;
        match holds::take(stored.as_ref(), user_id, amount) {
            Take::Repeat(hold) => return receipt(db, &hold).map(Taken::Before),
            Take::KeyReused => return Ok(Taken::KeyReused),
            Take::Released => return Ok(Taken::Released),
            Take::Hold => {}
        }
        let Some(balance) = super::users::balance(db, user_id)? else {
            return Ok(Taken::UnknownUser);
        };
        let movement = hold_movement(user_id, amount.money());
        if !balance_allows(balance, &movement) {
            return Ok(Taken::InsufficientBalance { balance });
        }
        super::users::add_movement(db, &movement, now)?;
        db.execute(
            "INSERT INTO balance_holds (key, user_id, amount, state, created_at)
             VALUES (?, ?, ?, ?, ?)",
            &[
                text(key.as_str()),
                text(user_id),
                int(amount.money().cents()),
                text(HoldStatus::Held.as_str()),
                int(now.millis()),
            ],
        )?;
        let hold = Hold {
            key: key.as_str().to_owned(),
            user_id: user_id.to_owned(),
            amount: amount.money(),
            status: HoldStatus::Held,
        };
        receipt(db, &hold).map(Taken::Now)
    })
}

/// What releasing a hold did.
#[derive(Debug)]
pub enum Released {
    /// Released now: the amount is back on the balance.
    Now(HoldReceipt),
    /// Released before: nothing moved.
    Before(HoldReceipt),
    /// Captured by an order: nothing moved.
    Captured,
    /// No hold was taken under the key; it is void from now on.
    NotFound,
}

/// Gives a held amount back, once. A key never held is recorded as void (released, no user,
/// amount 0), so a hold arriving after its release is refused.
pub fn release(db: &Connection, key: &LedgerKey, now: Timestamp) -> Result<Released, StoreError> {
    super::transaction(db, |db| match holds::release(find(db, key)?) {
        Release::GiveBack(hold) => {
            let movement = hold_movement(&hold.user_id, hold.amount).reversed();
            super::users::add_movement(db, &movement, now)?;
            settle(db, key, HoldStatus::Released, now)?;
            receipt(db, &hold.with_status(HoldStatus::Released)).map(Released::Now)
        }
        Release::Repeat(hold) => receipt(db, &hold).map(Released::Before),
        Release::Captured => Ok(Released::Captured),
        Release::Void => {
            db.execute(
                "INSERT INTO balance_holds (key, user_id, amount, state, created_at, settled_at)
                 VALUES (?, NULL, 0, ?, ?, ?)",
                &[
                    text(key.as_str()),
                    text(HoldStatus::Released.as_str()),
                    int(now.millis()),
                    int(now.millis()),
                ],
            )?;
            Ok(Released::NotFound)
        }
        Release::NotFound => Ok(Released::NotFound),
    })
}

/// What capturing a hold did.
#[derive(Debug)]
pub enum Captured {
    /// Captured now: the amount counts as spent and one purchase more.
    Now(Hold),
    /// Captured before: the same hold, nothing moved.
    Before(Hold),
    /// Released or voided: nothing moved.
    Released,
    /// No hold under the key: nothing moved, nothing recorded.
    NotFound,
    /// The hold's user was deleted since: nothing moved, the hold stays held.
    UnknownUser(String),
}

/// Turns a held amount into its user's spend, once: the status and the counters change in one
/// transaction, so a repeat (or a concurrent capture) finds it captured and adds nothing.
pub fn capture(db: &Connection, key: &LedgerKey, now: Timestamp) -> Result<Captured, StoreError> {
    super::transaction(db, |db| match holds::capture(find(db, key)?) {
        Capture::Spend(hold) => {
            if super::users::find_live(db, &hold.user_id)?.is_none() {
                return Ok(Captured::UnknownUser(hold.user_id));
            }
            super::users::add_movement(db, &capture_movement(&hold.user_id, hold.amount), now)?;
            settle(db, key, HoldStatus::Captured, now)?;
            Ok(Captured::Now(hold.with_status(HoldStatus::Captured)))
        }
        Capture::Repeat(hold) => Ok(Captured::Before(hold)),
        Capture::Released => Ok(Captured::Released),
        Capture::NotFound => Ok(Captured::NotFound),
    })
}

/// Moves a held row to its final status.
fn settle(
    db: &Connection,
    key: &LedgerKey,
    status: HoldStatus,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE balance_holds SET state = ?, settled_at = ? WHERE key = ? AND state = 'held'",
        &[text(status.as_str()), int(now.millis()), text(key.as_str())],
    )?;
    Ok(())
}
