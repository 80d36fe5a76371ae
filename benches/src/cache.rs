//! The products component's read cache as the benches see it from outside.
//!
//! Two uses, both while no request is in flight. Replacing the cache generation, which makes
//! every cached products read stale: it lives in the component's `products.db`
//! (`cache_generation`), where the schema's triggers replace it in the transaction of every
//! write (`components/products/src/cache.rs`); this does the same by hand. And counting the
//! host's writes that changed the `cache` key-value store's file (`cache_kv.db` in the app's
//! state directory, in the layout reen-host shares with Spin's `spin` provider:
//! `spin_key_value(store, key, value)`; WAL mode since reen-host keeps its key-value files in
//! WAL). Every key-value `set` or `delete` touches one row of `spin_key_value`; triggers this
//! installs count the rows inserted, deleted, or updated to a different value, in a table of
//! their own (`bench_writes`), which is what the header's change counter counted in
//! rollback-journal mode (SQLite does not rewrite a page for an identical value). WAL mode, in
//! which reen-host keeps its key-value files, never bumps that counter. The component writes
//! the file once per miss of a page it caches (it stores the body it built) and never on a hit
//! or for a query it does not cache, so the count's advance over a run is the number of those
//! misses (products-bench: requests that missed at the same moment store identical bodies and
//! count once), or 0 when every read was a hit or uncacheable. The price: a host write that
//! changes a row also updates the one-row counter table, in the same transaction.

use anyhow::Context as _;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Makes every cached products read stale, as a product write does: a fresh generation in the
/// component's `products.db` at `path`.
pub fn invalidate(path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.execute(
        "UPDATE cache_generation SET token = hex(randomblob(16))",
        [],
    )
    .context("replacing the products cache generation")?;
    Ok(())
}

/// The `cache` key-value store's file.
pub struct CacheFile {
    path: PathBuf,
}

impl CacheFile {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
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
