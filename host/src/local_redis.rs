//! Where Redis comes from when an app runs locally, and the pieces tests share.
//!
//! Spin itself never starts Redis: the address comes from the manifest and the server must be
//! there. `reen-host up` is friendlier for a developer's machine ([`provide`]): for each
//! loopback address the Redis trigger subscribes to, if nothing answers there it starts
//! `redis-server` on that port (no persistence, stopped on exit), and if `redis-server` is not
//! installed it falls back to an in-process [`Broker`] that serves publish/subscribe for this
//! process only. Tests never use the fallback: they run a real server ([`RedisServerProcess`],
//! wrapped by `testing::RedisServer`).

use redis::{ConnectionAddr, ConnectionInfo};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long a freshly started `redis-server` may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the "is anything listening?" probe waits for a TCP connection.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum LocalRedisError {
    #[error("`redis-server` is not installed (not found on PATH)")]
    NotInstalled,
    #[error("starting `redis-server` on port {port}: {source}")]
    Spawn { port: u16, source: std::io::Error },
    #[error("`redis-server` on port {port} exited during start-up ({status}){log}")]
    Exited {
        port: u16,
        status: std::process::ExitStatus,
        log: String,
    },
    #[error("`redis-server` on port {port} did not answer PING within {timeout:?}{log}")]
    NotReady {
        port: u16,
        timeout: Duration,
        log: String,
    },
    #[error("creating a directory for `redis-server`: {0}")]
    TempDir(std::io::Error),
    #[error("finding a free port for `redis-server`: {0}")]
    FreePort(std::io::Error),
}

/// A `redis-server` child process bound to loopback, killed when dropped.
pub struct RedisServerProcess {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisServerProcess {
    /// Starts `redis-server` on `127.0.0.1:<port>` (and `::1` when available) without
    /// persistence, and waits until it answers PING. `password` sets `requirepass`, so an
    /// address with credentials works against it unchanged.
    pub async fn start(port: u16, password: Option<&str>) -> Result<Self, LocalRedisError> {
        let dir = tempfile::Builder::new()
            .prefix("reen-redis-")
            .tempdir()
            .map_err(LocalRedisError::TempDir)?;
        let log = dir.path().join("redis.log");
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string()])
            // `-::1`: bind IPv6 loopback too when the machine has it, without failing when not.
            .args(["--bind", "127.0.0.1", "-::1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        // Its own process group: a terminal Ctrl-C reaches only reen-host, which stops the
        // trigger first and then this server, instead of both racing to exit.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => LocalRedisError::NotInstalled,
            _ => LocalRedisError::Spawn { port, source },
        })?;
        let mut server = Self { child, port, dir };
        server.wait_ready(password).await?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The tail of the server's log, for error messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(5)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its log ends:\n  {tail}")
        }
    }

    async fn wait_ready(&mut self, password: Option<&str>) -> Result<(), LocalRedisError> {
        let mut info = redis::IntoConnectionInfo::into_connection_info(("127.0.0.1", self.port))
            .map_err(|e| LocalRedisError::Spawn {
                port: self.port,
                source: std::io::Error::other(e),
            })?;
        if let Some(password) = password {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(LocalRedisError::Exited {
                    port: self.port,
                    status,
                    log: self.log_tail(),
                });
            }
            if ping(&info).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(LocalRedisError::NotReady {
                    port: self.port,
                    timeout: START_TIMEOUT,
                    log: self.log_tail(),
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Kills the server and waits for it to exit (its port is free afterwards).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn ping(info: &ConnectionInfo) -> bool {
    let Ok(client) = redis::Client::open(info.clone()) else {
        return false;
    };
    let attempt = async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, attempt).await,
        Ok(Ok(_))
    )
}

/// True when `host` names this machine's loopback interface.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The port of a plain-TCP loopback address; `None` for anything reen-host cannot stand in
/// for (a remote host, TLS, a Unix socket).
pub fn loopback_port(info: &ConnectionInfo) -> Option<u16> {
    match info.addr() {
        ConnectionAddr::Tcp(host, port) if is_loopback(host) => Some(*port),
        _ => None,
    }
}

/// One published message as the in-process broker delivers it.
#[derive(Debug, Clone)]
pub struct BrokerMessage {
    pub channel: String,
    pub payload: Vec<u8>,
}

/// An in-process stand-in for a Redis server's publish/subscribe, used by `reen-host up` when
/// `redis-server` is not installed. Every subscriber gets every message of its channels, in
/// publish order, like a Redis pub/sub connection.
#[derive(Default)]
pub struct Broker {
    subscribers: Mutex<HashMap<String, Vec<mpsc::UnboundedSender<BrokerMessage>>>>,
}

impl Broker {
    /// One subscriber connection to `channels`.
    pub fn subscribe(&self, channels: &[String]) -> mpsc::UnboundedReceiver<BrokerMessage> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        for channel in channels {
            subscribers
                .entry(channel.clone())
                .or_default()
                .push(sender.clone());
        }
        receiver
    }

    /// Delivers to every live subscriber of `channel`; returns how many received it (what
    /// Redis's PUBLISH answers).
    pub fn publish(&self, channel: &str, payload: &[u8]) -> usize {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        let Some(senders) = subscribers.get_mut(channel) else {
            return 0;
        };
        senders.retain(|sender| {
            sender
                .send(BrokerMessage {
                    channel: channel.to_owned(),
                    payload: payload.to_vec(),
                })
                .is_ok()
        });
        senders.len()
    }
}

/// The in-process brokers of this process, by loopback port. Process-wide because what it
/// stands in for — a server listening on a port of this machine — is process-wide too: the
/// Redis trigger and every component's outbound connection must find the same one.
fn brokers() -> &'static Mutex<HashMap<u16, Arc<Broker>>> {
    static BROKERS: OnceLock<Mutex<HashMap<u16, Arc<Broker>>>> = OnceLock::new();
    BROKERS.get_or_init(Default::default)
}

/// The in-process broker standing in for the server at this address, if there is one.
pub fn in_process_broker(info: &ConnectionInfo) -> Option<Arc<Broker>> {
    let port = loopback_port(info)?;
    brokers()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&port)
        .cloned()
}

/// Keeps a broker registered for a port; unregisters it when dropped.
struct BrokerRegistration(u16);

impl BrokerRegistration {
    fn new(port: u16) -> Self {
        brokers()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(port, Arc::new(Broker::default()));
        Self(port)
    }
}

impl Drop for BrokerRegistration {
    fn drop(&mut self) {
        brokers()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// What `reen-host up` started for this run; dropping it stops the servers and removes the
/// in-process brokers.
#[derive(Default)]
pub struct LocalRedis {
    servers: Vec<RedisServerProcess>,
    brokers: Vec<BrokerRegistration>,
}

/// Makes sure something answers at each loopback address (see the module docs). Addresses on
/// other hosts are left alone: reen-host cannot start a server there.
pub async fn provide<'a>(addresses: impl IntoIterator<Item = &'a ConnectionInfo>) -> LocalRedis {
    let mut local = LocalRedis::default();
    let mut seen = Vec::new();
    for info in addresses {
        let Some(port) = loopback_port(info) else {
            continue;
        };
        if seen.contains(&port) {
            continue;
        }
        seen.push(port);
        if is_listening(port).await {
            tracing::info!("Using the Redis server already listening on port {port}");
            continue;
        }
        let password = info.redis_settings().password();
        match RedisServerProcess::start(port, password).await {
            Ok(server) => {
                tracing::info!(
                    "Nothing was listening at {}; started redis-server on port {port} for this run (no persistence, stopped on exit)",
                    info.addr()
                );
                local.servers.push(server);
            }
            Err(err) => {
                let why = match err {
                    LocalRedisError::NotInstalled => "`redis-server` is not installed".to_owned(),
                    other => format!("starting `redis-server` failed: {other}"),
                };
                tracing::warn!(
                    "\n\
                     ************************************************************************\n\
                     No Redis at {addr} and {why}.\n\
                     Using an IN-PROCESS STAND-IN for local runs only: it serves PUBLISH and\n\
                     SUBSCRIBE for this process alone. redis-cli and other processes cannot\n\
                     reach it, outbound Redis commands other than PUBLISH fail, and nothing\n\
                     is kept. Install redis-server (apt-get install redis-server, brew\n\
                     install redis) or point the app at your own Redis.\n\
                     ************************************************************************",
                    addr = info.addr()
                );
                local.brokers.push(BrokerRegistration::new(port));
            }
        }
    }
    local
}

/// Is anything accepting TCP connections on this loopback port (IPv4 or IPv6)?
async fn is_listening(port: u16) -> bool {
    for ip in [
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
    ] {
        let connect = tokio::net::TcpStream::connect(SocketAddr::new(ip, port));
        if matches!(
            tokio::time::timeout(PROBE_TIMEOUT, connect).await,
            Ok(Ok(_))
        ) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(url: &str) -> ConnectionInfo {
        redis::IntoConnectionInfo::into_connection_info(url).unwrap()
    }

    #[test]
    fn only_plain_loopback_addresses_can_be_provided_locally() {
        assert_eq!(loopback_port(&info("redis://localhost:6380")), Some(6380));
        assert_eq!(loopback_port(&info("redis://127.0.0.1")), Some(6379));
        assert_eq!(loopback_port(&info("redis://[::1]:7000")), Some(7000));
        assert_eq!(
            loopback_port(&info("redis://:pw@127.0.0.2:7001/2")),
            Some(7001)
        );
        assert_eq!(loopback_port(&info("redis://cache.example.com:6379")), None);
        assert_eq!(loopback_port(&info("redis://10.0.0.5:6379")), None);
    }

    #[tokio::test]
    async fn the_broker_delivers_to_every_subscriber_of_the_channel_in_order() {
        let broker = Broker::default();
        let mut a = broker.subscribe(&["orders".into()]);
        let mut b = broker.subscribe(&["orders".into(), "emails".into()]);
        assert_eq!(broker.publish("orders", b"1"), 2);
        assert_eq!(broker.publish("orders", b"2"), 2);
        assert_eq!(broker.publish("emails", b"e"), 1);
        assert_eq!(broker.publish("nobody", b"x"), 0);
        assert_eq!(a.recv().await.unwrap().payload, b"1");
        assert_eq!(a.recv().await.unwrap().payload, b"2");
        let got: Vec<_> = [b.recv().await, b.recv().await, b.recv().await]
            .into_iter()
            .map(|m| m.map(|m| (m.channel, m.payload)).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                ("orders".to_owned(), b"1".to_vec()),
                ("orders".to_owned(), b"2".to_vec()),
                ("emails".to_owned(), b"e".to_vec()),
            ]
        );
        drop(a);
        assert_eq!(
            broker.publish("orders", b"3"),
            1,
            "closed subscribers are pruned"
        );
    }
}
