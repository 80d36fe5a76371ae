//! Test support shared by the host's tests and the end-to-end tests: a private, real
//! `redis-server` per test, on a free port, stopped when dropped; and the real Spin CLI
//! ([`spin_cli`]).

pub mod spin_cli;

use crate::local_redis::{LocalRedisError, RedisServerProcess};

/// How many times [`RedisServer::start`] retries when another process took the free port
/// between choosing it and `redis-server` binding it.
const START_ATTEMPTS: usize = 5;

/// A private `redis-server` (no persistence) on `127.0.0.1:<free port>`.
pub struct RedisServer {
    process: Option<RedisServerProcess>,
    port: u16,
}

impl RedisServer {
    /// Starts a server and waits until it answers PING. Fails with a clear message when
    /// `redis-server` is not installed (`.ci/run` installs it).
    pub async fn start() -> Result<Self, LocalRedisError> {
        let mut last = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port().map_err(LocalRedisError::FreePort)?;
            match RedisServerProcess::start(port, None).await {
                Ok(process) => {
                    return Ok(Self {
                        process: Some(process),
                        port,
                    });
                }
                Err(LocalRedisError::NotInstalled) => return Err(LocalRedisError::NotInstalled),
                Err(other) => last = Some(other),
            }
        }
        Err(last.unwrap_or(LocalRedisError::NotInstalled))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A client for inspecting or driving the server directly from a test.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("a loopback redis:// URL is always valid")
    }

    /// Kills the server; connections to it drop, as when Redis crashes or restarts.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts the server again on the same port (empty: nothing was persisted).
    pub async fn restart(&mut self) -> Result<(), LocalRedisError> {
        self.stop();
        self.process = Some(RedisServerProcess::start(self.port, None).await?);
        Ok(())
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
