//! All SQL of the events component, on its own database (label `saga`): one row per saga with
//! the frozen start it runs from, and one row per step done, so a saga resumes after its last
//! step and never repeats one. The schema migrates itself on first use.

use crate::message::SagaStart;
use spin_sdk::sqlite3::Connection;
use sqlite_store::{int, text};
use std::collections::HashMap;
use timestamp::Timestamp;

pub use sqlite_store::StoreError;

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "saga";

/// Every schema version in order. Append; never edit a released one.
const MIGRATIONS: &[sqlite_store::Migration] = &[(
    1,
    &[
        // `start` is the first saga start received for the checkout: later deliveries run
        // from it, whatever they carry. `lease_until` lets one handler at a time move a saga.
        "CREATE TABLE sagas (
            id TEXT PRIMARY KEY,
            start TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'refunded')),
            failure TEXT,
            lease_until INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
        // A step's outcome, written once when it is done (by saga id and step name).
        "CREATE TABLE saga_steps (
            saga_id TEXT NOT NULL REFERENCES sagas (id),
            step TEXT NOT NULL,
            outcome TEXT NOT NULL,
            done_at INTEGER NOT NULL,
            PRIMARY KEY (saga_id, step))",
    ],
)];

/// Opens the database, bringing its schema up to date first (idempotent).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    sqlite_store::migrate(&db, MIGRATIONS)?;
    Ok(db)
}

/// Where a saga is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Completed,
    Refunded,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Refunded => "refunded",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Status::Running, Status::Completed, Status::Refunded]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A saga as stored.
#[derive(Debug)]
pub struct Saga {
    pub start: SagaStart,
    pub status: Status,
    /// Why it was compensated, once it was.
    pub failure: Option<String>,
}

fn bad(what: &str) -> StoreError {
    StoreError(format!("sagas row has a bad {what}"))
}

/// The saga of `start`'s checkout, recorded from `start` if it is new.
pub fn begin(db: &Connection, start: &SagaStart, now: Timestamp) -> Result<Saga, StoreError> {
    let frozen = serde_json::to_string(start).map_err(|e| StoreError(e.to_string()))?;
    db.execute(
        "INSERT INTO sagas (id, start, status, created_at, updated_at)
         VALUES (?, ?, 'running', ?, ?) ON CONFLICT (id) DO NOTHING",
        &[
            text(&start.checkout_id),
            text(&frozen),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    let result = db.execute(
        "SELECT start, status, failure FROM sagas WHERE id = ?",
        &[text(&start.checkout_id)],
    )?;
    let row = result.rows().next().ok_or_else(|| bad("id"))?;
    Ok(Saga {
        start: serde_json::from_str(row.get::<&str>("start").ok_or_else(|| bad("start"))?)
            .map_err(|_| bad("start"))?,
        status: row
            .get::<&str>("status")
            .and_then(Status::parse)
            .ok_or_else(|| bad("status"))?,
        failure: row.get::<&str>("failure").map(str::to_owned),
    })
}

/// Takes the saga for `lease` unless another handler holds it; `false` when one does.
pub fn take(db: &Connection, id: &str, lease_ms: i64, now: Timestamp) -> Result<bool, StoreError> {
    db.execute(
        "UPDATE sagas SET lease_until = ? WHERE id = ? AND lease_until <= ?",
        &[int(now.millis() + lease_ms), text(id), int(now.millis())],
    )?;
    Ok(db.changes() == 1)
}

/// Gives the saga back for the next handler.
pub fn give_back(db: &Connection, id: &str) -> Result<(), StoreError> {
    db.execute("UPDATE sagas SET lease_until = 0 WHERE id = ?", &[text(id)])?;
    Ok(())
}

/// The steps done so far and their outcomes.
pub fn done(db: &Connection, id: &str) -> Result<HashMap<String, String>, StoreError> {
    let result = db.execute(
        "SELECT step, outcome FROM saga_steps WHERE saga_id = ?",
        &[text(id)],
    )?;
    result
        .rows()
        .map(|row| {
            Ok((
                row.get::<&str>("step")
                    .ok_or_else(|| bad("step"))?
                    .to_owned(),
                row.get::<&str>("outcome")
                    .ok_or_else(|| bad("outcome"))?
                    .to_owned(),
            ))
        })
        .collect()
}

/// Records a step as done with its outcome (a second record of the same step keeps the first).
pub fn step_done(
    db: &Connection,
    id: &str,
    step: &str,
    outcome: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO saga_steps (saga_id, step, outcome, done_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (saga_id, step) DO NOTHING",
        &[text(id), text(step), text(outcome), int(now.millis())],
    )?;
    db.execute(
        "UPDATE sagas SET updated_at = ? WHERE id = ?",
        &[int(now.millis()), text(id)],
    )?;
    Ok(())
}

/// Records why a saga is being compensated (the first reason stands).
pub fn failed(db: &Connection, id: &str, why: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE sagas SET failure = coalesce(failure, ?), updated_at = ? WHERE id = ?",
        &[text(why), int(now.millis()), text(id)],
    )?;
    Ok(())
}

/// Ends a saga.
pub fn finish(db: &Connection, id: &str, status: Status, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE sagas SET status = ?, lease_until = 0, updated_at = ? WHERE id = ?",
        &[text(status.as_str()), int(now.millis()), text(id)],
    )?;
    Ok(())
}
