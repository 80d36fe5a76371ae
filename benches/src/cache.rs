//! The products component's read cache as the benches see it from outside: the `cache`
//! key-value store's file (`cache_kv.db` in the app's state directory), in the layout
//! reen-host shares with Spin's `spin` provider (`spin_key_value(store, key, value)`, rollback
//! journal).
//!
//! Two uses, both while no request is in flight: replacing the cache generation exactly as the
//! component's `cache::invalidate()` does after a write (`products:generation` ← a fresh unique
//! value), which makes every cached read stale; and reading the file's change counter, which
//! SQLite bumps once per write transaction in rollback-journal mode. The component writes the
//! file once per cache miss (it stores the body it built) and never on a hit, so the counter's
//! advance over a run is exactly the number of misses (products-bench), or 0 when every read
//! was a hit (cart-bench).

use anyhow::{Context as _, ensure};
use rusqlite::{Connection, params};
use std::io::{Read as _, Seek as _, SeekFrom};
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

    /// The file change counter (database header, offset 24): write transactions so far.
    pub fn writes(&self) -> anyhow::Result<u32> {
        let conn = Connection::open(&self.path)?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        ensure!(
            !mode.eq_ignore_ascii_case("wal"),
            "{} is in WAL mode, where the change counter does not count writes",
            self.path.display()
        );
        drop(conn);
        let mut file = std::fs::File::open(&self.path)?;
        let mut counter = [0u8; 4];
        file.seek(SeekFrom::Start(24))?;
        file.read_exact(&mut counter)?;
        Ok(u32::from_be_bytes(counter))
    }
}
