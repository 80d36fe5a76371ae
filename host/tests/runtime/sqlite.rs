use crate::helpers::TestApp;
use serde_json::{Value, json};

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "sqlite"

[[trigger.http]]
route = "/db/..."
component = "db"

[component.db]
source = "{probe}"
sqlite_databases = ["default", "orders"]
"#;

const RUNTIME_CONFIG: &str = r#"
[sqlite_database.orders]
type = "spin"
path = "data/orders.db"
"#;

async fn start() -> TestApp {
    TestApp::start_with(MANIFEST, Some(RUNTIME_CONFIG), &[]).await
}

/// Runs statements on one connection of `db` through the given API version.
async fn sql(app: &TestApp, api: &str, db: &str, statements: Value) -> Value {
    app.post_json(
        &format!("/db/x?op=sql&api={api}&db={db}"),
        json!({ "statements": statements }).to_string(),
    )
    .await
}

fn stmt(sql: &str, params: Value) -> Value {
    json!({ "sql": sql, "params": params })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parameter_type_round_trips_through_both_api_versions() {
    let app = start().await;
    for api in ["v2", "v3"] {
        let table = format!("t_{api}");
        let values = json!([
            {"integer": -9007199254740993_i64}, {"real": 2.5}, {"text": "héllo"},
            {"blob": [0, 1, 254, 255]}, {"null": null}
        ]);
        let out = sql(
            &app,
            api,
            "default",
            json!([
                stmt(
                    &format!("CREATE TABLE {table} (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)"),
                    json!([])
                ),
                stmt(
                    &format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?)"),
                    values.clone()
                ),
                stmt(&format!("SELECT i, r, t, b, n FROM {table}"), json!([])),
            ]),
        )
        .await;
        let results = out["results"].as_array().unwrap_or_else(|| panic!("{out}"));
        assert_eq!(results[2]["columns"], json!(["i", "r", "t", "b", "n"]));
        assert_eq!(results[2]["rows"], json!([values]), "{api}");
        if api == "v3" {
            assert_eq!(results[1]["changes"], 1);
            assert_eq!(results[1]["last_insert_rowid"], 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_persist_across_a_restart() {
    let app = start().await;
    sql(
        &app,
        "v3",
        "orders",
        json!([
            stmt("CREATE TABLE orders (id TEXT PRIMARY KEY)", json!([])),
            stmt("INSERT INTO orders VALUES (?)", json!([{"text": "o-1"}])),
        ]),
    )
    .await;
    let app = app.restart().await;
    let out = sql(
        &app,
        "v3",
        "orders",
        json!([stmt("SELECT id FROM orders", json!([]))]),
    )
    .await;
    assert_eq!(out["results"][0]["rows"], json!([[{"text": "o-1"}]]));
    // Relative sqlite paths resolve against the working directory, as in Spin.
    assert!(app.dir.path().join("data/orders.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_separate_databases() {
    let app = start().await;
    sql(
        &app,
        "v3",
        "default",
        json!([stmt("CREATE TABLE only_in_default (x)", json!([]))]),
    )
    .await;
    let out = sql(
        &app,
        "v3",
        "orders",
        json!([stmt("SELECT * FROM only_in_default", json!([]))]),
    )
    .await;
    assert!(
        out["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no such table"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_statements_are_errors_the_guest_sees() {
    let app = start().await;
    let out = sql(
        &app,
        "v2",
        "default",
        json!([stmt("SELEKT nonsense", json!([]))]),
    )
    .await;
    let error = out["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("Error::Io(") && error.contains("syntax error"),
        "{out}"
    );

    let out = sql(
        &app,
        "v3",
        "default",
        json!([stmt("SELECT 1; SELECT 2", json!([]))]),
    )
    .await;
    assert!(
        out["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Multiple statements"),
        "{out}"
    );

    // The component is still healthy afterwards.
    let out = sql(
        &app,
        "v3",
        "default",
        json!([stmt("SELECT 1 AS one", json!([]))]),
    )
    .await;
    assert_eq!(out["results"][0]["rows"], json!([[{"integer": 1}]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_on_one_connection_commits_or_rolls_back_with_the_handle() {
    let app = start().await;
    sql(
        &app,
        "v3",
        "default",
        json!([stmt("CREATE TABLE ledger (n INTEGER)", json!([]))]),
    )
    .await;
    // Left open: dropping the connection at the end of the request rolls it back.
    sql(
        &app,
        "v3",
        "default",
        json!([
            stmt("BEGIN", json!([])),
            stmt("INSERT INTO ledger VALUES (1)", json!([])),
        ]),
    )
    .await;
    sql(
        &app,
        "v3",
        "default",
        json!([
            stmt("BEGIN", json!([])),
            stmt("INSERT INTO ledger VALUES (2)", json!([])),
            stmt("COMMIT", json!([])),
        ]),
    )
    .await;
    let out = sql(
        &app,
        "v3",
        "default",
        json!([stmt("SELECT n FROM ledger", json!([]))]),
    )
    .await;
    assert_eq!(out["results"][0]["rows"], json!([[{"integer": 2}]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ungranted_database_is_access_denied() {
    let app = start().await;
    for api in ["v2", "v3"] {
        let out = sql(&app, api, "other", json!([stmt("SELECT 1", json!([]))])).await;
        assert_eq!(out["error"], "Error::AccessDenied", "{api}");
    }
}

/// The first row of the first result of a `sql` answer.
fn first_row(out: &Value) -> Value {
    out["results"][0]["rows"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_left_open_does_not_reach_the_next_request() {
    let app = start().await;
    sql(
        &app,
        "v3",
        "orders",
        json!([stmt("CREATE TABLE ledger (n INTEGER)", json!([]))]),
    )
    .await;
    for round in 0..3 {
        // Read-only and left open, even holding the write lock: the connection is reused.
        let open = sql(
            &app,
            "v3",
            "orders",
            json!([
                stmt("BEGIN IMMEDIATE", json!([])),
                stmt("SELECT COUNT(*) FROM ledger", json!([])),
            ]),
        )
        .await;
        assert!(open.get("error").is_none(), "{open}");
        // Left open with a write: rolled back.
        sql(
            &app,
            "v3",
            "orders",
            json!([
                stmt("BEGIN", json!([])),
                stmt("INSERT INTO ledger VALUES (-1)", json!([])),
            ]),
        )
        .await;
        let next = sql(
            &app,
            "v3",
            "orders",
            json!([
                stmt("BEGIN IMMEDIATE", json!([])),
                stmt("INSERT INTO ledger VALUES (?)", json!([{"integer": round}])),
                stmt("COMMIT", json!([])),
                stmt("SELECT COUNT(*), MIN(n) FROM ledger", json!([])),
            ]),
        )
        .await;
        assert!(next.get("error").is_none(), "round {round}: {next}");
        assert_eq!(
            next["results"][3]["rows"][0],
            json!([{"integer": round + 1}, {"integer": 0}]),
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_state_one_request_set_is_not_seen_by_the_next() {
    let app = start().await;
    let run = |statements: Value| sql(&app, "v3", "orders", statements);
    let default = run(json!([
        stmt("CREATE TABLE t (x INTEGER PRIMARY KEY)", json!([])),
        stmt("INSERT INTO t VALUES (41)", json!([])),
        stmt("PRAGMA cache_size", json!([])),
    ]))
    .await["results"][2]["rows"]
        .clone();
    run(json!([
        stmt("PRAGMA cache_size = 7", json!([])),
        stmt("CREATE TEMP TABLE scratch (x)", json!([])),
        stmt("ATTACH ':memory:' AS extra", json!([])),
    ]))
    .await;
    let fresh = run(json!([
        stmt(
            "SELECT changes(), total_changes(), last_insert_rowid()",
            json!([])
        ),
        stmt("PRAGMA cache_size", json!([])),
        stmt(
            "SELECT name FROM pragma_database_list ORDER BY seq",
            json!([])
        ),
    ]))
    .await;
    assert_eq!(
        first_row(&fresh),
        json!([{"integer": 0}, {"integer": 0}, {"integer": 0}]),
        "a fresh connection's counters: {fresh}"
    );
    assert_eq!(fresh["results"][1]["rows"], default);
    assert_eq!(fresh["results"][2]["rows"], json!([[{"text": "main"}]]));
    let scratch = run(json!([stmt("SELECT * FROM scratch", json!([]))])).await;
    assert!(
        scratch["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no such table"),
        "{scratch}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_one_request_is_read_by_the_next() {
    let app = start().await;
    sql(
        &app,
        "v2",
        "orders",
        json!([stmt("CREATE TABLE items (n INTEGER)", json!([]))]),
    )
    .await;
    for n in 1..=20_i64 {
        sql(
            &app,
            "v2",
            "orders",
            json!([stmt(
                "INSERT INTO items VALUES (?)",
                json!([{"integer": n}])
            )]),
        )
        .await;
        // Several reads at once, so several idle connections with warm caches serve them.
        let reads = (0..3).map(|_| {
            sql(
                &app,
                "v3",
                "orders",
                json!([stmt("SELECT COUNT(*), MAX(n) FROM items", json!([]))]),
            )
        });
        for out in futures_util::future::join_all(reads).await {
            assert_eq!(first_row(&out), json!([{"integer": n}, {"integer": n}]));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_queue_for_the_write_lock() {
    let app = start().await;
    sql(
        &app,
        "v3",
        "orders",
        json!([stmt("CREATE TABLE turns (seen INTEGER)", json!([]))]),
    )
    .await;
    // Each holds the write lock a while (a ~20 ms query) between reading how many went before
    // and committing; the others must wait for it, not fail with `database is locked`.
    let writers = (0..10).map(|_| {
        sql(
            &app,
            "v3",
            "orders",
            json!([
                stmt("BEGIN IMMEDIATE", json!([])),
                stmt("INSERT INTO turns SELECT COUNT(*) FROM turns", json!([])),
                stmt(
                    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000) \
                     SELECT COUNT(*) FROM c",
                    json!([])
                ),
                stmt("COMMIT", json!([])),
            ]),
        )
    });
    for out in futures_util::future::join_all(writers).await {
        assert!(out.get("error").is_none(), "{out}");
    }
    let out = sql(
        &app,
        "v3",
        "orders",
        json!([stmt("SELECT seen FROM turns ORDER BY seen", json!([]))]),
    )
    .await;
    let expected: Vec<Value> = (0..10).map(|n| json!([{"integer": n}])).collect();
    assert_eq!(out["results"][0]["rows"], json!(expected), "one at a time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_files_live_next_to_the_database() {
    let app = start().await;
    for db in ["orders", "default"] {
        sql(
            &app,
            "v3",
            db,
            json!([
                stmt("CREATE TABLE t (x)", json!([])),
                stmt("INSERT INTO t VALUES (1)", json!([])),
            ]),
        )
        .await;
        let out = sql(
            &app,
            "v3",
            db,
            json!([stmt("PRAGMA journal_mode", json!([]))]),
        )
        .await;
        assert_eq!(first_row(&out), json!([{"text": "wal"}]), "{db}");
    }
    let dir = app.dir.path();
    for db in ["data/orders.db", ".spin/sqlite_db.db"] {
        assert!(dir.join(format!("{db}-wal")).exists(), "{db}-wal");
        assert!(dir.join(format!("{db}-shm")).exists(), "{db}-shm");
    }
    let app = app.restart().await;
    let out = sql(
        &app,
        "v3",
        "orders",
        json!([stmt("SELECT x FROM t", json!([]))]),
    )
    .await;
    assert_eq!(out["results"][0]["rows"], json!([[{"integer": 1}]]));
}
