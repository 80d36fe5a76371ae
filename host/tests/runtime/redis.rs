//! The Redis trigger and outbound Redis against a real, private `redis-server` per test: the
//! `probe` fixture publishes over HTTP, the `subscriber` fixture records each message in the
//! default key-value store, and the probe reads it back — what a user of the app would see.
//! The shared cases also run on real Spin (`spin_conformance.rs`).

use crate::helpers::{TestApp, prepare};
use reen_host::RunningApp;
use reen_host::testing::RedisServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// How long a published message may take to show up in key-value storage.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn redis_server() -> RedisServer {
    RedisServer::start()
        .await
        .expect("starting a private redis-server (install it: apt-get install redis-server)")
}

/// The app both hosts run for the shared cases: two subscribers on one channel, the address
/// and the probe's permission templated from `redis_port`.
pub const SHARED_MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "redis-shared"

[variables]
redis_port = { required = true }

[application.trigger.redis]
address = "redis://127.0.0.1:{{ redis_port }}"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.redis]]
channel = "orders"
component = "sub-a"

[[trigger.redis]]
channel = "orders"
component = "sub-b"

[component.probe]
source = "{probe}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:{{ redis_port }}"]

[component.sub-a]
source = "{subscriber}"
key_value_stores = ["default"]
environment = { COMPONENT = "sub-a" }

[component.sub-b]
source = "{subscriber}"
key_value_stores = ["default"]
environment = { COMPONENT = "sub-b" }
"#;

/// Talks to an app serving the probe at `/probe/...` (on reen-host or real Spin).
pub struct Probe {
    pub client: reqwest::Client,
    pub base: String,
}

impl Probe {
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: base.into(),
        }
    }

    async fn post(&self, query: &str, body: impl Into<reqwest::Body>) -> Value {
        let res = self
            .client
            .post(format!("{}/probe/x?{query}", self.base))
            .body(body)
            .send()
            .await
            .expect("request to the probe");
        assert_eq!(res.status(), 200, "probe ?{query}");
        res.json().await.expect("probe JSON")
    }

    /// Publishes through the guest's outbound Redis; returns the probe's report.
    pub async fn publish(&self, address: &str, channel: &str, message: Value) -> Value {
        self.post(
            &format!("op=publish&address={address}&channel={channel}"),
            message.to_string(),
        )
        .await
    }

    /// One outbound Redis call from the guest (see the probe's `redis` op).
    pub async fn redis(&self, address: &str, query: &str, body: impl Into<reqwest::Body>) -> Value {
        self.post(&format!("op=redis&address={address}&{query}"), body)
            .await
    }

    /// A key of the default key-value store (`null` when absent).
    pub async fn kv(&self, key: &str) -> Value {
        self.post(&format!("op=kv&store=default&action=get&key={key}"), "")
            .await["ok"]
            .clone()
    }

    /// Waits until `key` holds `expected`; a message may take a moment to be handled.
    pub async fn wait_for_kv(&self, key: &str, expected: &str) {
        let deadline = Instant::now() + DELIVERY_TIMEOUT;
        loop {
            let value = self.kv(key).await;
            if value == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{key}` never became {expected:?}; it is {value}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until `channel` has at least `count` subscribed connections on `server` (a
/// subscriber that is not connected yet would miss a message: pub/sub is at-most-once).
pub async fn wait_for_subscribers(server: &RedisServer, channel: &str, count: i64) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let subscribers = subscribers(server, channel).await;
        if subscribers >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "`{channel}` never got {count} subscriber(s); it has {subscribers}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscribers(server: &RedisServer, channel: &str) -> i64 {
    let Ok(mut conn) = server.client().get_multiplexed_async_connection().await else {
        return 0;
    };
    redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async::<(String, i64)>(&mut conn)
        .await
        .map(|(_, n)| n)
        .unwrap_or(0)
}

/// The cases both hosts must agree on, for an app started from [`SHARED_MANIFEST`].
pub async fn check_shared_cases(probe: &Probe, server: &RedisServer) {
    let address = server.url();
    wait_for_subscribers(server, "orders", 1).await;

    // Every component on the channel gets every message.
    let report = probe
        .publish(&address, "orders", json!({ "key": "first", "value": "v1" }))
        .await;
    assert_eq!(report, json!({ "ok": null }));
    probe.wait_for_kv("sub-a:first", "v1").await;
    probe.wait_for_kv("sub-b:first", "v1").await;

    // A handler error or trap drops that message; the next one is handled.
    for failing in [
        json!({ "key": "failed", "value": "x", "fail": true }),
        json!({ "key": "trapped", "value": "x", "trap": true }),
    ] {
        probe.publish(&address, "orders", failing).await;
    }
    probe
        .publish(&address, "orders", json!({ "key": "after", "value": "ok" }))
        .await;
    probe.wait_for_kv("sub-a:after", "ok").await;
    probe.wait_for_kv("sub-b:after", "ok").await;
    for key in [
        "sub-a:failed",
        "sub-a:trapped",
        "sub-b:failed",
        "sub-b:trapped",
    ] {
        assert_eq!(probe.kv(key).await, Value::Null, "{key} was written");
    }

    // Messages on one channel are handled in publish order.
    let sequence: Vec<String> = (1..=10).map(|n| n.to_string()).collect();
    for n in &sequence {
        probe
            .publish(
                &address,
                "orders",
                json!({ "key": "seq", "value": n, "append": true }),
            )
            .await;
    }
    probe.wait_for_kv("sub-a:seq", &sequence.join(",")).await;
    probe.wait_for_kv("sub-b:seq", &sequence.join(",")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_messages_reach_every_subscriber_failures_are_dropped_and_order_is_kept() {
    let server = redis_server().await;
    let port = server.port().to_string();
    let app = TestApp::start_with(SHARED_MANIFEST, None, &[("redis_port", &port)]).await;
    check_shared_cases(&Probe::new(app.app.base_url()), &server).await;
}

/// One subscriber per channel, the address given literally.
const TWO_CHANNELS: &str = r#"
spin_manifest_version = 2
[application]
name = "redis-channels"

[application.trigger.redis]
address = "{redis}"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.redis]]
channel = "orders"
component = "orders-sub"

[[trigger.redis]]
channel = "emails"
component = "emails-sub"

[component.probe]
source = "{probe}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["{redis}"]

[component.orders-sub]
source = "{subscriber}"
key_value_stores = ["default"]
environment = { COMPONENT = "orders-sub" }

[component.emails-sub]
source = "{subscriber}"
key_value_stores = ["default"]
environment = { COMPONENT = "emails-sub" }
"#;

async fn start_two_channels(server: &RedisServer) -> TestApp {
    TestApp::start(&TWO_CHANNELS.replace("{redis}", &server.url())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_only_receives_messages_of_its_own_channel() {
    let server = redis_server().await;
    let app = start_two_channels(&server).await;
    let probe = Probe::new(app.app.base_url());
    let address = server.url();
    probe
        .publish(&address, "orders", json!({ "key": "o", "value": "order" }))
        .await;
    // One connection handles both channels in order: once the later e-mail message is in,
    // the order message has been dispatched too.
    probe
        .publish(&address, "emails", json!({ "key": "e", "value": "email" }))
        .await;
    probe.wait_for_kv("emails-sub:e", "email").await;
    probe.wait_for_kv("orders-sub:o", "order").await;
    assert_eq!(probe.kv("emails-sub:o").await, Value::Null);
    assert_eq!(probe.kv("orders-sub:e").await, Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_is_subscribed_when_start_returns_so_no_early_message_is_lost() {
    let server = redis_server().await;
    let app = start_two_channels(&server).await;
    // No waiting for subscribers: a publish straight after start must be received.
    let mut conn = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let receivers: i64 = redis::cmd("PUBLISH")
        .arg("orders")
        .arg(json!({ "key": "early", "value": "seen" }).to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(receivers, 1);
    Probe::new(app.app.base_url())
        .wait_for_kv("orders-sub:early", "seen")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templated_address_and_channel_resolve_from_variables() {
    let server = redis_server().await;
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "redis-templates"

[variables]
redis_host = { default = "127.0.0.1" }
redis_port = { required = true }
stage = { required = true }

# Never used: the trigger's own address overrides it.
[application.trigger.redis]
address = "redis://127.0.0.1:1"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.redis]]
address = "redis://{{ redis_host }}:{{ redis_port }}"
channel = "orders-{{ stage }}"
component = "sub"

[component.probe]
source = "{probe}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["redis://{{ redis_host }}:{{ redis_port }}"]

[component.sub]
source = "{subscriber}"
key_value_stores = ["default"]
environment = { COMPONENT = "sub" }
"#;
    let port = server.port().to_string();
    let app =
        TestApp::start_with(manifest, None, &[("redis_port", &port), ("stage", "test")]).await;
    let probe = Probe::new(app.app.base_url());
    probe
        .publish(
            &server.url(),
            "orders-test",
            json!({ "key": "k", "value": "templated" }),
        )
        .await;
    probe.wait_for_kv("sub:k", "templated").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_restarts_later_messages_are_handled_again() {
    let mut server = redis_server().await;
    let app = start_two_channels(&server).await;
    let probe = Probe::new(app.app.base_url());
    let address = server.url();
    probe
        .publish(&address, "orders", json!({ "key": "before", "value": "1" }))
        .await;
    probe.wait_for_kv("orders-sub:before", "1").await;

    server.restart().await.expect("restarting redis-server");
    // The host reconnects with backoff and subscribes again; until then messages are lost
    // (pub/sub), so wait for its subscription as any publisher would have to.
    wait_for_subscribers(&server, "orders", 1).await;
    wait_for_subscribers(&server, "emails", 1).await;
    probe
        .publish(&address, "orders", json!({ "key": "after", "value": "2" }))
        .await;
    probe.wait_for_kv("orders-sub:after", "2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_or_dropping_the_app_ends_its_subscriptions() {
    let server = redis_server().await;
    let app = start_two_channels(&server).await;
    assert_eq!(subscribers(&server, "orders").await, 1);
    app.app.stop().await;
    wait_for_no_subscribers(&server, "orders").await;

    let app = start_two_channels(&server).await;
    assert_eq!(subscribers(&server, "orders").await, 1);
    drop(app);
    wait_for_no_subscribers(&server, "orders").await;
}

async fn wait_for_no_subscribers(server: &RedisServer, channel: &str) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while subscribers(server, channel).await > 0 {
        assert!(Instant::now() < deadline, "`{channel}` is still subscribed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_whose_redis_is_unreachable_fails_to_start_naming_the_address() {
    let server = redis_server().await;
    let port = server.port();
    // Nothing listens there any more.
    drop(server);
    let (_dir, options) = prepare(
        &TWO_CHANNELS.replace("{redis}", &format!("redis://127.0.0.1:{port}")),
        None,
    );
    let err = match RunningApp::start(options).await {
        Ok(_) => panic!("the app started without its Redis"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains(&format!("failed to connect to 127.0.0.1:{port}")),
        "{err}"
    );
}

/// The probe may use exactly one Redis server.
const OUTBOUND: &str = r#"
spin_manifest_version = 2
[application]
name = "redis-outbound"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/unpermitted/..."
component = "unpermitted"

[component.probe]
source = "{probe}"
allowed_outbound_hosts = ["{redis}"]

[component.unpermitted]
source = "{probe}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_redis_to_a_host_not_allowed_is_invalid_address() {
    let server = redis_server().await;
    let app = TestApp::start(&OUTBOUND.replace("{redis}", &server.url())).await;
    let probe = Probe::new(app.app.base_url());
    let port = server.port();
    for address in [
        format!("redis://127.0.0.1:{}", port + 1),
        // The same server under another name is another host to the policy, as in Spin.
        format!("redis://localhost:{port}"),
        "not-a-url".to_owned(),
    ] {
        let report = probe.redis(&address, "action=get&key=k", "").await;
        assert_eq!(
            report,
            json!({ "error": "Error::InvalidAddress" }),
            "{address}"
        );
    }
    let report = probe
        .publish(&format!("redis://127.0.0.1:{}", port + 1), "c", json!("x"))
        .await;
    assert_eq!(report, json!({ "error": "Error::InvalidAddress" }));

    // A component without any allowed host cannot reach even the real server.
    let res = app
        .client
        .post(format!(
            "{}/unpermitted/x?op=redis&address={}&action=get&key=k",
            app.app.base_url(),
            server.url()
        ))
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    assert_eq!(report, json!({ "error": "Error::InvalidAddress" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_get_set_incr_del_sadd_smembers_srem_and_execute_round_trip() {
    let server = redis_server().await;
    let app = TestApp::start(&OUTBOUND.replace("{redis}", &server.url())).await;
    let probe = Probe::new(app.app.base_url());
    let a = server.url();
    let a = a.as_str();

    assert_eq!(
        probe.redis(a, "action=get&key=greeting", "").await,
        json!({ "ok": null })
    );
    assert_eq!(
        probe.redis(a, "action=set&key=greeting", "hello").await,
        json!({ "ok": null })
    );
    assert_eq!(
        probe.redis(a, "action=get&key=greeting", "").await,
        json!({ "ok": "hello" })
    );
    // What the guest wrote is in the real server.
    let mut conn = server
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: String = redis::cmd("GET")
        .arg("greeting")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, "hello");

    assert_eq!(
        probe.redis(a, "action=incr&key=n", "").await,
        json!({ "ok": 1 })
    );
    assert_eq!(
        probe.redis(a, "action=incr&key=n", "").await,
        json!({ "ok": 2 })
    );
    // A server error is `other(message)`, like Spin.
    let report = probe.redis(a, "action=incr&key=greeting", "").await;
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Error::Other(") && e.contains("not an integer")),
        "{report}"
    );

    assert_eq!(
        probe
            .redis(a, "action=sadd&key=tags", r#"["a","b","c"]"#)
            .await,
        json!({ "ok": 3 })
    );
    assert_eq!(
        probe.redis(a, "action=sadd&key=tags", r#"["c","d"]"#).await,
        json!({ "ok": 1 })
    );
    assert_eq!(
        probe
            .redis(a, "action=srem&key=tags", r#"["a","zz"]"#)
            .await,
        json!({ "ok": 1 })
    );
    assert_eq!(
        probe.redis(a, "action=smembers&key=tags", "").await,
        json!({ "ok": ["b", "c", "d"] })
    );
    // A command on a key of another type is a server error: `other`, not `type-error`, as in
    // Spin (which keeps `type-error` for replies it cannot convert).
    let report = probe.redis(a, "action=sadd&key=greeting", r#"["x"]"#).await;
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Error::Other(") && e.contains("WRONGTYPE")),
        "{report}"
    );

    assert_eq!(
        probe
            .redis(a, "action=del", r#"["greeting","n","missing"]"#)
            .await,
        json!({ "ok": 2 })
    );
    assert_eq!(
        probe.redis(a, "action=get&key=greeting", "").await,
        json!({ "ok": null })
    );

    let execute = |command: &'static str, args: Value| {
        let probe = &probe;
        async move {
            probe
                .redis(
                    a,
                    &format!("action=execute&command={command}"),
                    args.to_string(),
                )
                .await
        }
    };
    assert_eq!(
        execute("SET", json!([{ "binary": "x" }, { "int64": 42 }])).await,
        json!({ "ok": [{ "status": "OK" }] })
    );
    assert_eq!(
        execute("GET", json!([{ "binary": "x" }])).await,
        json!({ "ok": [{ "binary": "42" }] })
    );
    assert_eq!(
        execute("INCRBY", json!([{ "binary": "x" }, { "int64": 8 }])).await,
        json!({ "ok": [{ "int64": 50 }] })
    );
    // Arrays are flattened into the result list; nil stays nil.
    assert_eq!(
        execute("MGET", json!([{ "binary": "x" }, { "binary": "nope" }])).await,
        json!({ "ok": [{ "binary": "50" }, { "nil": null }] })
    );
    let report = execute("NOSUCHCOMMAND", json!([])).await;
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Error::Other(")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_trigger_address_is_refused_at_start_up_without_showing_its_password() {
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "redis-bad-address"

[[trigger.redis]]
address = "redis://:hunter2@cache:not-a-port"
channel = "orders"
component = "sub"

[component.sub]
source = "{subscriber}"
"#;
    let (_dir, options) = prepare(manifest, None);
    let err = match RunningApp::start(options).await {
        Ok(_) => panic!("the app started with an unusable Redis address"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("[[trigger.redis]]") && err.contains("is not a Redis address"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}
