//! A transactional outbox: a component records a domain event in the same database
//! transaction as the change it reports, and publishes it to the events channel (Redis
//! pub/sub) after the commit. Redis pub/sub delivers at most once and only to whoever listens
//! at that moment, so the row, not the message, is the durable part: an event whose publish
//! fails stays pending and goes out with the next relay. Delivery is at least once (two
//! concurrent relays may both send a row); consumers tolerate duplicates by the event `id`.
//!
//! Every event is one flat JSON object:
//!
//! ```json
//! {"type": "product.removed", "id": "<event id>", "occurredAt": "2026-05-01T12:00:00.000Z", ...}
//! ```
//!
//! Settings are the Spin variables `redis_url` (the component must be allowed that host) and
//! `events_channel`.
#![deny(missing_docs)]

use serde_json::{Map, Value as Json};
use spin_sdk::sqlite3::{Connection, Value};
use sqlite_store::StoreError;
use timestamp::Timestamp;

/// The outbox's schema, for the owning component's migrations (one statement each).
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        published_at INTEGER)",
    "CREATE INDEX outbox_pending ON outbox (created_at) WHERE published_at IS NULL",
];

/// How many pending events one relay sends at most (the rest go with the next one).
const BATCH: i64 = 100;

/// How long published events are kept for inspection before a relay deletes them.
const KEEP_PUBLISHED_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Records event `kind` with `fields` (`type`, `id` and `occurredAt` are added). Call inside
/// the transaction of the change it reports. Returns the event id.
pub fn record(
    db: &Connection,
    kind: &str,
    fields: &[(&str, Json)],
    now: Timestamp,
) -> Result<String, StoreError> {
    let id = ids::new_id();
    let mut event = Map::new();
    event.insert("type".into(), kind.into());
    event.insert("id".into(), id.clone().into());
    for (name, value) in fields {
        event.insert((*name).to_owned(), value.clone());
    }
    event.insert("occurredAt".into(), Json::String(now.to_string()));
    db.execute(
        "INSERT INTO outbox (id, payload, created_at) VALUES (?, ?, ?)",
        &[
            Value::Text(id.clone()),
            Value::Text(Json::Object(event).to_string()),
            Value::Integer(now.millis()),
        ],
    )?;
    Ok(id)
}

/// Where events go: a Redis server and a pub/sub channel.
struct Channel {
    /// `redis://host:port`.
    address: String,
    name: String,
}

impl Channel {
    /// From the variables `redis_url` and `events_channel`; `None` when either is empty.
    fn from_variables() -> Option<Self> {
        let get = |name: &str| {
            spin_sdk::variables::get(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Some(Self {
            address: get("redis_url")?,
            name: get("events_channel")?,
        })
    }
}

/// What a relay did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Relayed {
    /// Events sent now.
    pub published: usize,
    /// Events still waiting (a failed publish stops the relay; they go with the next one).
    pub pending: usize,
}

/// Publishes pending events, oldest first, marking each one sent. Best effort by design: it
/// runs after the change committed and answered nothing depends on it, so failures are logged
/// (event ids and the error only) and the events wait for the next relay.
pub fn relay(db: &Connection) -> Relayed {
    match try_relay(db, Channel::from_variables()) {
        Ok(relayed) => relayed,
        Err(e) => {
            eprintln!("outbox: relay failed: {e}");
            Relayed::default()
        }
    }
}

fn try_relay(db: &Connection, channel: Option<Channel>) -> Result<Relayed, StoreError> {
    let now = Timestamp::now().millis();
    db.execute(
        "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?",
        &[Value::Integer(now - KEEP_PUBLISHED_MS)],
    )?;
    let pending = db.execute(
        "SELECT id, payload FROM outbox WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT ?",
        &[Value::Integer(BATCH)],
    )?;
    let events: Vec<(String, String)> = pending
        .rows()
        .filter_map(|r| {
            Some((
                r.get::<&str>("id")?.to_owned(),
                r.get::<&str>("payload")?.to_owned(),
            ))
        })
        .collect();
    if events.is_empty() {
        return Ok(Relayed::default());
    }
    let Some(channel) = channel else {
        eprintln!(
            "outbox: {} event(s) waiting: no events channel configured (redis_url, events_channel)",
            events.len()
        );
        return Ok(Relayed {
            published: 0,
            pending: events.len(),
        });
    };
    let connection = match spin_sdk::redis::Connection::open(&channel.address) {
        Ok(connection) => connection,
        Err(e) => {
            eprintln!(
                "outbox: {} event(s) waiting: Redis unreachable: {e:?}",
                events.len()
            );
            return Ok(Relayed {
                published: 0,
                pending: events.len(),
            });
        }
    };
    let mut published = 0;
    for (id, payload) in &events {
        if let Err(e) = connection.publish(&channel.name, payload.as_bytes()) {
            eprintln!("outbox: event {id} waiting: publish failed: {e:?}");
            break;
        }
        db.execute(
            "UPDATE outbox SET published_at = ? WHERE id = ?",
            &[
                Value::Integer(Timestamp::now().millis()),
                Value::Text(id.clone()),
            ],
        )?;
        published += 1;
    }
    Ok(Relayed {
        published,
        pending: events.len() - published,
    })
}
