//! The app's SQLite files as another process sees them: a test holds a database's write lock
//! to stop the app at a known point (a request needing the lock waits), and reads what the app
//! wrote to know when it got there.

use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// A write lock on one of the app's database files, held until released or dropped.
pub struct WriteLock(pub Connection);

impl WriteLock {
    pub fn take(state: &Path, database: &str) -> Self {
        let db = Connection::open(state.join(database)).expect("opening the database");
        db.busy_timeout(Duration::from_secs(5)).unwrap();
        db.execute_batch("BEGIN IMMEDIATE")
            .expect("taking the write lock");
        Self(db)
    }

    pub fn release(self) {
        self.0
            .execute_batch("COMMIT")
            .expect("releasing the write lock");
    }
}

/// Reads `sql` (one integer) from a database file until it is at least `at_least`.
pub async fn wait_for(state: &Path, database: &str, sql: &str, at_least: i64, what: &str) {
    let db = Connection::open(state.join(database)).expect("opening the database");
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let count: i64 = db.query_row(sql, [], |row| row.get(0)).unwrap_or(0);
        if count >= at_least {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
