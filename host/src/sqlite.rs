//! `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`: labelled SQLite databases.
//!
//! Spin's semantics: every guest `open` is a connection of its own (so `BEGIN`/`COMMIT` work
//! within one handle and two handles never share a transaction), one statement per `execute`,
//! every SQL failure is `io(message)`, and an ungranted label is `access-denied`. Unlike Spin,
//! the rusqlite connection behind a handle may have served an earlier handle: see
//! [`crate::sqlite_reuse`] for why no guest can tell.

use crate::bindings::fermyon::spin2_0_0::sqlite as v2;
use crate::bindings::spin::sqlite::sqlite as v3;
use crate::sqlite_reuse::{Database, GuestConnection};
use crate::state::InstanceState;
use anyhow::Context as _;
use rusqlite::types::ValueRef;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::Resource;

/// Spin answers `io("too many connections opened")` past this many handles in one instance.
const MAX_OPEN_CONNECTIONS: usize = 256;

/// The built-in `default` database's file name in the state dir (Spin's name).
pub const DEFAULT_DATABASE_FILE: &str = "sqlite_db.db";

/// Where a database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A file, created with its parent directories when missing.
    File(PathBuf),
    /// A fresh private in-memory database per connection (Spin's behaviour with no path).
    InMemory,
}

/// Where the built-in `default` database lives: `<state_dir>/sqlite_db.db`, or memory.
pub fn default_location(state_dir: Option<&Path>) -> DbLocation {
    match state_dir {
        Some(dir) => DbLocation::File(dir.join(DEFAULT_DATABASE_FILE)),
        None => DbLocation::InMemory,
    }
}

/// Every database label the app defines (validated at start-up).
#[derive(Default)]
pub struct SqliteDatabases {
    databases: HashMap<String, Arc<Database>>,
}

impl SqliteDatabases {
    /// Creates the parent directories of every file database up front, so the first request
    /// does not race to do it and a read-only state dir fails at start-up, not mid-request.
    /// Labels naming the same file share its idle connections.
    pub fn new(locations: &BTreeMap<String, DbLocation>) -> anyhow::Result<Self> {
        let mut files: HashMap<&Path, Arc<Database>> = HashMap::new();
        let mut databases = HashMap::new();
        for (label, location) in locations {
            let database = match location {
                DbLocation::File(path) => {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir).with_context(|| {
                            format!("sqlite database `{label}`: creating {}", dir.display())
                        })?;
                    }
                    files
                        .entry(path)
                        .or_insert_with(|| Arc::new(Database::file(path.clone())))
                        .clone()
                }
                DbLocation::InMemory => Arc::new(Database::InMemory),
            };
            databases.insert(label.clone(), database);
        }
        Ok(Self { databases })
    }

    /// The subset of databases one component was granted by `sqlite_databases`.
    pub fn grant(&self, labels: &[String]) -> SqliteGrant {
        let databases = labels
            .iter()
            .filter_map(|l| Some((l.clone(), self.databases.get(l)?.clone())))
            .collect();
        SqliteGrant { databases }
    }
}

/// The databases one component may open.
#[derive(Default)]
pub struct SqliteGrant {
    databases: HashMap<String, Arc<Database>>,
}

/// Per-instance SQLite state.
pub struct SqliteInstance {
    grant: Arc<SqliteGrant>,
    open_connections: usize,
}

impl SqliteInstance {
    pub fn new(grant: Arc<SqliteGrant>) -> Self {
        Self {
            grant,
            open_connections: 0,
        }
    }
}

/// A guest's connection handle; the rusqlite connection is taken on first use, like Spin
/// opens it, and given back to its database when the handle is dropped.
pub struct SqliteConnection {
    database: Arc<Database>,
    /// `None` before the first statement, and while a statement runs on the blocking pool.
    conn: Option<GuestConnection>,
    last_insert_rowid: i64,
    changes: u64,
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        // A transaction still open is rolled back, as closing a Spin connection does.
        if let Some(conn) = self.conn.take() {
            self.database.release(conn);
        }
    }
}

/// A column value independent of the WIT version it came from.
enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

/// What one `execute` produced.
struct Executed {
    columns: Vec<String>,
    rows: Vec<Vec<SqlValue>>,
    last_insert_rowid: i64,
    changes: u64,
}

fn run_statement(
    conn: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<SqlValue>,
) -> rusqlite::Result<Executed> {
    // `prepare` (not `execute_batch`) refuses a string holding several statements with
    // "Multiple statements provided", which is exactly the error Spin gives.
    let mut stmt = conn.prepare_cached(statement)?;
    for (i, value) in parameters.into_iter().enumerate() {
        let index = i + 1;
        match value {
            SqlValue::Integer(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Real(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Text(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Blob(v) => stmt.raw_bind_parameter(index, v)?,
            SqlValue::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null)?,
        }
    }
    let mut rows = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next()? {
        let width = row.as_ref().column_count();
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(v) => SqlValue::Integer(v),
                ValueRef::Real(v) => SqlValue::Real(v),
                ValueRef::Text(v) => SqlValue::Text(String::from_utf8_lossy(v).into_owned()),
                ValueRef::Blob(v) => SqlValue::Blob(v.to_vec()),
            });
        }
        rows.push(values);
    }
    drop(cursor);
    // Read after running: a cached statement whose table another connection altered (`SELECT
    // *` after `ADD COLUMN`) is re-prepared by its first step, and only then names the new
    // columns.
    let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    Ok(Executed {
        columns,
        rows,
        last_insert_rowid: conn.last_insert_rowid(),
        changes: conn.changes(),
    })
}

/// Why a guest call failed, before it is expressed in either WIT version's error type.
enum SqlFailure {
    AccessDenied,
    Io(String),
}

impl InstanceState {
    fn sqlite_open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, SqlFailure>> {
        let Some(database) = self.sqlite.grant.databases.get(&database).cloned() else {
            return Ok(Err(SqlFailure::AccessDenied));
        };
        if self.sqlite.open_connections >= MAX_OPEN_CONNECTIONS {
            return Ok(Err(SqlFailure::Io("too many connections opened".into())));
        }
        self.sqlite.open_connections += 1;
        let handle = SqliteConnection {
            database,
            conn: None,
            last_insert_rowid: 0,
            changes: 0,
        };
        Ok(Ok(self.table.push(handle)?))
    }

    async fn sqlite_execute(
        &mut self,
        handle: &Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<Executed, SqlFailure>> {
        let connection = self.table.get_mut(handle)?;
        let taken = connection.conn.take();
        let database = connection.database.clone();
        // The connection moves to the blocking pool and back. If this future is dropped
        // meanwhile (the instance is going away), it is closed there instead of reused.
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let conn = match taken {
                Some(conn) => conn,
                None => match database.connect() {
                    Ok(conn) => conn,
                    Err(e) => return (None, Err(e.to_string())),
                },
            };
            let result =
                run_statement(conn.conn(), &statement, parameters).map_err(|e| e.to_string());
            (Some(conn), result)
        })
        .await?;
        let connection = self.table.get_mut(handle)?;
        connection.conn = conn;
        Ok(match result {
            Ok(executed) => {
                connection.last_insert_rowid = executed.last_insert_rowid;
                connection.changes = executed.changes;
                Ok(executed)
            }
            Err(msg) => Err(SqlFailure::Io(msg)),
        })
    }

    fn sqlite_drop(&mut self, handle: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        // Dropping the handle rolls back any transaction left open, as in Spin.
        self.table.delete(handle)?;
        self.sqlite.open_connections = self.sqlite.open_connections.saturating_sub(1);
        Ok(())
    }
}

/// Implements one WIT version's `sqlite` interface over the shared logic above; the two
/// versions differ only in their generated type paths and v3's two extra accessors.
macro_rules! sqlite_interface {
    ($wit:ident) => {
        impl From<SqlFailure> for $wit::Error {
            fn from(f: SqlFailure) -> Self {
                match f {
                    SqlFailure::AccessDenied => $wit::Error::AccessDenied,
                    SqlFailure::Io(msg) => $wit::Error::Io(msg),
                }
            }
        }

        impl From<$wit::Value> for SqlValue {
            fn from(v: $wit::Value) -> Self {
                match v {
                    $wit::Value::Integer(v) => SqlValue::Integer(v),
                    $wit::Value::Real(v) => SqlValue::Real(v),
                    $wit::Value::Text(v) => SqlValue::Text(v),
                    $wit::Value::Blob(v) => SqlValue::Blob(v),
                    $wit::Value::Null => SqlValue::Null,
                }
            }
        }

        impl From<SqlValue> for $wit::Value {
            fn from(v: SqlValue) -> Self {
                match v {
                    SqlValue::Integer(v) => $wit::Value::Integer(v),
                    SqlValue::Real(v) => $wit::Value::Real(v),
                    SqlValue::Text(v) => $wit::Value::Text(v),
                    SqlValue::Blob(v) => $wit::Value::Blob(v),
                    SqlValue::Null => $wit::Value::Null,
                }
            }
        }

        impl From<Executed> for $wit::QueryResult {
            fn from(e: Executed) -> Self {
                $wit::QueryResult {
                    columns: e.columns,
                    rows: e
                        .rows
                        .into_iter()
                        .map(|values| $wit::RowResult {
                            values: values.into_iter().map(Into::into).collect(),
                        })
                        .collect(),
                }
            }
        }

        impl $wit::Host for InstanceState {}
    };
}

sqlite_interface!(v2);
sqlite_interface!(v3);

impl v2::HostConnection for InstanceState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, v2::Error>> {
        Ok(self.sqlite_open(database)?.map_err(Into::into))
    }

    async fn execute(
        &mut self,
        handle: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> wasmtime::Result<Result<v2::QueryResult, v2::Error>> {
        let params = parameters.into_iter().map(Into::into).collect();
        let result = self.sqlite_execute(&handle, statement, params).await?;
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn drop(&mut self, handle: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.sqlite_drop(handle)
    }
}

impl v3::HostConnection for InstanceState {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, v3::Error>> {
        Ok(self.sqlite_open(database)?.map_err(Into::into))
    }

    async fn execute(
        &mut self,
        handle: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<Result<v3::QueryResult, v3::Error>> {
        let params = parameters.into_iter().map(Into::into).collect();
        let result = self.sqlite_execute(&handle, statement, params).await?;
        Ok(result.map(Into::into).map_err(Into::into))
    }

    async fn last_insert_rowid(
        &mut self,
        handle: Resource<SqliteConnection>,
    ) -> wasmtime::Result<i64> {
        Ok(self.table.get(&handle)?.last_insert_rowid)
    }

    async fn changes(&mut self, handle: Resource<SqliteConnection>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&handle)?.changes)
    }

    async fn drop(&mut self, handle: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.sqlite_drop(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(executed: &Executed) -> Vec<&str> {
        executed.columns.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_cached_select_star_shows_columns_another_connection_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let reused = rusqlite::Connection::open(&path).unwrap();
        reused.execute_batch("CREATE TABLE t (x)").unwrap();
        let before = run_statement(&reused, "SELECT * FROM t", Vec::new()).unwrap();
        assert_eq!(names(&before), ["x"]);

        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("ALTER TABLE t ADD COLUMN y").unwrap();
        let empty = run_statement(&reused, "SELECT * FROM t", Vec::new()).unwrap();
        assert_eq!(names(&empty), ["x", "y"], "no rows");

        other
            .execute_batch("ALTER TABLE t ADD COLUMN z; INSERT INTO t VALUES (1, 2, 3)")
            .unwrap();
        let full = run_statement(&reused, "SELECT * FROM t", Vec::new()).unwrap();
        assert_eq!(names(&full), ["x", "y", "z"]);
        assert_eq!(full.rows[0].len(), 3);
    }
}
