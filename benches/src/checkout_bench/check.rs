//! What the runs left in the checkout component's database, read beside the running server
//! (`checkout.db`, its tables as `components/checkout/src/store.rs` and `crates/outbox` make
//! them): so the report can show the requests did the work they claim — replaced checkouts gave
//! their holds back, every webhook delivery went into the inbox, paid checkouts recorded their
//! saga start and it was published.

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// Counts in `checkout.db`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ledger {
    pub checkouts: u64,
    pub open: u64,
    pub replaced: u64,
    pub paid: u64,
    /// Ended unpaid (replaced, expired, failed) with their stock or balance still held.
    pub unreleased: u64,
    /// Stripe events in the inbox.
    pub events: u64,
    /// Saga starts (and any other outbox event) published to Redis.
    pub published: u64,
    /// Outbox events waiting for a relay.
    pub pending: u64,
}

impl Ledger {
    /// Reads the counts of the database at `path` (all zero before the component made its
    /// schema).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let count = |sql: &str| -> anyhow::Result<u64> {
            Ok(conn.query_row(sql, [], |row| row.get::<_, i64>(0))? as u64)
        };
        if count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'checkouts'")? == 0 {
            return Ok(Self::default());
        }
        Ok(Self {
            checkouts: count("SELECT COUNT(*) FROM checkouts")?,
            open: count("SELECT COUNT(*) FROM checkouts WHERE status = 'open'")?,
            replaced: count("SELECT COUNT(*) FROM checkouts WHERE status = 'replaced'")?,
            paid: count("SELECT COUNT(*) FROM checkouts WHERE status = 'paid'")?,
            unreleased: count(
                "SELECT COUNT(*) FROM checkouts WHERE status IN ('expired', 'failed', 'replaced')
                 AND holds_released_at IS NULL",
            )?,
            events: count("SELECT COUNT(*) FROM stripe_events")?,
            published: count("SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL")?,
            pending: count("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")?,
        })
    }

    /// What changed from `before` to `self` (`unreleased`, `open` and `pending` as they are now).
    pub fn since(&self, before: &Ledger) -> Ledger {
        Ledger {
            checkouts: self.checkouts - before.checkouts,
            open: self.open,
            replaced: self.replaced - before.replaced,
            paid: self.paid - before.paid,
            unreleased: self.unreleased,
            events: self.events - before.events,
            published: self.published - before.published,
            pending: self.pending,
        }
    }
}
