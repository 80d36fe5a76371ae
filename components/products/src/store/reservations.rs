//! Stock reservations: the SQL behind the catalog export's `get-many`, `reserve` and
//! `release`, and the reservation rows `sales.rs` (`commit`, `restock`) shares. Each write runs
//! in one `BEGIN IMMEDIATE` transaction, so concurrent calls queue on SQLite's write lock and
//! every availability check sees the holds committed before it.

use super::{HELD, int, text, transaction};
use crate::domain::ReservationLines;
use crate::domain::reservation::{self, Settle, State, Stored};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// A product as the catalog export reports it.
pub struct StockRow {
    pub id: String,
    pub name: String,
    pub price_cents: i64,
    pub on_hand: i64,
    pub available: i64,
    pub seller_id: String,
    pub image_urls: Vec<String>,
}

/// The products with these ids, in the order asked; unknown ids are left out.
pub fn stock(db: &Connection, ids: &[String], now: Timestamp) -> Result<Vec<StockRow>, StoreError> {
    let sql = format!(
        "SELECT p.id, p.name, p.price, p.quantity, p.admin_id, p.image_urls,
                p.quantity - {HELD} AS available
         FROM products p WHERE p.id = ?"
    );
    let mut rows = Vec::new();
    for id in ids {
        let result = db.execute(&sql, &[int(now.millis()), text(id)])?;
        if let Some(row) = result.rows().next() {
            let bad = || StoreError("products row has a bad column".into());
            rows.push(StockRow {
                id: row.get::<&str>("id").ok_or_else(bad)?.to_owned(),
                name: row.get::<&str>("name").ok_or_else(bad)?.to_owned(),
                price_cents: row.get::<i64>("price").ok_or_else(bad)?,
                on_hand: row.get::<i64>("quantity").ok_or_else(bad)?,
                available: row.get::<i64>("available").ok_or_else(bad)?.max(0),
                seller_id: row.get::<&str>("admin_id").ok_or_else(bad)?.to_owned(),
                image_urls: serde_json::from_str(row.get::<&str>("image_urls").ok_or_else(bad)?)
                    .map_err(|_| bad())?,
            });
        }
    }
    Ok(rows)
}

/// Moves a held, unexpired reservation's expiry to `expires_at` if that is later (a payment
/// that takes days pins the stock it paid for); an expired, committed or released one stays as
/// it is.
fn extend(
    db: &Connection,
    id: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    let later = [int(expires_at.millis()), text(id), int(now.millis())];
    db.execute(
        "UPDATE reservations SET expires_at = max(expires_at, ?)
         WHERE id = ? AND state = 'held' AND expires_at > ?",
        &later,
    )?;
    db.execute(
        "UPDATE reservation_lines SET expires_at = max(expires_at, ?)
         WHERE reservation_id = ? AND active = 1 AND expires_at > ?",
        &later,
    )?;
    Ok(())
}

/// What `reserve` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Every line is held now.
    Now,
    /// This reservation (same lines) already existed: nothing more held.
    Before,
    /// The id exists with other lines.
    OtherLines,
    /// No product has this id: nothing held.
    UnknownProduct(String),
    /// Not enough available units of this product: nothing held.
    InsufficientStock(String),
}

pub(super) fn changes(db: &Connection) -> Result<i64, StoreError> {
    let result = db.execute("SELECT changes() AS n", &[])?;
    Ok(result
        .rows()
        .next()
        .and_then(|r| r.get::<i64>("n"))
        .unwrap_or(0))
}

/// Holds every line or none until `expires_at`.
pub fn reserve(
    db: &Connection,
    id: &str,
    lines: &ReservationLines,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<Reserved, StoreError> {
    transaction(db, |db| {
        let existing = db.execute("SELECT lines FROM reservations WHERE id = ?", &[text(id)])?;
        if let Some(row) = existing.rows().next() {
            if row.get::<&str>("lines") != Some(lines.canonical().as_str()) {
                return Ok(Reserved::OtherLines);
            }
            extend(db, id, expires_at, now)?;
            return Ok(Reserved::Before);
        }
        // The conditional decrement: the line is inserted only if enough is available.
        let insert = format!(
            "INSERT INTO reservation_lines (reservation_id, product_id, quantity, expires_at)
             SELECT ?, p.id, ?, ? FROM products p WHERE p.id = ? AND p.quantity - {HELD} >= ?"
        );
        for (product_id, quantity) in lines.iter() {
            let quantity = i64::from(quantity);
            db.execute(
                &insert,
                &[
                    text(id),
                    int(quantity),
                    int(expires_at.millis()),
                    text(product_id),
                    int(now.millis()),
                    int(quantity),
                ],
            )?;
            if changes(db)? == 0 {
                let outcome = if product_exists(db, product_id)? {
                    Reserved::InsufficientStock(product_id.to_owned())
                } else {
                    Reserved::UnknownProduct(product_id.to_owned())
                };
                // Undo the lines inserted so far: all or nothing.
                return Err(Refused(outcome));
            }
        }
        db.execute(
            "INSERT INTO reservations (id, lines, state, expires_at, created_at)
             VALUES (?, ?, 'held', ?, ?)",
            &[
                text(id),
                text(&lines.canonical()),
                int(expires_at.millis()),
                int(now.millis()),
            ],
        )?;
        Ok(Reserved::Now)
    })
    .or_else(Failure::answer)
}

/// Whether a product has this id (tells a short product from a missing one).
pub(super) fn product_exists(db: &Connection, id: &str) -> Result<bool, StoreError> {
    let found = db.execute("SELECT 1 AS one FROM products WHERE id = ?", &[text(id)])?;
    Ok(found.rows().next().is_some())
}

/// Why a transaction's work stopped: a refusal rolls the transaction back like a storage
/// failure does, but is an answer (`T`), not an error.
pub(super) enum Failure<T> {
    Refused(T),
    Store(StoreError),
}
use Failure::Refused;

impl<T> Failure<T> {
    /// The refusal as the answer; a storage failure stays one.
    pub(super) fn answer(self) -> Result<T, StoreError> {
        match self {
            Refused(outcome) => Ok(outcome),
            Failure::Store(e) => Err(e),
        }
    }
}

impl<T> From<StoreError> for Failure<T> {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl<T> From<spin_sdk::sqlite3::Error> for Failure<T> {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        Failure::Store(e.into())
    }
}

/// What `release` or `restock` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// Done now.
    Now,
    /// Already done before: nothing changed.
    Before,
    /// No such reservation.
    Unknown,
    /// The reservation is in a state this operation cannot act on (named).
    WrongState(&'static str),
}

/// Carries out a settling rule: `act` when it says so, the answer it names otherwise.
pub(super) fn carry_out(
    rule: Settle,
    act: impl FnOnce() -> Result<(), StoreError>,
) -> Result<Settled, StoreError> {
    match rule {
        Settle::Act => act().map(|()| Settled::Now),
        Settle::Repeat => Ok(Settled::Before),
        Settle::Unknown => Ok(Settled::Unknown),
        Settle::WrongState(state) => Ok(Settled::WrongState(state)),
    }
}

/// The reservation with this id, as the settling rules read it.
pub(super) fn find(db: &Connection, id: &str) -> Result<Option<Stored>, StoreError> {
    let result = db.execute(
        "SELECT state, lines, expires_at FROM reservations WHERE id = ?",
        &[text(id)],
    )?;
    let Some(row) = result.rows().next() else {
        return Ok(None);
    };
    let bad = |what: &str| StoreError(format!("reservations row {id} has a bad {what}"));
    Ok(Some(Stored {
        state: row
            .get::<&str>("state")
            .and_then(State::parse)
            .ok_or_else(|| bad("state"))?,
        lines: row
            .get::<&str>("lines")
            .ok_or_else(|| bad("lines"))?
            .to_owned(),
        expires_at: Timestamp::from_millis(
            row.get::<i64>("expires_at")
                .ok_or_else(|| bad("expires_at"))?,
        ),
    }))
}

/// Stops a reservation's lines counting against availability, and records its new state.
pub(super) fn settle(db: &Connection, id: &str, state: State) -> Result<(), StoreError> {
    db.execute(
        "UPDATE reservation_lines SET active = 0 WHERE reservation_id = ?",
        &[text(id)],
    )?;
    db.execute(
        "UPDATE reservations SET state = ? WHERE id = ?",
        &[text(state.as_str()), text(id)],
    )?;
    Ok(())
}

/// Returns a held reservation's stock, once.
pub fn release(db: &Connection, id: &str) -> Result<Settled, StoreError> {
    transaction(db, |db| {
        let rule = reservation::release(find(db, id)?.as_ref());
        carry_out(rule, || settle(db, id, State::Released))
    })
}
