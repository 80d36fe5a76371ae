//! How the host opens the SQLite files behind key-value stores and guest databases, and the
//! idle list both keep connections in for reuse.
//!
//! Every file connection is in WAL mode: readers never wait for a writer (nor a writer for
//! readers), and a commit appends to `<file>-wal` instead of rewriting pages through a
//! rollback journal. `-wal` and `-shm` files live next to the database while it is open; the
//! last connection to close checkpoints the WAL back into the database and removes it. WAL is
//! a property of the file, so Spin (or the `sqlite3` shell) opening it later uses it too. It
//! needs shared memory between the processes using the file: not on a network file system.
//!
//! Writers still take SQLite's one write lock per file; a connection that finds it held
//! retries for [`BUSY_TIMEOUT`] before `database is locked` (rusqlite's default, which is
//! what Spin's connections get too), so `BEGIN IMMEDIATE` transactions queue.

use rusqlite::Connection;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// How long a statement waits for a lock held by another connection before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a commit that returned survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: the WAL is fsynced at every commit, so a commit that returned
    /// survives a power loss or OS crash. One fsync per commit (a rollback journal costs
    /// three or four).
    PowerLoss,
    /// `synchronous = NORMAL`: no fsync at commit (only at checkpoints). A commit that
    /// returned is in the OS and survives the host process crashing or being killed; a power
    /// loss or OS crash may lose the commits since the last checkpoint, never corrupting the
    /// file.
    ProcessCrash,
}

/// Opens `path` (created if missing) with the host's settings: busy timeout, WAL, and the
/// given durability.
pub fn open(path: &Path, durability: Durability) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Persistent in the file: a no-op after the first connection. If another process holds
    // the file in rollback mode and the switch fails, the rollback journal still works.
    match conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0)) {
        Ok(mode) if mode.eq_ignore_ascii_case("wal") => {}
        Ok(mode) => tracing::debug!("{}: journal mode stays {mode}", path.display()),
        Err(e) => tracing::debug!("{}: journal mode not changed: {e}", path.display()),
    }
    let synchronous = match durability {
        Durability::PowerLoss => "FULL",
        Durability::ProcessCrash => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    Ok(conn)
}

/// Connections (or anything holding one) waiting to be used again, at most `max` of them;
/// one given back past that is dropped, which closes it.
pub struct IdlePool<T> {
    idle: Mutex<Vec<T>>,
    max: usize,
}

impl<T> IdlePool<T> {
    pub fn new(max: usize) -> Self {
        Self {
            idle: Mutex::new(Vec::with_capacity(max)),
            max,
        }
    }

    /// The most recently returned idle item (its page cache is the warmest), if any.
    pub fn take(&self) -> Option<T> {
        self.idle.lock().ok()?.pop()
    }

    /// Keeps `item` for a later [`IdlePool::take`] unless `max` are idle already.
    pub fn put(&self, item: T) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        if idle.len() < self.max {
            idle.push(item);
            return;
        }
        // Dropped (closed) after the lock is released.
        drop(idle);
        drop(item);
    }

    /// How many items are idle now.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_opened_in_wal_mode_with_its_wal_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let conn = open(&path, Durability::ProcessCrash).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let synchronous: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(synchronous, 1, "NORMAL");
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .unwrap();
        assert!(dir.path().join("x.db-wal").exists());
        drop(conn);
        assert!(
            !dir.path().join("x.db-wal").exists(),
            "the last connection to close checkpoints and removes the WAL"
        );
    }

    #[test]
    fn power_loss_durability_is_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("x.db"), Durability::PowerLoss).unwrap();
        let synchronous: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(synchronous, 2, "FULL");
    }

    #[test]
    fn the_idle_pool_hands_back_the_latest_item_and_keeps_at_most_max() {
        let pool = IdlePool::new(2);
        assert_eq!(pool.take(), None::<u8>);
        pool.put(1);
        pool.put(2);
        pool.put(3);
        assert_eq!(pool.idle_count(), 2);
        assert_eq!(pool.take(), Some(2));
        assert_eq!(pool.take(), Some(1));
        assert_eq!(pool.take(), None);
    }
}
