//! `fermyon:spin/redis@2.0.0`: outbound Redis through the `redis` crate, one multiplexed
//! connection per guest `open`, with Spin's error values (`factor-outbound-redis`):
//! an address outside `allowed_outbound_hosts` or one that does not parse is
//! `invalid-address`; only `sadd` reports `type-error` (a reply of an unexpected type);
//! everything else, connection failures and server errors included, is `other(message)`.
//!
//! Under `reen-host up` without `redis-server`, an address served by the in-process stand-in
//! (`local_redis`) gets a connection to it: `publish` works, every other call is
//! `other(...)` explaining why.

use crate::bindings::fermyon::spin2_0_0::redis::{self as wit, Error, RedisParameter, RedisResult};
use crate::local_redis::{self, Broker};
use crate::state::InstanceState;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use std::future::Future;
use std::sync::Arc;
use wasmtime::component::Resource;

/// A guest's open Redis connection.
pub enum RedisConnection {
    Server(MultiplexedConnection),
    /// `reen-host up`'s in-process publish/subscribe stand-in.
    InProcess(Arc<Broker>),
}

fn other(e: redis::RedisError) -> Error {
    Error::Other(e.to_string())
}

fn in_process_only_publishes() -> Error {
    Error::Other(
        "reen-host's in-process Redis stand-in only supports PUBLISH; install redis-server \
         (or point the app at a Redis server) to use other commands"
            .into(),
    )
}

/// What Spin leaves unencoded in the user-info part before parsing (RFC 3986 unreserved).
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The URL Spin checks against `allowed_outbound_hosts`: the user info is percent-encoded
/// first (so a password with `#` or `?` cannot change the host; like Spin, a `/` in it still
/// confuses the split), and an address without a scheme is read as `redis://<address>`.
fn address_url(address: &str) -> Option<url::Url> {
    let mut text = address.to_owned();
    if let Some(at) = text.find('@') {
        let start = text.find("://").map(|i| i + 3).unwrap_or(0);
        let path = text[start..]
            .find('/')
            .map(|i| i + start)
            .unwrap_or(usize::MAX);
        if at < path && at >= start {
            let encoded = utf8_percent_encode(&text[start..at], USERINFO).to_string();
            text = format!("{}{encoded}{}", &text[..start], &text[at..]);
        }
    }
    match url::Url::parse(&text) {
        Ok(url) if url.has_host() => Some(url),
        _ => url::Url::parse(&format!("redis://{text}"))
            .ok()
            .filter(url::Url::has_host),
    }
}

impl InstanceState {
    /// The server connection behind a handle; the in-process stand-in answers `other(...)`.
    fn server_conn(
        &self,
        handle: &Resource<RedisConnection>,
    ) -> wasmtime::Result<Result<MultiplexedConnection, Error>> {
        Ok(match self.table.get(handle)? {
            // Cloning a multiplexed connection is cheap and lets the call run without
            // borrowing the store data across the await.
            RedisConnection::Server(conn) => Ok(conn.clone()),
            RedisConnection::InProcess(_) => Err(in_process_only_publishes()),
        })
    }
}

/// Runs `op` on the connection, or passes its error on.
async fn on_server<T, F, Fut>(conn: Result<MultiplexedConnection, Error>, op: F) -> Result<T, Error>
where
    F: FnOnce(MultiplexedConnection) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    op(conn?).await
}

/// Flattens a Redis reply into Spin's list of results (arrays and sets become their
/// elements); reply types Spin cannot represent are an error, as in Spin.
fn to_results(value: redis::Value, out: &mut Vec<RedisResult>) -> Result<(), Error> {
    let unsupported = |what: &str| Err(Error::Other(format!("Redis {what} type is not supported")));
    match value {
        redis::Value::Nil => out.push(RedisResult::Nil),
        redis::Value::Int(i) => out.push(RedisResult::Int64(i)),
        redis::Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        redis::Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        redis::Value::Okay => out.push(RedisResult::Status("OK".into())),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            for item in items {
                to_results(item, out)?;
            }
        }
        redis::Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        redis::Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        redis::Value::BigNumber(digits) => out.push(RedisResult::Binary(digits)),
        redis::Value::ServerError(err) => return Err(Error::Other(format!("{err:?}"))),
        redis::Value::Map(_) => return unsupported("Map"),
        redis::Value::Attribute { .. } => return unsupported("Attribute"),
        redis::Value::VerbatimString { .. } => return unsupported("VerbatimString"),
        redis::Value::Push { .. } => return unsupported("Pub/Sub"),
        _ => return unsupported("reply"),
    }
    Ok(())
}

impl wit::Host for InstanceState {}

impl wit::HostConnection for InstanceState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        let url = address_url(&address);
        if !url
            .as_ref()
            .is_some_and(|url| self.allowed_hosts.allows(url))
        {
            // Like Spin, name the destination (never the credentials) and how to allow it.
            let destination = url
                .map(|url| match url.port() {
                    Some(port) => format!(
                        "{}://{}:{port}",
                        url.scheme(),
                        url.host_str().unwrap_or_default()
                    ),
                    None => format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default()),
                })
                .unwrap_or_else(|| "an unparseable address".into());
            tracing::warn!(
                "Component {} tried to open a Redis connection to disallowed destination {destination}; to allow it, add it to the component's `allowed_outbound_hosts`",
                self.component_id
            );
            return Ok(Err(Error::InvalidAddress));
        }
        let info = match redis::IntoConnectionInfo::into_connection_info(address.as_str()) {
            Ok(info) => info,
            Err(_) => return Ok(Err(Error::InvalidAddress)),
        };
        if let Some(broker) = local_redis::in_process_broker(&info) {
            return Ok(Ok(self.table.push(RedisConnection::InProcess(broker))?));
        }
        let client = match redis::Client::open(info) {
            Ok(client) => client,
            Err(_) => return Ok(Err(Error::InvalidAddress)),
        };
        match client.get_multiplexed_async_connection().await {
            Ok(conn) => Ok(Ok(self.table.push(RedisConnection::Server(conn))?)),
            Err(e) => Ok(Err(other(e))),
        }
    }

    async fn publish(
        &mut self,
        h: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        if let RedisConnection::InProcess(broker) = self.table.get(&h)? {
            broker.publish(&channel, &payload);
            return Ok(Ok(()));
        }
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.publish::<_, _, i64>(channel, payload)
                .await
                .map(drop)
                .map_err(other)
        })
        .await)
    }

    async fn get(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.get(key).await.map_err(other)
        })
        .await)
    }

    async fn set(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.set::<_, _, ()>(key, value).await.map_err(other)
        })
        .await)
    }

    async fn incr(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.incr(key, 1).await.map_err(other)
        })
        .await)
    }

    async fn del(
        &mut self,
        h: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.del(keys).await.map_err(other)
        })
        .await)
    }

    async fn sadd(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.sadd(key, values).await.map_err(|e| {
                // The one call where Spin reports a type mismatch as its own variant.
                if e.kind() == redis::ErrorKind::UnexpectedReturnType {
                    Error::TypeError
                } else {
                    other(e)
                }
            })
        })
        .await)
    }

    async fn smembers(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.smembers(key).await.map_err(other)
        })
        .await)
    }

    async fn srem(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            conn.srem(key, values).await.map_err(other)
        })
        .await)
    }

    async fn execute(
        &mut self,
        h: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let conn = self.server_conn(&h)?;
        Ok(on_server(conn, |mut conn| async move {
            let mut cmd = redis::cmd(&command);
            for arg in arguments {
                match arg {
                    RedisParameter::Int64(i) => cmd.arg(i),
                    RedisParameter::Binary(b) => cmd.arg(b),
                };
            }
            let value = cmd
                .query_async::<redis::Value>(&mut conn)
                .await
                .map_err(other)?;
            let mut out = Vec::new();
            to_results(value, &mut out)?;
            Ok(out)
        })
        .await)
    }

    async fn drop(&mut self, h: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_cannot_change_the_host_that_is_checked() {
        let url = address_url("redis://:pa?ss#word@cache.test:6380/0").unwrap();
        assert_eq!(url.host_str(), Some("cache.test"));
        assert_eq!(url.port(), Some(6380));
    }

    #[test]
    fn an_address_without_scheme_is_checked_as_redis() {
        let url = address_url("cache.test:6379").unwrap();
        assert_eq!(
            (url.scheme(), url.host_str()),
            ("redis", Some("cache.test"))
        );
    }

    #[test]
    fn nested_replies_flatten_and_unrepresentable_ones_are_errors() {
        let mut out = Vec::new();
        to_results(
            redis::Value::Array(vec![
                redis::Value::Int(1),
                redis::Value::Nil,
                redis::Value::Array(vec![redis::Value::BulkString(b"x".to_vec())]),
                redis::Value::Okay,
            ]),
            &mut out,
        )
        .unwrap();
        assert!(matches!(
            out.as_slice(),
            [
                RedisResult::Int64(1),
                RedisResult::Nil,
                RedisResult::Binary(b),
                RedisResult::Status(s),
            ] if b == b"x" && s == "OK"
        ));
        assert!(matches!(
            to_results(redis::Value::Map(vec![]), &mut Vec::new()),
            Err(Error::Other(_))
        ));
    }
}
