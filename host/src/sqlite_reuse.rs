//! Guest SQLite connections reused from one guest `open` to the next, without the next guest
//! being able to tell.
//!
//! A new connection re-reads the schema on its first statement, prepares every statement
//! again and starts with a cold page cache: for a short request that is most of its database
//! time. So a guest `open` of a file database takes an idle connection of that file (or opens
//! one), and dropping the guest's handle gives it back, after dealing with everything a guest
//! can leave on a connection that a fresh one would not have:
//!
//! - an open transaction: rolled back, as closing a Spin connection does;
//! - connection state of its own: a `PRAGMA` that sets something (except the file's own
//!   `user_version` and `application_id`, and pragmas that only inspect), `ATTACH`/`DETACH`,
//!   temporary tables, views, indexes, triggers and virtual tables. An authorizer spots these
//!   as statements are prepared; such a connection is closed, not reused;
//! - the counters the SQL functions `changes()`, `total_changes()` and `last_insert_rowid()`
//!   read: a fresh connection answers 0 and SQLite cannot reset them, so a connection on
//!   which any row was changed is closed, not reused. Read-only requests, the frequent kind,
//!   reuse connections; a request that writes pays for a new one, as before.
//!
//! What stays is invisible: prepared statements cached by SQL text (SQLite re-prepares one
//! whose schema changed) and the page cache (SQLite drops it when another connection
//! committed). In-memory databases are never reused: each guest `open` gets a new, empty,
//! private one, as in Spin.

use crate::sqlite_file::{self, Durability, IdlePool};
use rusqlite::Connection;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Idle connections kept per database file. Connections are opened only when every idle one
/// is taken, so a file keeps at most as many as guests used it at once, up to this bound
/// (at 64 concurrent requests a bound of 16 still opened a connection for 8% of them). Each
/// holds its own page cache, up to SQLite's default of 2 MiB.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// Pragmas that, given a value, change the database file (shared by every connection) or only
/// inspect it, so a connection that ran them is still like a fresh one.
const FILE_PRAGMAS: &[&str] = &[
    "user_version",
    "application_id",
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "wal_checkpoint",
    "incremental_vacuum",
    "optimize",
];

/// Whether a statement doing `ctx` leaves state on its connection that a fresh one lacks.
fn alters_connection(ctx: &AuthContext<'_>) -> bool {
    match ctx.action {
        AuthAction::Pragma {
            pragma_name,
            pragma_value: Some(_),
        } => !FILE_PRAGMAS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(pragma_name)),
        AuthAction::Attach { .. }
        | AuthAction::Detach { .. }
        | AuthAction::CreateTempTable { .. }
        | AuthAction::CreateTempIndex { .. }
        | AuthAction::CreateTempTrigger { .. }
        | AuthAction::CreateTempView { .. } => true,
        // `CREATE TABLE temp.x` and the like name the schema instead of saying TEMP.
        AuthAction::CreateTable { .. }
        | AuthAction::CreateIndex { .. }
        | AuthAction::CreateTrigger { .. }
        | AuthAction::CreateView { .. }
        | AuthAction::CreateVtable { .. } => ctx.database_name == Some("temp"),
        _ => false,
    }
}

/// A connection a guest uses, with what the authorizer saw prepared on it.
pub struct GuestConnection {
    conn: Connection,
    altered: Arc<AtomicBool>,
}

impl GuestConnection {
    fn new(conn: Connection) -> Self {
        let altered = Arc::new(AtomicBool::new(false));
        let seen = altered.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            if alters_connection(&ctx) {
                seen.store(true, Ordering::Relaxed);
            }
            Authorization::Allow
        }));
        Self { conn, altered }
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// This connection as the next guest may have it (transaction rolled back), or `None`
    /// when it must be closed instead.
    fn into_reusable(self) -> Option<Self> {
        if !self.conn.is_autocommit() {
            // Also undoes savepoints opened without `BEGIN`.
            self.conn.execute_batch("ROLLBACK").ok()?;
        }
        let like_new = self.conn.is_autocommit()
            && !self.altered.load(Ordering::Relaxed)
            && self.conn.total_changes() == 0
            && self.conn.last_insert_rowid() == 0;
        like_new.then_some(self)
    }
}

/// A database a guest may open.
pub enum Database {
    /// A file, created with its parent directories when missing; its connections are reused.
    File {
        path: PathBuf,
        idle: IdlePool<GuestConnection>,
        /// Connections opened so far.
        opened: AtomicUsize,
    },
    /// A fresh private in-memory database per connection (Spin's behaviour with no path).
    InMemory,
}

impl Database {
    pub fn file(path: PathBuf) -> Self {
        Self::File {
            path,
            idle: IdlePool::new(MAX_IDLE_CONNECTIONS),
            opened: AtomicUsize::new(0),
        }
    }

    /// A connection for one guest handle: an idle one of this file, or a new one.
    pub fn connect(&self) -> rusqlite::Result<GuestConnection> {
        match self {
            Self::File { path, idle, opened } => match idle.take() {
                Some(conn) => Ok(conn),
                None => {
                    // Power-loss durable, like SQLite's (and Spin's) default of `synchronous
                    // = FULL`: a guest's commit is on disk when it returns.
                    let conn = sqlite_file::open(path, Durability::PowerLoss)?;
                    opened.fetch_add(1, Ordering::Relaxed);
                    Ok(GuestConnection::new(conn))
                }
            },
            Self::InMemory => Ok(GuestConnection::new(Connection::open_in_memory()?)),
        }
    }

    /// Takes back the connection of a handle the guest dropped: kept for the next guest if
    /// it can pass for a fresh one, closed otherwise (rolling back whatever was open).
    pub fn release(&self, conn: GuestConnection) {
        if let Self::File { idle, .. } = self
            && let Some(conn) = conn.into_reusable()
        {
            idle.put(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        _dir: tempfile::TempDir,
        db: Database,
    }

    fn file_database() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::file(dir.path().join("db.sqlite"));
        let conn = db.connect().unwrap();
        conn.conn()
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        db.release(conn);
        Fixture { _dir: dir, db }
    }

    fn opened(db: &Database) -> usize {
        match db {
            Database::File { opened, .. } => opened.load(Ordering::Relaxed),
            Database::InMemory => unreachable!(),
        }
    }

    /// Runs `sql` on a connection of `db` and releases it: whether the next connect reuses
    /// that connection rather than opening another.
    fn reused_after(db: &Database, sql: &str) -> bool {
        let conn = db.connect().unwrap();
        conn.conn().execute_batch(sql).unwrap();
        db.release(conn);
        let before = opened(db);
        let next = db.connect().unwrap();
        let reused = opened(db) == before;
        db.release(next);
        reused
    }

    #[test]
    fn a_read_only_connection_is_reused() {
        let f = file_database();
        assert!(reused_after(&f.db, "SELECT * FROM t"));
        assert!(reused_after(&f.db, "PRAGMA user_version"));
        assert!(reused_after(&f.db, "PRAGMA table_info(t)"));
    }

    #[test]
    fn a_transaction_left_open_is_rolled_back_before_reuse() {
        let f = file_database();
        assert!(reused_after(&f.db, "BEGIN; SELECT * FROM t"));
        assert!(reused_after(&f.db, "BEGIN IMMEDIATE"));
        assert!(reused_after(&f.db, "SAVEPOINT s"));
        let conn = f.db.connect().unwrap();
        assert!(conn.conn().is_autocommit());
        // The write lock was released with the rollback: another connection can write.
        let other = Connection::open(match &f.db {
            Database::File { path, .. } => path,
            Database::InMemory => unreachable!(),
        })
        .unwrap();
        other.execute("INSERT INTO t VALUES (1)", []).unwrap();
        f.db.release(conn);
    }

    #[test]
    fn a_connection_that_changed_rows_is_closed_so_the_counters_start_at_zero() {
        let f = file_database();
        assert!(!reused_after(&f.db, "INSERT INTO t VALUES (1)"));
        assert!(!reused_after(&f.db, "BEGIN; INSERT INTO t VALUES (2)"));
        assert!(!reused_after(&f.db, "DELETE FROM t"));
        let conn = f.db.connect().unwrap();
        let counters: (i64, i64, i64) = conn
            .conn()
            .query_row(
                "SELECT changes(), total_changes(), last_insert_rowid()",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(counters, (0, 0, 0));
        let rows: i64 = conn
            .conn()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0, "the uncommitted insert was rolled back");
        f.db.release(conn);
    }

    #[test]
    fn a_connection_with_settings_or_objects_of_its_own_is_closed() {
        let f = file_database();
        for sql in [
            "PRAGMA foreign_keys = ON",
            "PRAGMA cache_size = 10",
            "PRAGMA query_only = 1",
            "CREATE TEMP TABLE scratch (x)",
            "CREATE TABLE temp.scratch (x)",
            "CREATE TEMP VIEW v AS SELECT 1",
            "CREATE VIEW temp.v AS SELECT 1",
            "CREATE VIRTUAL TABLE temp.e USING rtree(id, a, b)",
            "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
            "ATTACH ':memory:' AS other",
        ] {
            assert!(!reused_after(&f.db, sql), "{sql}");
        }
        // Changing the file, not the connection:
        assert!(reused_after(&f.db, "PRAGMA user_version = 7"));
        assert!(reused_after(
            &f.db,
            "CREATE TABLE IF NOT EXISTS t (x INTEGER)"
        ));
    }

    #[test]
    fn in_memory_databases_are_never_shared() {
        let db = Database::InMemory;
        let conn = db.connect().unwrap();
        conn.conn().execute_batch("CREATE TABLE t (x)").unwrap();
        db.release(conn);
        let conn = db.connect().unwrap();
        let tables: i64 = conn
            .conn()
            .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
