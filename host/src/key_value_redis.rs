//! `[key_value_store.<label>] type = "redis"`: a store's keys in a Redis database, as Spin's
//! `redis` provider (`crates/key-value-redis`) keeps them, so replicas of an app on different
//! machines (or processes) share one store.
//!
//! Spin's layout, exactly: a key is stored under its own name, without the store's label, so
//! two labels on one Redis database share their keys (give each label its own database number,
//! `redis://host:6379/1`, `/2`); `set` is `SET`, `delete` is `DEL`, `exists` is `EXISTS`,
//! `get_keys` is `KEYS *` (every key of the database). Every failure is `other(<message>)`.
//!
//! One multiplexed connection per store URL, opened on first use (start-up never waits for
//! Redis, as with Spin) and opened again on the next call after a call failed on it.

use crate::bindings::fermyon::spin2_0_0::key_value::Error;
use anyhow::Context as _;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use std::time::Duration;

/// How long opening the connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one command may wait for its answer. The redis crate's default (500 ms) fails
/// commands that merely queue behind others on a busy machine; a dead server shows as a
/// connection error long before this.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// One Redis database holding the keys of one or more store labels.
pub struct RedisKv {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

/// A failure as the guest sees it (Spin logs it and answers `other`).
fn other(err: redis::RedisError) -> Error {
    Error::Other(err.to_string())
}

impl RedisKv {
    /// Checks the URL (a bad one fails start-up, naming the label); connects later.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("invalid Redis URL")?;
        Ok(Self {
            client,
            connection: tokio::sync::Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<MultiplexedConnection, Error> {
        let mut cached = self.connection.lock().await;
        if let Some(connection) = cached.as_ref() {
            return Ok(connection.clone());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(other)?;
        *cached = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `command` on the connection; a failure drops the connection, so the next call
    /// opens a new one (Redis restarted, the network broke).
    async fn run<T, F, Fut>(&self, command: F) -> Result<T, Error>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        match command(connection).await {
            Ok(value) => Ok(value),
            Err(err) => {
                if err.is_io_error() || err.is_connection_dropped() || err.is_unrecoverable_error()
                {
                    *self.connection.lock().await = None;
                }
                Err(other(err))
            }
        }
    }

    pub async fn get(&self, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.run(|mut c| async move { c.get(key).await }).await
    }

    pub async fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        self.run(|mut c| async move { c.set(key, value).await })
            .await
    }

    pub async fn delete(&self, key: String) -> Result<(), Error> {
        self.run(|mut c| async move { c.del(key).await }).await
    }

    pub async fn exists(&self, key: String) -> Result<bool, Error> {
        self.run(|mut c| async move { c.exists(key).await }).await
    }

    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        self.run(|mut c| async move { c.keys("*").await }).await
    }
}
