//! `Idempotency-Key` for unsafe requests: the first request with a key runs and its response
//! is stored (in the component's own SQLite database) for 24 h; the same caller repeating the
//! key with the same request gets that response again without the side effect running twice;
//! the same key with a different request is refused (422), and while the first still runs, 409.
//! A claim whose request never recorded an answer (it trapped, or its host died) is abandoned
//! after [`LEASE_MILLIS`], so the key is free again within a minute rather than for 24 h.
#![deny(missing_docs)]

use http_kit::ApiError;
use sha2::{Digest, Sha256};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite3::{Connection, Value};
use std::future::Future;
use timestamp::Timestamp;

/// How long a stored response is replayed.
const RETENTION_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// How long a claim without an answer holds its key: far longer than any request runs (Spin
/// gives none a minute), short enough that a client retrying after a crash is not locked out.
const LEASE_MILLIS: i64 = 60 * 1000;

/// Makes the global purge of expired rows an index range scan.
const CREATE_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at)";

/// The table this crate owns in the component's database.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, key))";

/// Why an idempotent request cannot proceed.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The header is empty, too long or not printable ASCII.
    #[error("Idempotency-Key must be 1 to 255 printable ASCII characters")]
    InvalidKey,
    /// The key was used before with a different request.
    #[error("Idempotency-Key was already used with a different request")]
    KeyReused,
    /// The first request with this key is still running.
    #[error("A request with this Idempotency-Key is still being processed")]
    InProgress,
    /// The database failed.
    #[error("idempotency store: {0}")]
    Store(String),
}

impl ApiError for IdempotencyError {
    fn status(&self) -> u16 {
        match self {
            Self::InvalidKey => 400,
            Self::KeyReused => 422,
            Self::InProgress => 409,
            Self::Store(_) => 500,
        }
    }
}

fn store_err(e: impl std::fmt::Debug) -> IdempotencyError {
    IdempotencyError::Store(format!("{e:?}"))
}

/// A validated `Idempotency-Key` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1–255 printable ASCII characters.
    pub fn parse(value: &str) -> Result<Self, IdempotencyError> {
        let ok =
            (1..=255).contains(&value.len()) && value.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdempotencyError::InvalidKey)
        }
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The request's key, if it is an unsafe request carrying one.
    pub fn from_request(req: &Request) -> Result<Option<Self>, IdempotencyError> {
        let unsafe_method = matches!(
            req.method(),
            Method::Post | Method::Patch | Method::Put | Method::Delete
        );
        match req.header("idempotency-key") {
            Some(value) if unsafe_method => {
                Self::parse(value.as_str().unwrap_or_default()).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// Fingerprint of what the request asks for: method, path and query, body.
fn request_hash(req: &Request) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().to_string().as_bytes());
    hasher.update([0]);
    hasher.update(req.path_and_query().unwrap_or(req.path()).as_bytes());
    hasher.update([0]);
    hasher.update(req.body());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

enum Claim {
    /// This request owns the key and must record its response.
    Run,
    /// A completed earlier request's response.
    Replay(Response),
}

fn claim(
    conn: &Connection,
    caller: &str,
    key: &IdempotencyKey,
    hash: &str,
) -> Result<Claim, IdempotencyError> {
    let now = Timestamp::now().millis();
    let text = |s: &str| Value::Text(s.to_owned());
    conn.execute(CREATE_TABLE, &[]).map_err(store_err)?;
    conn.execute(CREATE_INDEX, &[]).map_err(store_err)?;
    // Every claim forgets every caller's expired answers, so the table holds at most 24 h of
    // keyed requests, whoever sent them.
    conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?",
        &[Value::Integer(now - RETENTION_MILLIS)],
    )
    .map_err(store_err)?;
    // An abandoned claim (no answer recorded within the lease) frees its key.
    conn.execute(
        "DELETE FROM idempotency_keys
         WHERE caller = ? AND key = ? AND status IS NULL AND created_at < ?",
        &[
            text(caller),
            text(key.as_str()),
            Value::Integer(now - LEASE_MILLIS),
        ],
    )
    .map_err(store_err)?;
    conn.execute(
        "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (caller, key) DO NOTHING",
        &[
            text(caller),
            text(key.as_str()),
            text(hash),
            Value::Integer(now),
        ],
    )
    .map_err(store_err)?;
    if conn.changes() == 1 {
        return Ok(Claim::Run);
    }
    let rows = conn
        .execute(
            "SELECT request_hash, status, content_type, body FROM idempotency_keys WHERE caller = ? AND key = ?",
            &[text(caller), text(key.as_str())],
        )
        .map_err(store_err)?;
    let row = rows
        .rows
        .first()
        .ok_or_else(|| store_err("claimed key vanished"))?;
    let stored_hash = row.get::<&str>(0).unwrap_or_default();
    if stored_hash != hash {
        return Err(IdempotencyError::KeyReused);
    }
    let Some(status) = row.get::<i64>(1) else {
        return Err(IdempotencyError::InProgress);
    };
    let mut response = Response::builder()
        .status(status as u16)
        .body(row.get::<&[u8]>(3).unwrap_or_default().to_vec())
        .build();
    if let Some(content_type) = row.get::<&str>(2) {
        response.set_header("content-type", content_type);
    }
    response.set_header("idempotent-replayed", "true");
    Ok(Claim::Replay(response))
}

fn record(
    conn: &Connection,
    caller: &str,
    key: &IdempotencyKey,
    response: &Response,
) -> Result<(), IdempotencyError> {
    let text = |s: &str| Value::Text(s.to_owned());
    let status = *response.status();
    if status >= 500 {
        // A server fault is not an answer worth replaying: free the key so a retry runs.
        conn.execute(
            "DELETE FROM idempotency_keys WHERE caller = ? AND key = ?",
            &[text(caller), text(key.as_str())],
        )
        .map_err(store_err)?;
        return Ok(());
    }
    let content_type = response
        .header("content-type")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    conn.execute(
        "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE caller = ? AND key = ?",
        &[
            Value::Integer(i64::from(status)),
            content_type.map(Value::Text).unwrap_or(Value::Null),
            Value::Blob(response.body().to_vec()),
            text(caller),
            text(key.as_str()),
        ],
    )
    .map_err(store_err)?;
    Ok(())
}

/// Runs `handler` at most once per (caller, key): without a key it simply runs; with one, a
/// repeat replays the stored response. `database` is the component's own sqlite label.
/// Error responses (4xx) are stored too, so a retry sees the same answer.
pub async fn run_once<F, Fut, E>(
    database: &str,
    req: Request,
    caller: &str,
    handler: F,
) -> Result<Response, E>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: ApiError + From<IdempotencyError>,
{
    let Some(key) = IdempotencyKey::from_request(&req)? else {
        return handler(req).await;
    };
    let conn = Connection::open(database).map_err(store_err)?;
    match claim(&conn, caller, &key, &request_hash(&req))? {
        Claim::Replay(response) => Ok(response),
        Claim::Run => {
            let response = match handler(req).await {
                Ok(response) => response,
                Err(err) => http_kit::error_response(&err),
            };
            record(&conn, caller, &key, &response)?;
            Ok(response)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_up_to_255_characters() {
        assert!(IdempotencyKey::parse("order-7f3a_2026:1").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "ünïcode"] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
