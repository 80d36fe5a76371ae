use crate::helpers::TestApp;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "kv"

[[trigger.http]]
route = "/granted/..."
component = "granted"

[[trigger.http]]
route = "/ungranted/..."
component = "ungranted"

[component.granted]
source = "{probe}"
key_value_stores = ["default", "cache"]

[component.ungranted]
source = "{probe}"
key_value_stores = ["default"]
"#;

const RUNTIME_CONFIG: &str = r#"
[key_value_store.cache]
type = "spin"
path = "cache.db"
"#;

async fn start() -> TestApp {
    TestApp::start_with(MANIFEST, Some(RUNTIME_CONFIG), &[]).await
}

async fn kv(app: &TestApp, component: &str, query: &str, body: &str) -> serde_json::Value {
    app.post_json(&format!("/{component}/kv?op=kv&{query}"), body.to_owned())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_exists_keys_and_delete_behave_like_spin() {
    let app = start().await;
    for store in ["default", "cache"] {
        let set = kv(
            &app,
            "granted",
            &format!("store={store}&action=set&key=a"),
            "1",
        )
        .await;
        assert_eq!(set["ok"], serde_json::Value::Null, "{set}");
        kv(
            &app,
            "granted",
            &format!("store={store}&action=set&key=b"),
            "2",
        )
        .await;
        kv(
            &app,
            "granted",
            &format!("store={store}&action=set&key=a"),
            "overwritten",
        )
        .await;
        let got = kv(
            &app,
            "granted",
            &format!("store={store}&action=get&key=a"),
            "",
        )
        .await;
        assert_eq!(got["ok"], "overwritten");
        let keys = kv(&app, "granted", &format!("store={store}&action=keys"), "").await;
        assert_eq!(keys["ok"], serde_json::json!(["a", "b"]));
        let exists = kv(
            &app,
            "granted",
            &format!("store={store}&action=exists&key=b"),
            "",
        )
        .await;
        assert_eq!(exists["ok"], true);
        kv(
            &app,
            "granted",
            &format!("store={store}&action=delete&key=b"),
            "",
        )
        .await;
        let exists = kv(
            &app,
            "granted",
            &format!("store={store}&action=exists&key=b"),
            "",
        )
        .await;
        assert_eq!(exists["ok"], false);
        let missing = kv(
            &app,
            "granted",
            &format!("store={store}&action=get&key=b"),
            "",
        )
        .await;
        assert_eq!(missing["ok"], serde_json::Value::Null);
        // Deleting what is not there is not an error.
        let again = kv(
            &app,
            "granted",
            &format!("store={store}&action=delete&key=b"),
            "",
        )
        .await;
        assert!(again.get("error").is_none(), "{again}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_with_different_labels_do_not_share_keys() {
    let app = start().await;
    kv(
        &app,
        "granted",
        "store=default&action=set&key=k",
        "in-default",
    )
    .await;
    let other = kv(&app, "granted", "store=cache&action=get&key=k", "").await;
    assert_eq!(other["ok"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_survive_a_host_restart() {
    let app = start().await;
    kv(&app, "granted", "store=cache&action=set&key=persist", "yes").await;
    kv(
        &app,
        "granted",
        "store=default&action=set&key=persist",
        "also",
    )
    .await;
    let app = app.restart().await;
    let cache = kv(&app, "granted", "store=cache&action=get&key=persist", "").await;
    assert_eq!(cache["ok"], "yes");
    let default = kv(&app, "granted", "store=default&action=get&key=persist", "").await;
    assert_eq!(default["ok"], "also");
    // Relative key-value paths resolve against the runtime-config file's directory.
    assert!(
        app.dir.path().join("cache.db").exists(),
        "runtime-config store file"
    );
    assert!(
        app.dir.path().join(".spin/sqlite_key_value.db").exists(),
        "default store file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_the_component_was_not_granted_is_access_denied() {
    let app = start().await;
    let denied = kv(&app, "ungranted", "store=cache&action=get&key=a", "").await;
    assert_eq!(denied["error"], "Error::AccessDenied");
    let undefined = kv(&app, "ungranted", "store=nope&action=get&key=a", "").await;
    assert_eq!(undefined["error"], "Error::AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_that_answered_is_seen_by_every_later_get() {
    let app = start().await;
    for i in 0..20 {
        let value = format!("v{i}");
        let set = kv(&app, "granted", "store=cache&action=set&key=k", &value).await;
        assert!(set.get("error").is_none(), "{set}");
        let gets = (0..4).map(|_| kv(&app, "granted", "store=cache&action=get&key=k", ""));
        for got in futures_util::future::join_all(gets).await {
            assert_eq!(got["ok"], value.as_str());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_and_sets_at_once_each_see_a_whole_value() {
    let app = start().await;
    let big = |c: char| c.to_string().repeat(20_000);
    kv(&app, "granted", "store=cache&action=set&key=k", &big('a')).await;
    let sets = ['b', 'c', 'd', 'e'].map(|c| {
        let app = &app;
        async move { kv(app, "granted", "store=cache&action=set&key=k", &big(c)).await }
    });
    let gets = (0..16).map(|_| kv(&app, "granted", "store=cache&action=get&key=k", ""));
    let (sets, gets) = tokio::join!(
        futures_util::future::join_all(sets),
        futures_util::future::join_all(gets)
    );
    assert!(sets.iter().all(|s| s.get("error").is_none()), "{sets:?}");
    for got in gets {
        let text = got["ok"].as_str().unwrap_or_default();
        let first = text.chars().next().unwrap_or('?');
        assert_eq!(text, big(first), "one whole value, never a mix");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_files_are_in_wal_mode_with_the_wal_beside_them() {
    let app = start().await;
    for store in ["default", "cache"] {
        kv(
            &app,
            "granted",
            &format!("store={store}&action=set&key=k"),
            "v",
        )
        .await;
    }
    let dir = app.dir.path();
    for file in ["cache.db", ".spin/sqlite_key_value.db"] {
        assert!(dir.join(format!("{file}-wal")).exists(), "{file}-wal");
        let db = rusqlite::Connection::open(dir.join(file)).expect("the store file opens");
        let mode: String = db
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal mode");
        assert_eq!(mode, "wal", "{file}");
    }
}

/// Two apps (two replicas) whose `cache` is a Redis database.
async fn replicas_on_redis(redis: &reen_host::testing::RedisServer) -> (TestApp, TestApp) {
    let config = format!(
        "[key_value_store.cache]\ntype = \"redis\"\nurl = \"{}/1\"\n",
        redis.url()
    );
    let first = TestApp::start_with(MANIFEST, Some(&config), &[]).await;
    let second = TestApp::start_with(MANIFEST, Some(&config), &[]).await;
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_store_is_shared_by_every_app_on_it_and_keeps_spins_key_layout() {
    let redis = crate::redis::redis_server().await;
    let (first, second) = replicas_on_redis(&redis).await;

    kv(&first, "granted", "store=cache&action=set&key=a", "1").await;
    kv(&second, "granted", "store=cache&action=set&key=b", "2").await;
    kv(&second, "granted", "store=cache&action=set&key=a", "again").await;

    for app in [&first, &second] {
        let got = kv(app, "granted", "store=cache&action=get&key=a", "").await;
        assert_eq!(got["ok"], "again", "{got}");
        let keys = kv(app, "granted", "store=cache&action=keys", "").await;
        assert_eq!(keys["ok"], serde_json::json!(["a", "b"]));
        let exists = kv(app, "granted", "store=cache&action=exists&key=b", "").await;
        assert_eq!(exists["ok"], true);
    }
    kv(&first, "granted", "store=cache&action=delete&key=b", "").await;
    let exists = kv(&second, "granted", "store=cache&action=exists&key=b", "").await;
    assert_eq!(exists["ok"], false);
    let missing = kv(&second, "granted", "store=cache&action=get&key=b", "").await;
    assert_eq!(missing["ok"], serde_json::Value::Null);
    // The SQLite `default` store of each app stays its own.
    kv(&first, "granted", "store=default&action=set&key=a", "mine").await;
    let other = kv(&second, "granted", "store=default&action=get&key=a", "").await;
    assert_eq!(other["ok"], serde_json::Value::Null);

    // Spin's `redis` provider's layout: the key itself (no label), in the URL's database.
    let client = redis::Client::open(format!("{}/1", redis.url())).expect("a URL");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis answers");
    let raw: Option<Vec<u8>> = redis::AsyncCommands::get(&mut connection, "a")
        .await
        .expect("GET");
    assert_eq!(raw.as_deref(), Some(&b"again"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_store_answers_other_while_redis_is_down_and_recovers_after() {
    let mut redis = crate::redis::redis_server().await;
    let (app, _) = replicas_on_redis(&redis).await;
    kv(&app, "granted", "store=cache&action=set&key=k", "v").await;

    redis.stop();
    let down = kv(&app, "granted", "store=cache&action=get&key=k", "").await;
    assert!(
        down["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Error::Other(")),
        "{down}"
    );

    redis.restart().await.expect("redis-server restarts");
    let set = kv(&app, "granted", "store=cache&action=set&key=k", "back").await;
    assert!(
        set.get("error").is_none(),
        "a new connection after the failure: {set}"
    );
    let got = kv(&app, "granted", "store=cache&action=get&key=k", "").await;
    assert_eq!(got["ok"], "back");
}
