//! SQLite plumbing every component with its own database needs: one store error type,
//! versioned self-migration (Spin has no migration hook, so the first request after a deploy
//! migrates) and `BEGIN IMMEDIATE` transactions on one connection (immediate, so concurrent
//! writers queue on SQLite's lock instead of failing half-way).
#![deny(missing_docs)]

use spin_sdk::sqlite3::{Connection, Value};

/// A storage failure: always a server fault, its text goes to the log, never to the client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl From<spin_sdk::sqlite3::Error> for StoreError {
    fn from(e: spin_sdk::sqlite3::Error) -> Self {
        StoreError(format!("sqlite: {e:?}"))
    }
}

/// A text parameter.
pub fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// An integer parameter.
pub fn int(i: i64) -> Value {
    Value::Integer(i)
}

/// A schema version and the statements (one per `execute`) that bring the database to it.
pub type Migration = (i64, &'static [&'static str]);

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// This call created the schema from nothing (version 0): seed data may follow.
    Created,
    /// This call applied newer versions to an existing schema.
    Upgraded,
    /// Nothing to do (or a concurrent request did it).
    UpToDate,
}

fn current_version(db: &Connection) -> Result<i64, StoreError> {
    let rows = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?;
    Ok(rows.rows.first().and_then(|r| r.get::<i64>(0)).unwrap_or(0))
}

/// The version in the database header (`PRAGMA user_version`), which [`migrate`] keeps equal
/// to the newest row of `schema_version`: one statement, no table lookup.
fn header_version(db: &Connection) -> Result<i64, StoreError> {
    let rows = db.execute("PRAGMA user_version", &[])?;
    Ok(rows.rows.first().and_then(|r| r.get::<i64>(0)).unwrap_or(0))
}

/// Sets the header version (a number of ours, not input: `PRAGMA` takes no parameters).
fn set_header_version(db: &Connection, version: i64) -> Result<(), StoreError> {
    db.execute(&format!("PRAGMA user_version = {version}"), &[])?;
    Ok(())
}

/// Applies the `migrations` (ascending versions) this database has not seen, in one
/// transaction. Every request calls it, so the up-to-date case is one statement reading the
/// header version; `schema_version` keeps the history (and when each version was applied).
pub fn migrate(db: &Connection, migrations: &[Migration]) -> Result<Migrated, StoreError> {
    let latest = migrations.last().map_or(0, |(v, _)| *v);
    if header_version(db)? >= latest {
        return Ok(Migrated::UpToDate);
    }
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        &[],
    )?;
    if current_version(db)? >= latest {
        // Migrated before the header version was kept: record it once.
        set_header_version(db, latest)?;
        return Ok(Migrated::UpToDate);
    }
    transaction(db, |db| {
        // Re-read under the write lock: a concurrent first request may have migrated.
        let current = current_version(db)?;
        if current >= latest {
            return Ok(Migrated::UpToDate);
        }
        for (version, statements) in migrations.iter().filter(|(v, _)| *v > current) {
            for statement in *statements {
                db.execute(statement, &[])?;
            }
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                &[
                    Value::Integer(*version),
                    Value::Integer(timestamp::Timestamp::now().millis()),
                ],
            )?;
        }
        // In the same transaction: the header never claims a version whose tables are missing.
        set_header_version(db, latest)?;
        Ok(if current == 0 {
            Migrated::Created
        } else {
            Migrated::Upgraded
        })
    })
}

/// Runs `work` in one `BEGIN IMMEDIATE` transaction: committed if it returns `Ok`, rolled
/// back otherwise.
pub fn transaction<T, E: From<StoreError>>(
    db: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    db.execute("BEGIN IMMEDIATE", &[])
        .map_err(StoreError::from)?;
    match work(db) {
        Ok(value) => {
            db.execute("COMMIT", &[]).map_err(StoreError::from)?;
            Ok(value)
        }
        Err(err) => {
            // Dropping the connection at the end of the request would roll back too; do it
            // now so the lock is released before the error response is built.
            let _ = db.execute("ROLLBACK", &[]);
            Err(err)
        }
    }
}
