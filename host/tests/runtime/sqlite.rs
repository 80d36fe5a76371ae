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
