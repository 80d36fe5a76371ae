//! Where each saga's time went, read from the timestamps the app itself writes (milliseconds,
//! UTC, one clock: the bench and the hosts run on the same machine):
//! - `checkout.db`, `outbox`: the saga start (`checkout.paid`) recorded by the webhook
//!   (`created_at`, in the webhook's transaction) and sent to Redis (`published_at`);
//! - `saga.db`: the saga begun by the events component (`sagas.created_at`) and each step done
//!   (`saga_steps.done_at`, written when the step's outcome is kept);
//! - `orders.db`: the order's move to COMPLETED (`orders.updated_at`).
//!
//! The databases are read beside the running server, read-only, between or after the sagas;
//! a reader never changes what it reads, and in WAL mode (reen-host) it does not block the app.

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// One saga as the bench drove it and the app recorded it.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The bench's clock when the webhook delivery was sent and when its 200 came back.
    pub sent: i64,
    pub answered: i64,
    /// `checkout.paid` recorded in the outbox (first record) and published.
    pub recorded: Option<i64>,
    pub published: Option<i64>,
    /// The events component began the saga.
    pub begun: Option<i64>,
    /// Each step's name and when it was done, in the order done.
    pub steps: Vec<(String, i64)>,
    /// The order's status and when it last moved.
    pub status: Option<String>,
    pub completed: Option<i64>,
}

impl Timeline {
    /// Webhook sent to order COMPLETED, when it completed.
    pub fn latency(&self) -> Option<i64> {
        Some(self.completed? - self.sent)
    }
}

/// The stores of one host.
pub struct Stores<'a> {
    pub checkout: &'a Path,
    pub saga: &'a Path,
    pub orders: &'a Path,
}

fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Polls `orders.db` for orders (opened once the orders component made it).
pub struct Orders {
    path: std::path::PathBuf,
    conn: Option<Connection>,
}

impl Orders {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            conn: None,
        }
    }

    /// The status of the order of checkout `id`, if the saga placed it yet.
    pub fn status(&mut self, id: &str) -> anyhow::Result<Option<String>> {
        if self.conn.is_none() && self.path.exists() {
            self.conn = Some(open(&self.path)?);
        }
        let Some(conn) = &self.conn else {
            return Ok(None);
        };
        let found = conn
            .query_row(
                "SELECT status FROM orders WHERE checkout_id = ?",
                [id],
                |row| row.get(0),
            )
            .optional();
        match found {
            Ok(status) => Ok(status),
            // The file exists, its schema not yet.
            Err(e) if e.to_string().contains("no such table") => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// How many of `ids` are not COMPLETED or REFUNDED yet.
    pub fn unsettled(&mut self, ids: &[String]) -> anyhow::Result<usize> {
        let mut left = 0;
        for id in ids {
            if !matches!(self.status(id)?.as_deref(), Some("COMPLETED" | "REFUNDED")) {
                left += 1;
            }
        }
        Ok(left)
    }
}

/// Fills in what the app recorded for every saga of `sagas` (by checkout id).
pub fn read(stores: &Stores, sagas: &mut HashMap<String, Timeline>) -> anyhow::Result<()> {
    let checkout = open(stores.checkout)?;
    let mut outbox = checkout.prepare(
        "SELECT min(created_at), min(published_at) FROM outbox
         WHERE json_extract(payload, '$.type') = 'checkout.paid'
           AND json_extract(payload, '$.checkoutId') = ?",
    )?;
    let saga = open(stores.saga)?;
    let mut begun = saga.prepare("SELECT created_at FROM sagas WHERE id = ?")?;
    let mut steps =
        saga.prepare("SELECT step, done_at FROM saga_steps WHERE saga_id = ? ORDER BY done_at")?;
    let orders = open(stores.orders)?;
    let mut order =
        orders.prepare("SELECT status, updated_at FROM orders WHERE checkout_id = ?")?;
    for (id, timeline) in sagas.iter_mut() {
        (timeline.recorded, timeline.published) =
            outbox.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        timeline.begun = begun.query_row([id], |row| row.get(0)).optional()?;
        timeline.steps = steps
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if let Some((status, at)) = order
            .query_row([id], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
            .optional()?
        {
            timeline.completed = (status == "COMPLETED").then_some(at);
            timeline.status = Some(status);
        }
    }
    Ok(())
}

/// A phase of a saga's life, from one recorded moment to another.
pub struct Phase {
    pub name: String,
    /// Milliseconds each saga spent in it, ascending.
    pub millis: Vec<i64>,
}

impl Phase {
    fn new(name: String) -> Self {
        Self {
            name,
            millis: Vec::new(),
        }
    }
}

/// The phases of `sagas`: the webhook's, the hand-off through the outbox and Redis, then each
/// step (time since the one before; the first since the saga was begun), as the first saga
/// did them. A saga that did other steps counts in the first phases only.
pub fn phases(sagas: &[&Timeline]) -> Vec<Phase> {
    let Some(first) = sagas.first() else {
        return Vec::new();
    };
    let mut phases: Vec<Phase> = [
        "webhook: sent → saga start recorded (in its transaction)",
        "webhook: start recorded → 200 received (commit, relay, answer)",
        "outbox: start recorded → published to Redis",
        "Redis: published → saga begun (delivery, instance, lease)",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(first.steps.iter().map(|(step, _)| format!("step {step}")))
    .map(Phase::new)
    .collect();
    for saga in sagas {
        let spans = [
            saga.recorded.map(|recorded| (saga.sent, recorded)),
            saga.recorded.map(|recorded| (recorded, saga.answered)),
            saga.recorded.zip(saga.published),
            saga.published.zip(saga.begun),
        ];
        for (phase, span) in phases.iter_mut().zip(spans) {
            if let Some((from, to)) = span {
                phase.millis.push(to - from);
            }
        }
        let same_steps = saga.steps.len() == first.steps.len()
            && saga.steps.iter().zip(&first.steps).all(|(a, b)| a.0 == b.0);
        if let (Some(begun), true) = (saga.begun, same_steps) {
            let mut previous = begun;
            for (phase, (_, done)) in phases[4..].iter_mut().zip(&saga.steps) {
                phase.millis.push(done - previous);
                previous = *done;
            }
        }
    }
    for phase in &mut phases {
        phase.millis.sort_unstable();
    }
    phases
}
