//! `fermyon:spin/redis@2.0.0`: outbound Redis through the `redis` crate, one multiplexed
//! connection per guest `open`; an address outside `allowed_outbound_hosts` is `invalid-address`.

use crate::bindings::fermyon::spin2_0_0::redis::{self as wit, Error, RedisParameter, RedisResult};
use crate::state::InstanceState;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use wasmtime::component::Resource;

/// A guest's open Redis connection.
pub struct RedisConnection {
    conn: MultiplexedConnection,
}

fn other(e: redis::RedisError) -> Error {
    if e.kind() == redis::ErrorKind::UnexpectedReturnType {
        Error::TypeError
    } else {
        Error::Other(e.to_string())
    }
}

impl InstanceState {
    fn redis_conn(
        &self,
        handle: &Resource<RedisConnection>,
    ) -> wasmtime::Result<MultiplexedConnection> {
        // Cloning a multiplexed connection is cheap and lets the call run without `&mut self`.
        Ok(self.table.get(handle)?.conn.clone())
    }
}

/// Flattens a Redis reply into Spin's list of results (arrays become their elements).
fn to_results(value: redis::Value, out: &mut Vec<RedisResult>) {
    match value {
        redis::Value::Nil => out.push(RedisResult::Nil),
        redis::Value::Int(i) => out.push(RedisResult::Int64(i)),
        redis::Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        redis::Value::SimpleString(s) => out.push(RedisResult::Status(s)),
        redis::Value::Okay => out.push(RedisResult::Status("OK".into())),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            items.into_iter().for_each(|v| to_results(v, out))
        }
        redis::Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        redis::Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        other => out.push(RedisResult::Binary(format!("{other:?}").into_bytes())),
    }
}

impl wit::Host for InstanceState {}

impl wit::HostConnection for InstanceState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, Error>> {
        let allowed = url::Url::parse(&address).is_ok_and(|url| self.allowed_hosts.allows(&url));
        if !allowed {
            tracing::warn!(
                component = %self.component_id,
                "outbound Redis to `{address}` denied: add it to `allowed_outbound_hosts`"
            );
            return Ok(Err(Error::InvalidAddress));
        }
        let client = match redis::Client::open(address.as_str()) {
            Ok(client) => client,
            Err(_) => return Ok(Err(Error::InvalidAddress)),
        };
        match client.get_multiplexed_async_connection().await {
            Ok(conn) => Ok(Ok(self.table.push(RedisConnection { conn })?)),
            Err(e) => Ok(Err(other(e))),
        }
    }

    async fn publish(
        &mut self,
        h: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn
            .publish::<_, _, i64>(channel, payload)
            .await
            .map(drop)
            .map_err(other))
    }

    async fn get(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.get(key).await.map_err(other))
    }

    async fn set(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.set::<_, _, ()>(key, value).await.map_err(other))
    }

    async fn incr(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.incr(key, 1).await.map_err(other))
    }

    async fn del(
        &mut self,
        h: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.del(keys).await.map_err(other))
    }

    async fn sadd(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.sadd(key, values).await.map_err(other))
    }

    async fn smembers(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.smembers(key).await.map_err(other))
    }

    async fn srem(
        &mut self,
        h: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let mut conn = self.redis_conn(&h)?;
        Ok(conn.srem(key, values).await.map_err(other))
    }

    async fn execute(
        &mut self,
        h: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let mut conn = self.redis_conn(&h)?;
        let mut cmd = redis::cmd(&command);
        for arg in arguments {
            match arg {
                RedisParameter::Int64(i) => cmd.arg(i),
                RedisParameter::Binary(b) => cmd.arg(b),
            };
        }
        Ok(match cmd.query_async::<redis::Value>(&mut conn).await {
            Ok(value) => {
                let mut out = Vec::new();
                to_results(value, &mut out);
                Ok(out)
            }
            Err(e) => Err(other(e)),
        })
    }

    async fn drop(&mut self, h: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        Ok(())
    }
}
