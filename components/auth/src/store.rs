//! All SQL of the auth component, on its own database (label `auth`), and the writes to the
//! `identity` key-value projection. Each request opens one connection; work that changes
//! several rows runs in one `BEGIN IMMEDIATE` transaction on it (immediate, so concurrent
//! writers queue on SQLite's lock instead of failing half-way).

pub mod clerk;
pub mod deletions;
pub mod holds;
pub mod ledger;
mod migrations;
pub mod projection;
pub mod sessions;
pub mod throttle;
pub mod users;

use crate::errors::StoreError;
use spin_sdk::sqlite3::{Connection, Value};

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "auth";

/// Opens the database, bringing its schema up to date first (idempotent; Spin has no
/// migration hook, so the first request after a deploy migrates).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    sqlite_store::migrate(&db, migrations::MIGRATIONS)?;
    Ok(db)
}

pub use sqlite_store::transaction;

use sqlite_store::{int, text};

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}
