//! The rows of the key-value stores: one SQLite file (or in-memory database) per location,
//! in the table layout of Spin's `spin` provider (`spin_key_value(store, key, value)`), so a
//! state directory is interchangeable between reen-host and Spin.
//!
//! Each operation is one SQL statement, hence atomic. A file has one writer connection,
//! shared behind a mutex (writes queue in the process instead of polling SQLite's lock), and
//! up to [`MAX_IDLE_READERS`] idle reader connections; the file is in WAL mode, so a read
//! never waits for a write in progress and starts from the latest commit: a `set` that
//! returned is seen by every later `get`, from any request.
//!
//! Durability: WAL with `synchronous = NORMAL` ([`Durability::ProcessCrash`]): a `set` that
//! returned survives the host process crashing or being killed; a power loss or OS crash
//! can lose the writes since the last checkpoint (SQLite checkpoints each time the WAL
//! reaches ~4 MiB), never corrupting the file. Spin's own provider keeps SQLite's defaults (rollback journal, `synchronous =
//! FULL`: every write survives a power loss, at the cost of four fsyncs per `set`). For the
//! `identity` projection this means a power loss can undo its last changes: auth publishes
//! a user again on sign-in, but a lost withdrawal lets a deleted user's access tokens that
//! have not expired yet pass the guards again.
//!
//! An in-memory store is one private database that only its own connection can see, so it
//! keeps a single connection for reads and writes alike.

use crate::bindings::fermyon::spin2_0_0::key_value::Error;
use crate::sqlite_file::{self, Durability, IdlePool};
use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::PathBuf;
use std::sync::Mutex;

/// Idle reader connections kept per file. Readers are opened only when every idle one is
/// taken, so a file keeps at most as many as reads ran at once, up to this bound. Each holds
/// its own page cache, up to SQLite's default of 2 MiB.
const MAX_IDLE_READERS: usize = 64;

/// Where a store's rows live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvLocation {
    /// A SQLite file (created with its parent directories when missing).
    File(PathBuf),
    /// Process memory: gone when the app stops (Spin's behaviour with no state dir).
    InMemory,
}

/// One SQLite file (or in-memory database) holding the rows of one or more store labels.
pub struct KvBackend {
    /// Every write, and for an in-memory store every read too.
    writer: Mutex<Connection>,
    /// The file read from by reader connections; `None` in memory.
    readers: Option<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: IdlePool<Connection>,
}

impl KvBackend {
    pub fn open(location: &KvLocation) -> anyhow::Result<Self> {
        let (writer, readers) = match location {
            KvLocation::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let writer = sqlite_file::open(path, Durability::ProcessCrash)
                    .with_context(|| format!("opening key-value file {}", path.display()))?;
                let readers = Readers {
                    path: path.clone(),
                    idle: IdlePool::new(MAX_IDLE_READERS),
                };
                (writer, Some(readers))
            }
            KvLocation::InMemory => (Connection::open_in_memory()?, None),
        };
        writer.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
                PRIMARY KEY (store, key))",
            [],
        )?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
        })
    }

    fn write<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let conn = self
            .writer
            .lock()
            .map_err(|_| Error::Other("key-value store lock poisoned".into()))?;
        f(&conn).map_err(|e| Error::Other(e.to_string()))
    }

    /// Runs one read statement on an idle reader (or a new one), then gives the reader back.
    /// The statement is reset when `f` returns, so an idle reader holds no snapshot.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        let Some(readers) = &self.readers else {
            return self.write(f);
        };
        let conn = match readers.idle.take() {
            Some(conn) => conn,
            None => sqlite_file::open(&readers.path, Durability::ProcessCrash)
                .map_err(|e| Error::Other(e.to_string()))?,
        };
        let result = f(&conn).map_err(|e| Error::Other(e.to_string()));
        readers.idle.put(conn);
        result
    }

    pub fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row(params![store, key], |row| row.get(0))
                .optional()
        })
    }

    pub fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<(), Error> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![store, key, value])
            .map(drop)
        })
    }

    pub fn delete(&self, store: &str, key: &str) -> Result<(), Error> {
        self.write(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute(params![store, key])
                .map(drop)
        })
    }

    pub fn keys(&self, store: &str) -> Result<Vec<String>, Error> {
        self.read(|c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                .query_map(params![store], |row| row.get(0))?
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn file_backend() -> (tempfile::TempDir, Arc<KvBackend>) {
        let dir = tempfile::tempdir().unwrap();
        let backend = KvBackend::open(&KvLocation::File(dir.path().join("kv/store.db"))).unwrap();
        (dir, Arc::new(backend))
    }

    #[test]
    fn a_read_does_not_wait_for_a_write_in_progress() {
        let (_dir, backend) = file_backend();
        backend.set("s", "k", b"old").unwrap();
        // A write holding the writer and SQLite's write lock, not yet committed.
        let writer = backend.writer.lock().unwrap();
        writer
            .execute_batch("BEGIN IMMEDIATE; UPDATE spin_key_value SET value = x'00'")
            .unwrap();
        let reader = backend.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(reader.get("s", "k")));
        let read = rx
            .recv_timeout(Duration::from_secs(2))
            .expect("the read finished while the write was in progress");
        assert_eq!(
            read.ok(),
            Some(Some(b"old".to_vec())),
            "the last committed value"
        );
        writer.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn a_set_that_returned_is_seen_by_every_later_get_on_any_reader() {
        let (_dir, backend) = file_backend();
        // Readers with snapshots of their own, idle in the pool.
        let held: Vec<_> = (0..4)
            .map(|_| {
                sqlite_file::open(
                    &backend.readers.as_ref().unwrap().path,
                    Durability::ProcessCrash,
                )
                .unwrap()
            })
            .collect();
        for conn in held {
            conn.query_row("SELECT COUNT(*) FROM spin_key_value", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
            backend.readers.as_ref().unwrap().idle.put(conn);
        }
        for i in 0..50 {
            let value = format!("v{i}");
            backend.set("s", "k", value.as_bytes()).unwrap();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let backend = backend.clone();
                    std::thread::spawn(move || backend.get("s", "k").unwrap())
                })
                .collect();
            for thread in threads {
                assert_eq!(thread.join().unwrap(), Some(value.as_bytes().to_vec()));
            }
        }
        assert_eq!(backend.keys("s").unwrap(), ["k"]);
    }

    #[test]
    fn readers_are_reused_and_bounded() {
        let (_dir, backend) = file_backend();
        backend.set("s", "k", b"v").unwrap();
        let readers = &backend.readers.as_ref().unwrap().idle;
        for _ in 0..10 {
            backend.get("s", "k").unwrap();
        }
        assert_eq!(
            readers.idle_count(),
            1,
            "one reader served ten sequential reads"
        );
        for _ in 0..MAX_IDLE_READERS + 4 {
            readers.put(
                sqlite_file::open(
                    &backend.readers.as_ref().unwrap().path,
                    Durability::ProcessCrash,
                )
                .unwrap(),
            );
        }
        assert_eq!(readers.idle_count(), MAX_IDLE_READERS);
    }

    #[test]
    fn the_file_is_in_wal_mode_with_its_wal_beside_it() {
        let (dir, backend) = file_backend();
        backend.set("s", "k", b"v").unwrap();
        let mode: String = backend
            .writer
            .lock()
            .unwrap()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert!(dir.path().join("kv/store.db-wal").exists());
    }

    #[test]
    fn an_in_memory_store_reads_what_it_wrote() {
        let backend = KvBackend::open(&KvLocation::InMemory).unwrap();
        assert!(backend.readers.is_none());
        backend.set("a", "k", b"1").unwrap();
        backend.set("b", "k", b"2").unwrap();
        assert_eq!(backend.get("a", "k").ok(), Some(Some(b"1".to_vec())));
        assert_eq!(backend.keys("b").ok(), Some(vec!["k".to_owned()]));
        backend.delete("a", "k").unwrap();
        assert_eq!(backend.get("a", "k").ok(), Some(None));
    }
}
