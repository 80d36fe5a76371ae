//! A reservation becoming a sale (the catalog export's `commit`) and a sale undone (`restock`,
//! the order saga's compensation). Each runs in one `BEGIN IMMEDIATE` transaction: concurrent
//! commits queue on SQLite's write lock, so each availability check sees the sales committed
//! before it and on-hand stock never goes below what active holds need. Every change goes
//! through `products` rows, whose triggers replace the read cache's generation in the same
//! transaction (`cache.rs`).

use super::reservations::{Failure, Settled, carry_out, changes, find, product_exists, settle};
use super::{HELD, int, text, transaction};
use crate::domain::ReservationLines;
use crate::domain::reservation::{self, Commit, State};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// What `commit` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Committed {
    /// Sold now: on hand down, order counts up.
    Now,
    /// Committed before: nothing changed.
    Before,
    /// The reservation exists with other lines: nothing changed.
    OtherLines,
    /// The sale was restocked since: nothing changed.
    Restocked,
    /// No product has this id: nothing changed.
    UnknownProduct(String),
    /// Fewer units of this product are available now than the line needs: nothing changed.
    InsufficientStock(String),
}

/// Makes the reservation a sale once, all lines or none (`domain::reservation::commit`).
pub fn commit(
    db: &Connection,
    id: &str,
    lines: &ReservationLines,
    now: Timestamp,
) -> Result<Committed, StoreError> {
    transaction(db, |db| {
        match reservation::commit(find(db, id)?.as_ref(), lines, now) {
            Commit::Held => {
                // A product deleted while it was held cannot be sold.
                if let Some(gone) = first_missing(db, lines)? {
                    return Err(Failure::Refused(Committed::UnknownProduct(gone)));
                }
                sell_held(db, id, now)?
            }
            Commit::FromAvailable => sell_available(db, id, lines, now)?,
            Commit::Repeat => return Ok(Committed::Before),
            Commit::OtherLines => return Ok(Committed::OtherLines),
            Commit::Restocked => return Ok(Committed::Restocked),
        }
        Ok(Committed::Now)
    })
    .or_else(Failure::answer)
}

/// The first product of `lines` that no longer exists.
fn first_missing(db: &Connection, lines: &ReservationLines) -> Result<Option<String>, StoreError> {
    for (product_id, _) in lines.iter() {
        if !product_exists(db, product_id)? {
            return Ok(Some(product_id.to_owned()));
        }
    }
    Ok(None)
}

/// The units a held reservation holds leave the shelf; they were counted out of availability
/// already, so no check is needed.
fn sell_held(db: &Connection, id: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE products SET quantity = quantity - (SELECT l.quantity FROM reservation_lines l
             WHERE l.reservation_id = ? AND l.product_id = products.id),
           order_count = order_count + 1,
           updated_at = MAX(updated_at + 1, ?)
         WHERE id IN (SELECT product_id FROM reservation_lines WHERE reservation_id = ?)",
        &[text(id), int(now.millis()), text(id)],
    )?;
    settle(db, id, State::Committed)
}

/// Each line is taken from what is available now (on hand minus other active holds) by a
/// conditional decrement; the first line short rolls back the ones taken before it. The
/// reservation is then recorded as committed, with its lines (inactive) when it was never
/// made, so a repeat changes nothing and `restock` knows what to put back.
fn sell_available(
    db: &Connection,
    id: &str,
    lines: &ReservationLines,
    now: Timestamp,
) -> Result<(), Failure<Committed>> {
    let take = format!(
        "UPDATE products AS p SET quantity = quantity - ?, order_count = order_count + 1,
            updated_at = MAX(updated_at + 1, ?)
         WHERE p.id = ? AND p.quantity - {HELD} >= ?"
    );
    for (product_id, quantity) in lines.iter() {
        let quantity = i64::from(quantity);
        db.execute(
            &take,
            &[
                int(quantity),
                int(now.millis()),
                text(product_id),
                int(now.millis()),
                int(quantity),
            ],
        )?;
        if changes(db)? == 0 {
            let refusal = if product_exists(db, product_id)? {
                Committed::InsufficientStock(product_id.to_owned())
            } else {
                Committed::UnknownProduct(product_id.to_owned())
            };
            return Err(Failure::Refused(refusal));
        }
    }
    db.execute(
        "INSERT INTO reservations (id, lines, state, expires_at, created_at)
         VALUES (?, ?, 'committed', ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = 'committed'",
        &[
            text(id),
            text(&lines.canonical()),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    for (product_id, quantity) in lines.iter() {
        db.execute(
            "INSERT INTO reservation_lines (reservation_id, product_id, quantity, expires_at, active)
             VALUES (?, ?, ?, ?, 0)
             ON CONFLICT (reservation_id, product_id) DO UPDATE SET active = 0",
            &[
                text(id),
                text(product_id),
                int(i64::from(quantity)),
                int(now.millis()),
            ],
        )?;
    }
    Ok(())
}

/// Undoes a commit once: each line's units come back on hand and its product's order count
/// goes down by 1. A product deleted since has no row left, so its units are skipped.
pub fn restock(db: &Connection, id: &str, now: Timestamp) -> Result<Settled, StoreError> {
    transaction(db, |db| {
        let rule = reservation::restock(find(db, id)?.as_ref(), now);
        carry_out(rule, || {
            db.execute(
                "UPDATE products SET quantity = quantity + (SELECT l.quantity
                     FROM reservation_lines l
                     WHERE l.reservation_id = ? AND l.product_id = products.id),
                   order_count = order_count - 1,
                   updated_at = MAX(updated_at + 1, ?)
                 WHERE id IN (SELECT product_id FROM reservation_lines WHERE reservation_id = ?)",
                &[text(id), int(now.millis()), text(id)],
            )?;
            settle(db, id, State::Restocked)
        })
    })
}
