//! The products component's read cache as the benches see it from outside: the `cache`
//! key-value store's file (`cache_kv.db` in the app's state directory), in the layout
//! reen-host shares with Spin's `spin` provider (`spin_key_value(store, key, value)`; WAL
//! mode since reen-host keeps its key-value files in WAL).
//!
//! Two uses, both while no request is in flight: replacing the cache generation exactly as the
//! component's `cache::invalidate()` does after a write (`products:generation` ← a fresh unique
//! value), which makes every cached read stale; and counting the host's writes that changed
//! the file. Every key-value `set` or `delete` touches one row of `spin_key_value`; triggers
//! this installs count the rows inserted, deleted, or updated to a different value, in a table
//! of their own (`bench_writes`), which is what the header's change counter counted in
//! rollback-journal mode (SQLite does not rewrite a page for an identical value). WAL mode,
//! in which reen-host keeps its key-value files, never bumps that counter. The component
//! writes the file once per cache miss (it stores the body it built) and never on a hit, so
//! the count's advance over a run is the number of misses (products-bench: requests that
//! missed at the same moment store identical bodies and count once), or 0 when every read
//! was a hit (cart-bench). The price: a host write that changes a row also updates the
//! one-row counter table, in the same transaction.

use anyhow::Context as _;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The store label and generation key of `components/products/src/cache.rs`.
const STORE: &str = "cache";
const GENERATION: &str = "products:generation";

pub struct CacheFile {
    path: PathBuf,
}

impl CacheFile {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    /// Makes every cached products read stale, as a product write does.
    pub fn invalidate(&self) -> anyhow::Result<()> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let generation = format!(
            "bench-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let conn = Connection::open(&self.path)
            .with_context(|| format!("opening {}", self.path.display()))?;
        conn.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(store, key) DO UPDATE SET value = excluded.value",
            params![STORE, GENERATION, generation.as_bytes()],
        )
        .context("replacing the products cache generation")?;
        Ok(())
    }

    /// Rows of `spin_key_value` inserted, deleted or changed since the first call, which
    /// installs the counting triggers.
    pub fn writes(&self) -> anyhow::Result<u32> {
        let conn = Connection::open(&self.path)
            .with_context(|| format!("opening {}", self.path.display()))?;
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS bench_writes (n INTEGER NOT NULL);
             INSERT INTO bench_writes SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM bench_writes);
             CREATE TRIGGER IF NOT EXISTS bench_count_insert AFTER INSERT ON spin_key_value
                 BEGIN UPDATE bench_writes SET n = n + 1; END;
             CREATE TRIGGER IF NOT EXISTS bench_count_update AFTER UPDATE ON spin_key_value
                 WHEN OLD.value IS NOT NEW.value
                 BEGIN UPDATE bench_writes SET n = n + 1; END;
             CREATE TRIGGER IF NOT EXISTS bench_count_delete AFTER DELETE ON spin_key_value
                 BEGIN UPDATE bench_writes SET n = n + 1; END;
             COMMIT;",
        )
        .context("installing the cache write counter")?;
        let n: i64 = conn.query_row("SELECT n FROM bench_writes", [], |r| r.get(0))?;
        Ok(n as u32)
    }
}
