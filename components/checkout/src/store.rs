//! All SQL of the checkout component, on its own database (label `checkout`): checkouts, the
//! inbox of Stripe events, and the outbox of saga starts. The schema migrates itself on first
//! use (Spin has no migration hook).

use crate::domain::{Checkout, Line, Status};
use money::Money;
use spin_sdk::sqlite3::{Connection, Row, Value};
use sqlite_store::{int, text};
use timestamp::Timestamp;

pub use sqlite_store::{StoreError, transaction};

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "checkout";

/// Every schema version in order. Append; never edit a released one.
const MIGRATIONS: &[sqlite_store::Migration] = &[
    (
        1,
        &[
            // One row per checkout, recorded before Stripe is called; `lines` is the frozen JSON
            // the order is built from.
            "CREATE TABLE checkouts (
            id TEXT PRIMARY KEY,
            buyer_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('creating', 'open', 'awaiting_payment',
                'paid', 'expired', 'failed', 'replaced')),
            session_id TEXT UNIQUE,
            session_url TEXT,
            payment_intent TEXT,
            lines TEXT NOT NULL,
            total INTEGER NOT NULL,
            holds_released_at INTEGER,
            paid_at INTEGER,
            -- When orders reported the paid checkout's order COMPLETED or REFUNDED: the
            -- re-drive stops asking.
            settled_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            // A buyer has at most one checkout being created or open: a second replaces the first.
            "CREATE UNIQUE INDEX checkouts_one_live ON checkouts (buyer_id)
            WHERE status IN ('creating', 'open')",
            "CREATE INDEX checkouts_status ON checkouts (status, updated_at)",
            // Stripe events already handled: a redelivery finds its id and does nothing.
            "CREATE TABLE stripe_events (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            received_at INTEGER NOT NULL)",
            outbox::SCHEMA[0],
            outbox::SCHEMA[1],
        ],
    ),
    (
        2,
        &[
            // The inbox is pruned by age (`forget_events`).
            "CREATE INDEX stripe_events_received ON stripe_events (received_at)",
        ],
    ),
];

/// Opens the database, bringing its schema up to date first (idempotent).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    sqlite_store::migrate(&db, MIGRATIONS)?;
    Ok(db)
}

const COLUMNS: &str = "id, buyer_id, status, session_id, session_url, payment_intent, lines, \
                       total, holds_released_at, paid_at, created_at";

fn bad(what: &str) -> StoreError {
    StoreError(format!("checkouts row has a bad {what}"))
}

fn decode(row: &Row<'_>) -> Result<Checkout, StoreError> {
    let text_col = |name: &str| {
        row.get::<&str>(name)
            .map(str::to_owned)
            .ok_or_else(|| bad(name))
    };
    let opt_col = |name: &str| row.get::<&str>(name).map(str::to_owned);
    let lines: Vec<Line> = serde_json::from_str(&text_col("lines")?).map_err(|_| bad("lines"))?;
    Ok(Checkout {
        id: text_col("id")?,
        buyer_id: text_col("buyer_id")?,
        status: Status::parse(&text_col("status")?).ok_or_else(|| bad("status"))?,
        session_id: opt_col("session_id"),
        session_url: opt_col("session_url"),
        payment_intent: opt_col("payment_intent"),
        lines,
        total: Money::from_cents(row.get::<i64>("total").ok_or_else(|| bad("total"))?),
        holds_released: row.get::<i64>("holds_released_at").is_some(),
        paid_at: row.get::<i64>("paid_at"),
        created_at: row
            .get::<i64>("created_at")
            .ok_or_else(|| bad("created_at"))?,
    })
}

fn many(db: &Connection, condition: &str, params: &[Value]) -> Result<Vec<Checkout>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM checkouts WHERE {condition}");
    let result = db.execute(&sql, params)?;
    result.rows().map(|row| decode(&row)).collect()
}

/// The checkout with this id.
pub fn find(db: &Connection, id: &str) -> Result<Option<Checkout>, StoreError> {
    Ok(many(db, "id = ?", &[text(id)])?.pop())
}

/// The checkout Stripe's session `session_id` belongs to.
pub fn find_by_session(db: &Connection, session_id: &str) -> Result<Option<Checkout>, StoreError> {
    Ok(many(db, "session_id = ?", &[text(session_id)])?.pop())
}

/// Records a new checkout (`creating`) for the buyer, replacing the one they have open or
/// being created, in one transaction; answers the replaced ones, whose holds and session the
/// caller gives back.
pub fn start(
    db: &Connection,
    checkout: &Checkout,
    now: Timestamp,
) -> Result<Vec<Checkout>, StoreError> {
    let lines = serde_json::to_string(&checkout.lines).map_err(|e| StoreError(e.to_string()))?;
    transaction(db, |db| {
        let replaced = many(
            db,
            "buyer_id = ? AND status IN ('creating', 'open')",
            &[text(&checkout.buyer_id)],
        )?;
        db.execute(
            "UPDATE checkouts SET status = 'replaced', updated_at = ?
             WHERE buyer_id = ? AND status IN ('creating', 'open')",
            &[int(now.millis()), text(&checkout.buyer_id)],
        )?;
        db.execute(
            "INSERT INTO checkouts (id, buyer_id, status, lines, total, created_at, updated_at)
             VALUES (?, ?, 'creating', ?, ?, ?, ?)",
            &[
                text(&checkout.id),
                text(&checkout.buyer_id),
                text(&lines),
                int(checkout.total.cents()),
                int(now.millis()),
                int(now.millis()),
            ],
        )?;
        Ok(replaced)
    })
}

/// Records the session Stripe created for a checkout still being created; `false` when it was
/// replaced meanwhile (the caller then gives the session and the holds back).
pub fn opened(
    db: &Connection,
    id: &str,
    session_id: &str,
    url: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    db.execute(
        "UPDATE checkouts SET status = 'open', session_id = ?, session_url = ?, updated_at = ?
         WHERE id = ? AND status = 'creating'",
        &[text(session_id), text(url), int(now.millis()), text(id)],
    )?;
    Ok(db.changes() == 1)
}

/// Moves a checkout from one of `from` to `to`; `false` when it was in none of them.
pub fn advance(
    db: &Connection,
    id: &str,
    from: &[Status],
    to: Status,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let states = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    db.execute(
        &format!(
            "UPDATE checkouts SET status = ?, updated_at = ? WHERE id = ? AND status IN ({states})"
        ),
        &[text(to.as_str()), int(now.millis()), text(id)],
    )?;
    Ok(db.changes() == 1)
}

/// Marks a checkout paid (from any state but paid), with Stripe's ids; `false` when it was
/// paid already.
pub fn mark_paid(
    db: &Connection,
    id: &str,
    session_id: &str,
    payment_intent: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let intent = payment_intent.map_or(Value::Null, text);
    db.execute(
        "UPDATE checkouts SET status = 'paid', session_id = coalesce(session_id, ?),
            payment_intent = coalesce(?, payment_intent), paid_at = ?, updated_at = ?
         WHERE id = ? AND status <> 'paid'",
        &[
            text(session_id),
            intent,
            int(now.millis()),
            int(now.millis()),
            text(id),
        ],
    )?;
    Ok(db.changes() == 1)
}

/// Records that a checkout's holds were given back (both releases confirmed).
pub fn holds_released(db: &Connection, id: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE checkouts SET holds_released_at = ? WHERE id = ? AND holds_released_at IS NULL",
        &[int(now.millis()), text(id)],
    )?;
    Ok(())
}

/// Records a Stripe event id; `false` when it was handled before.
pub fn record_event(
    db: &Connection,
    id: &str,
    kind: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    db.execute(
        "INSERT INTO stripe_events (id, type, received_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO NOTHING",
        &[text(id), text(kind), int(now.millis())],
    )?;
    Ok(db.changes() == 1)
}

/// How long a handled event id is remembered: Stripe retries a delivery for up to 3 days, so
/// a redelivery never outlives this, and the inbox stays bounded by a month of events.
const REMEMBER_EVENTS_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Forgets handled event ids older than [`REMEMBER_EVENTS_MILLIS`] (a few per call).
pub fn forget_events(db: &Connection, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM stripe_events WHERE id IN (SELECT id FROM stripe_events
             WHERE received_at < ? ORDER BY received_at LIMIT 100)",
        &[int(now.millis() - REMEMBER_EVENTS_MILLIS)],
    )?;
    Ok(())
}

/// Checkouts paid at or before `quiet_before` (the saga had time to move them) whose order is
/// not known to be settled, for the re-drive to ask orders about, oldest first, at most
/// `limit`.
pub fn paid_before(
    db: &Connection,
    quiet_before: Timestamp,
    limit: i64,
) -> Result<Vec<Checkout>, StoreError> {
    many(
        db,
        "status = 'paid' AND settled_at IS NULL AND paid_at <= ? ORDER BY paid_at LIMIT ?",
        &[int(quiet_before.millis()), int(limit)],
    )
}

/// Records that a paid checkout's order reached COMPLETED or REFUNDED.
pub fn settled(db: &Connection, id: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE checkouts SET settled_at = ? WHERE id = ? AND settled_at IS NULL",
        &[int(now.millis()), text(id)],
    )?;
    Ok(())
}

/// Checkouts that ended unpaid but still hold stock or balance (a release that failed).
pub fn unreleased(db: &Connection, limit: i64) -> Result<Vec<Checkout>, StoreError> {
    many(
        db,
        "status IN ('expired', 'failed', 'replaced') AND holds_released_at IS NULL
         ORDER BY updated_at LIMIT ?",
        &[int(limit)],
    )
}
