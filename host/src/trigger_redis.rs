//! The Redis trigger (`[[trigger.redis]]`), as Spin's `trigger-redis` behaves:
//!
//! - addresses and channels are templates rendered with the app's variables at start-up; a
//!   trigger without its own `address` uses `[application.trigger.redis] address`;
//! - one pub/sub connection per distinct address, `SUBSCRIBE`d to every channel configured
//!   for it;
//! - each message goes to every component subscribed to its channel, each on a fresh
//!   instance, concurrently; the next message on that connection waits until all of them are
//!   done, so messages are handled in publish order;
//! - a handler that returns an error or traps is logged (`Component <id> handler failed: ...`)
//!   and the message is dropped: there is no retry and no redelivery (Redis pub/sub is
//!   at-most-once).
//!
//! **Deliberate difference from Spin:** when a connection drops, Spin's trigger ends with
//! "disconnected from ..." and `spin up` exits. reen-host instead logs it, reconnects with
//! exponential backoff (capped at [`MAX_BACKOFF`]) and subscribes again, so restarting a local
//! Redis does not end a development session. Messages published while it is disconnected are
//! lost, exactly as for any pub/sub subscriber that is not connected.
//!
//! The first connection is made while the app starts: if Redis is not there then, start-up
//! fails naming the address (as `spin up` does), and once `RunningApp::start` returns every
//! channel is subscribed, so nothing published afterwards is missed.

use crate::bindings::redis_handler::RedisHandlerPre;
use crate::local_redis::{self, BrokerMessage};
use crate::manifest::{Manifest, Template};
use crate::state::{ComponentRuntime, InstanceState};
use crate::variables::AppVariables;
use futures_util::StreamExt as _;
use redis::{ConnectionInfo, IntoConnectionInfo as _};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use wasmtime::Store;

/// First wait before reconnecting; doubled after every failed attempt.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3);
/// How long one connection attempt may take (an unroutable host would otherwise hang).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A component that handles Redis messages, pre-instantiated once at start-up.
pub struct RedisComponent {
    pub(crate) runtime: Arc<ComponentRuntime>,
    pub(crate) pre: RedisHandlerPre<InstanceState>,
}

/// Start-up errors of the Redis trigger. Addresses are shown without credentials.
#[derive(Debug, thiserror::Error)]
pub enum RedisTriggerError {
    #[error(
        "{manifest}: [[trigger.redis]] `{trigger}`: the {what} uses variable `{variable}`, which has no value"
    )]
    UnresolvedTemplate {
        manifest: String,
        trigger: String,
        what: &'static str,
        variable: String,
    },
    #[error(
        "{manifest}: [[trigger.redis]] `{trigger}`: `{address}` is not a Redis address: {reason}"
    )]
    InvalidAddress {
        manifest: String,
        trigger: String,
        address: String,
        reason: String,
    },
    #[error(
        "Redis trigger failed to connect to {address}: {reason} (is Redis running there? `reen-host up` starts one for a local address when `redis-server` is installed)"
    )]
    Connect { address: String, reason: String },
    #[error("Redis trigger failed to subscribe to channel {channel:?} on {address}: {source}")]
    Subscribe {
        address: String,
        channel: String,
        source: redis::RedisError,
    },
}

impl RedisTriggerError {
    /// Why a connection attempt failed, without the start-up advice (for retry logs).
    fn cause(&self) -> String {
        match self {
            Self::Connect { reason, .. } => reason.clone(),
            Self::Subscribe {
                channel, source, ..
            } => format!("subscribing to {channel:?}: {source}"),
            other => other.to_string(),
        }
    }
}

/// One channel the app listens on, for the start-up banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveChannel {
    /// `host:port` of the Redis server (never credentials).
    pub address: String,
    pub channel: String,
    /// The components each message runs, in manifest order.
    pub components: Vec<String>,
}

/// One Redis server and what the app subscribes to on it.
struct Server {
    info: ConnectionInfo,
    /// `host:port`, safe to log.
    display: String,
    /// channel → the components each message on it runs (a component listed by two
    /// triggers runs twice, as in Spin).
    channels: BTreeMap<String, Vec<Arc<RedisComponent>>>,
}

/// The app's Redis subscriptions, resolved and pre-instantiated but not yet connected.
pub struct RedisTrigger {
    servers: Vec<Server>,
}

impl RedisTrigger {
    /// Resolves every `[[trigger.redis]]` of the manifest; `None` when there are none.
    /// `component` pre-instantiates a component for the trigger (called once per id).
    pub fn build(
        manifest: &Manifest,
        variables: &AppVariables,
        mut component: impl FnMut(&str) -> anyhow::Result<RedisComponent>,
    ) -> anyhow::Result<Option<Self>> {
        if manifest.redis_triggers.is_empty() {
            return Ok(None);
        }
        let manifest_path = manifest.path.display().to_string();
        let mut components: HashMap<String, Arc<RedisComponent>> = HashMap::new();
        let mut by_address: BTreeMap<String, Server> = BTreeMap::new();
        for trigger in &manifest.redis_triggers {
            let render = |template: &Template, what| {
                variables.render(template).map_err(|variable| {
                    RedisTriggerError::UnresolvedTemplate {
                        manifest: manifest_path.clone(),
                        trigger: trigger.normalized_id.clone(),
                        what,
                        variable,
                    }
                })
            };
            // Loading guarantees an address (the trigger's or the app's); an empty one is
            // refused below like any other unusable address.
            let address = match trigger.effective_address(&manifest.application) {
                Some(template) => render(template, "address")?,
                None => String::new(),
            };
            let channel = render(&trigger.channel, "channel")?;
            let handler = match components.get(&trigger.component) {
                Some(handler) => handler.clone(),
                None => {
                    let handler = Arc::new(component(&trigger.component)?);
                    components.insert(trigger.component.clone(), handler.clone());
                    handler
                }
            };
            // Spin groups by the resolved address text, so two spellings of one server get
            // two connections there too.
            let server = match by_address.entry(address.clone()) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => {
                    let info = address.as_str().into_connection_info().map_err(|e| {
                        RedisTriggerError::InvalidAddress {
                            manifest: manifest_path.clone(),
                            trigger: trigger.normalized_id.clone(),
                            address: redact(&address),
                            reason: e.to_string(),
                        }
                    })?;
                    entry.insert(Server {
                        display: info.addr().to_string(),
                        info,
                        channels: BTreeMap::new(),
                    })
                }
            };
            server.channels.entry(channel).or_default().push(handler);
        }
        Ok(Some(Self {
            servers: by_address.into_values().collect(),
        }))
    }

    /// The servers this app subscribes to (for `reen-host up`'s local Redis).
    pub fn addresses(&self) -> impl Iterator<Item = &ConnectionInfo> {
        self.servers.iter().map(|s| &s.info)
    }

    /// Every subscribed channel with its components.
    pub fn channels(&self) -> Vec<ActiveChannel> {
        self.servers
            .iter()
            .flat_map(|server| {
                server
                    .channels
                    .iter()
                    .map(|(channel, components)| ActiveChannel {
                        address: server.display.clone(),
                        channel: channel.clone(),
                        components: components
                            .iter()
                            .map(|c| c.runtime.id.to_string())
                            .collect(),
                    })
            })
            .collect()
    }

    /// Connects and subscribes to every server, then handles messages in the background
    /// until `shutdown` flips to true.
    pub async fn start(
        self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<RunningRedisTrigger, RedisTriggerError> {
        let mut subscribed = Vec::new();
        for server in self.servers {
            let subscription = subscribe(&server).await?;
            tracing::info!(
                "Subscribed to {} on {}",
                server
                    .channels
                    .keys()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                server.display
            );
            subscribed.push((server, subscription));
        }
        let tasks = subscribed
            .into_iter()
            .map(|(server, subscription)| {
                tokio::spawn(listen(Arc::new(server), subscription, shutdown.clone()))
            })
            .collect();
        Ok(RunningRedisTrigger { tasks })
    }
}

/// The background listeners; dropping this aborts them.
pub struct RunningRedisTrigger {
    tasks: Vec<JoinHandle<()>>,
}

impl RunningRedisTrigger {
    /// Waits for the listeners to finish (after shutdown was signalled). A message being
    /// handled is finished first.
    pub async fn stopped(mut self) {
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for RunningRedisTrigger {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// An open subscription: a real Redis connection, or `reen-host up`'s in-process stand-in.
enum Subscription {
    Redis(redis::aio::PubSubStream),
    InProcess(mpsc::UnboundedReceiver<BrokerMessage>),
}

impl Subscription {
    /// The next message as (channel, payload); `None` when the connection is gone.
    async fn next(&mut self) -> Option<(String, Vec<u8>)> {
        match self {
            Self::Redis(stream) => stream.next().await.map(|msg| {
                (
                    msg.get_channel_name().to_owned(),
                    msg.get_payload_bytes().to_vec(),
                )
            }),
            Self::InProcess(receiver) => receiver
                .recv()
                .await
                .map(|message| (message.channel, message.payload)),
        }
    }
}

async fn subscribe(server: &Server) -> Result<Subscription, RedisTriggerError> {
    let channels: Vec<String> = server.channels.keys().cloned().collect();
    if let Some(broker) = local_redis::in_process_broker(&server.info) {
        return Ok(Subscription::InProcess(broker.subscribe(&channels)));
    }
    let connect_error = |reason: String| RedisTriggerError::Connect {
        address: server.display.clone(),
        reason,
    };
    let client =
        redis::Client::open(server.info.clone()).map_err(|e| connect_error(e.to_string()))?;
    let mut pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| connect_error(format!("no answer within {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| connect_error(e.to_string()))?;
    for channel in channels {
        pubsub
            .subscribe(&channel)
            .await
            .map_err(|source| RedisTriggerError::Subscribe {
                address: server.display.clone(),
                channel,
                source,
            })?;
    }
    Ok(Subscription::Redis(pubsub.into_on_message()))
}

/// Handles one server's messages in order, reconnecting whenever the connection drops.
async fn listen(
    server: Arc<Server>,
    mut subscription: Subscription,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        loop {
            let message = tokio::select! {
                message = subscription.next() => message,
                _ = shutdown.changed() => return,
            };
            let Some((channel, payload)) = message else {
                break;
            };
            dispatch(&server, &channel, &payload).await;
        }
        tracing::warn!(
            "Lost the connection to Redis at {}; reconnecting (messages published meanwhile are lost)",
            server.display
        );
        match reconnect(&server, &mut shutdown).await {
            Some(again) => subscription = again,
            None => return,
        }
    }
}

/// Retries with exponential backoff until subscribed again; `None` on shutdown.
async fn reconnect(server: &Server, shutdown: &mut watch::Receiver<bool>) -> Option<Subscription> {
    let mut delay = INITIAL_BACKOFF;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return None,
        }
        match subscribe(server).await {
            Ok(subscription) => {
                tracing::info!(
                    "Reconnected to Redis at {} and subscribed again",
                    server.display
                );
                return Some(subscription);
            }
            Err(err) => {
                delay = (delay * 2).min(MAX_BACKOFF);
                tracing::warn!(
                    "Reconnecting to Redis at {} failed ({}); retrying in {delay:?}",
                    server.display,
                    err.cause()
                );
            }
        }
    }
}

/// Runs every component subscribed to `channel` on a fresh instance, concurrently, and
/// returns when all are done. Failures are logged and the message is dropped.
async fn dispatch(server: &Server, channel: &str, payload: &Vec<u8>) {
    let Some(components) = server.channels.get(channel) else {
        tracing::warn!(
            "Ignoring a message from unexpected channel {channel:?} on {}",
            server.display
        );
        return;
    };
    let runs = components.iter().map(|component| async move {
        if let Err(err) = handle_message(component, payload).await {
            tracing::error!("Component {} handler failed: {err:#}", component.runtime.id);
        }
    });
    futures_util::future::join_all(runs).await;
}

async fn handle_message(component: &RedisComponent, payload: &Vec<u8>) -> anyhow::Result<()> {
    // Only HTTP-triggered instances can chain to other components (no HTTP context here).
    let state = component.runtime.instance_state(None);
    let mut store = Store::new(component.pre.engine(), state);
    let handler = component.pre.instantiate_async(&mut store).await?;
    handler
        .fermyon_spin_inbound_redis()
        .call_handle_message(&mut store, payload)
        .await?
        .map_err(|_| anyhow::anyhow!("the handler returned an error"))
}

/// An address with any `user:password@` replaced, for messages.
fn redact(address: &str) -> String {
    match (address.find("://"), address.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &address[..scheme_end], &address[at..])
        }
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_appear_in_address_messages() {
        assert_eq!(
            redact("redis://:s3cret@cache:6379/0"),
            "redis://***@cache:6379/0"
        );
        assert_eq!(redact("redis://u:p@w@cache"), "redis://***@cache");
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
    }
}
