//! Component dependencies: `root` (HTTP) imports `reen:test/notes`, `reen:about/about` and
//! `reen:reach/reach`, all satisfied by `leaf`'s built file, while `leaf` also runs as an HTTP
//! component of its own. The leaf code opens the SQLite label named by the variable `notes_db`,
//! so which database it reaches shows whose configuration it runs with; `reach` tries one
//! capability per call, so which ones it inherited shows too. The same manifests run on real
//! Spin in `spin_conformance.rs`, with the same expectations.

use crate::helpers::{TestApp, fixture, prepare};
use reen_host::RunningApp;
use serde_json::{Value, json};

/// Two labels, one per component, in separate files.
pub const RUNTIME_CONFIG: &str = r#"
[sqlite_database.leaf_notes]
type = "spin"
path = "leaf_notes.db"

[sqlite_database.root_notes]
type = "spin"
path = "root_notes.db"
"#;

/// `leaf` with its own label, and `root` with a different one, a key-value store, an outbound
/// host (the leaf, by service chaining) and an environment variable, plus the given `root`
/// settings (inheritance, `[component.root.dependencies]`). `deps/leaf.wasm` is a copy of the
/// leaf fixture placed next to the manifest by [`place_dependencies`].
pub fn manifest(root_settings: &str) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "composition"

[[trigger.http]]
route = "/leaf/..."
component = "leaf"

[[trigger.http]]
route = "/root/..."
component = "root"

[component.leaf]
source = "{{leaf}}"
sqlite_databases = ["leaf_notes"]
variables = {{ notes_db = "leaf_notes" }}

[component.root]
source = "{{root}}"
sqlite_databases = ["root_notes"]
variables = {{ notes_db = "root_notes" }}
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://leaf.spin.internal"]
environment = {{ REEN_WHO = "root" }}
{root_settings}
"#
    )
}

/// `root` importing every interface from the leaf's file, inheriting its configuration.
pub const INHERITING: &str = r#"
dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// The same without inheritance: every capability denied.
pub const NOT_INHERITING: &str = r#"
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// Each dependency inherits root's databases only.
pub const ONLY_DATABASES: &str = r#"
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm", inherit_configuration = ["sqlite_databases"] }
"reen:about/about" = { path = "deps/leaf.wasm", inherit_configuration = ["sqlite_databases"] }
"reen:reach/reach" = { path = "deps/leaf.wasm", inherit_configuration = ["sqlite_databases"] }
"#;

/// Each dependency inherits everything of root's but its databases.
pub const ALL_BUT_DATABASES: &str = r#"
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm", inherit_configuration = ["variables", "key_value_stores", "allowed_outbound_hosts", "environment"] }
"reen:about/about" = { path = "deps/leaf.wasm", inherit_configuration = ["variables", "key_value_stores", "allowed_outbound_hosts", "environment"] }
"reen:reach/reach" = { path = "deps/leaf.wasm", inherit_configuration = ["variables", "key_value_stores", "allowed_outbound_hosts", "environment"] }
"#;

/// `reen:test/notes` from `nested`, which itself imports `reen:test/other`.
pub const NESTED: &str = r#"
dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { path = "deps/nested.wasm" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// `{ component = "leaf" }`, although `leaf` declares a database and variables of its own.
pub const BY_COMPONENT_ID: &str = r#"
dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { component = "leaf" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// An `export` the leaf does not have.
pub const MISSING_EXPORT: &str = r#"
dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm", export = "reen:test/journal" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// Two keys of package `reen:test` that both claim `reen:test/notes`.
pub const OVERLAPPING_KEYS: &str = r#"
dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { path = "deps/leaf.wasm" }
"reen:test" = { path = "deps/leaf.wasm" }
"reen:about/about" = { path = "deps/leaf.wasm" }
"reen:reach/reach" = { path = "deps/leaf.wasm" }
"#;

/// Copies the dependency files next to the manifest, where `{ path = "deps/..." }` finds them
/// (relative to the manifest's directory).
pub fn place_dependencies(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("deps")).unwrap();
    for name in ["leaf", "nested"] {
        std::fs::copy(fixture(name), dir.join(format!("deps/{name}.wasm"))).unwrap();
    }
}

async fn start(root_settings: &str) -> TestApp {
    let (dir, options) = prepare(&manifest(root_settings), Some(RUNTIME_CONFIG));
    place_dependencies(dir.path());
    let app = RunningApp::start(options).await.expect("app starts");
    TestApp {
        app,
        dir,
        client: reqwest::Client::new(),
    }
}

/// The start-up error for these `root` settings, as the CLI prints it.
async fn refusal(root_settings: &str) -> String {
    let (dir, options) = prepare(&manifest(root_settings), Some(RUNTIME_CONFIG));
    place_dependencies(dir.path());
    match RunningApp::start(options).await {
        Ok(_) => panic!("the app started with:\n{root_settings}"),
        Err(err) => format!("{err:#}"),
    }
}

/// `GET` or `POST` (with a body) a route and return the JSON the fixture answers.
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let request = match body {
        Some(body) => client.post(format!("{base}{path}")).body(body.to_owned()),
        None => client.get(format!("{base}{path}")),
    };
    let res = request.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

/// What both hosts must show for [`INHERITING`]: the leaf code inside `root` works against
/// root's database, and the leaf's own route against its own, neither seeing the other's notes.
pub async fn check_inherited_isolation(client: &reqwest::Client, base: &str) {
    assert_eq!(
        call(client, base, "/root/notes", Some("written through root")).await,
        (200, json!({ "ok": 1 }))
    );
    assert_eq!(
        call(client, base, "/leaf/notes", None).await,
        (200, json!({ "ok": [] })),
        "the leaf's own database does not see what root wrote"
    );
    assert_eq!(
        call(client, base, "/leaf/notes", Some("written through leaf")).await,
        (200, json!({ "ok": 1 }))
    );
    assert_eq!(
        call(client, base, "/root/notes", None).await,
        (200, json!({ "ok": ["written through root"] })),
        "root's database does not see what the leaf wrote on its own route"
    );
    assert_eq!(
        call(client, base, "/leaf/notes", None).await,
        (200, json!({ "ok": ["written through leaf"] }))
    );
    assert_eq!(
        call(client, base, "/root/about", None).await,
        (200, json!({ "ok": "leaf" }))
    );
}

/// Each capability the leaf code inside `root` tries (`POST /root/reach/<capability>`, the
/// argument as body): the set that grants it, the argument, and what it gets with root's grant
/// and when denied. The denials are what Spin's deny adapter answers, as the guest's `Debug`
/// renders them.
const REACHES: [(&str, &str, &str, Answer, Answer); 6] = [
    (
        "variables",
        "variable",
        "notes_db",
        Answer::Ok(r#""root_notes""#),
        Answer::Err(r#"Error::Undefined("notes_db")"#),
    ),
    (
        "sqlite_databases",
        "database",
        "root_notes",
        Answer::Ok("null"),
        Answer::Err("Error::AccessDenied"),
    ),
    (
        "key_value_stores",
        "store",
        "default",
        Answer::Ok("null"),
        Answer::Err("Error::AccessDenied"),
    ),
    (
        "allowed_outbound_hosts",
        "http",
        "http://leaf.spin.internal/leaf/notes",
        Answer::Ok("200"),
        Answer::Err(
            r#"Http(ErrorCode::InternalError(Some("\"wasi:http/outgoing-handler\" is not permitted")))"#,
        ),
    ),
    (
        // Not among root's outbound hosts: root's grant refuses it too, but differently.
        "allowed_outbound_hosts",
        "redis",
        "redis://127.0.0.1:6379",
        Answer::Err("Error::InvalidAddress"),
        Answer::Err(r#"Error::Other("\"fermyon:spin/redis\" is not permitted")"#),
    ),
    (
        "environment",
        "environment",
        "REEN_WHO",
        Answer::Ok(r#""root""#),
        Answer::Ok("null"),
    ),
];

/// What a `reach` call answers: `ok` with this JSON value, or `error` with this text.
#[derive(Clone, Copy)]
enum Answer {
    Ok(&'static str),
    Err(&'static str),
}

impl Answer {
    fn response(self) -> (u16, Value) {
        match self {
            Self::Ok(value) => (
                200,
                json!({ "ok": serde_json::from_str::<Value>(value).unwrap() }),
            ),
            Self::Err(error) => (500, json!({ "error": error })),
        }
    }
}

/// What both hosts must show when root's dependencies inherit the capability sets `inherits`:
/// each capability works with root's grant if its set is inherited and is denied as Spin denies
/// it otherwise.
pub async fn check_reach(client: &reqwest::Client, base: &str, inherits: &[&str]) {
    for (set, capability, argument, granted, denied) in REACHES {
        let expected = if inherits.contains(&set) {
            granted
        } else {
            denied
        };
        assert_eq!(
            call(
                client,
                base,
                &format!("/root/reach/{capability}"),
                Some(argument)
            )
            .await,
            expected.response(),
            "{capability} {argument:?} when inheriting {inherits:?}"
        );
    }
}

/// Every capability set root's grants cover.
pub const EVERY_SET: [&str; 5] = [
    "variables",
    "sqlite_databases",
    "key_value_stores",
    "allowed_outbound_hosts",
    "environment",
];

/// What [`ALL_BUT_DATABASES`] inherits.
pub const ALL_BUT_DATABASES_SETS: [&str; 4] = [
    "variables",
    "key_value_stores",
    "allowed_outbound_hosts",
    "environment",
];

/// What both hosts must show for [`NOT_INHERITING`] beyond [`check_reach`]: the notes cannot
/// be reached at all (the variable naming their database is denied), and nothing reached the
/// leaf's own database either.
pub async fn check_notes_denied(client: &reqwest::Client, base: &str) {
    assert_eq!(
        call(client, base, "/root/notes", Some("x")).await,
        (
            500,
            json!({ "error": r#"notes_db: Error::Undefined("notes_db")"# })
        )
    );
    assert_eq!(
        call(client, base, "/leaf/notes", None).await,
        (200, json!({ "ok": [] }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inheriting_dependency_runs_against_the_importers_database_not_its_own() {
    let app = start(INHERITING).await;
    check_inherited_isolation(&app.client, &app.app.base_url()).await;
    // Where the notes landed: root's file holds root's note, the leaf's file the leaf's.
    let files: Vec<bool> = ["root_notes.db", "leaf_notes.db"]
        .iter()
        .map(|f| app.dir.path().join(f).exists())
        .collect();
    assert_eq!(files, [true, true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inheriting_dependency_reaches_every_capability_with_the_importers_grants() {
    let app = start(INHERITING).await;
    check_reach(&app.client, &app.app.base_url(), &EVERY_SET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_that_inherits_nothing_starts_and_is_denied_every_capability_at_call_time() {
    let app = start(NOT_INHERITING).await;
    check_reach(&app.client, &app.app.base_url(), &[]).await;
    check_notes_denied(&app.client, &app.app.base_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_inheriting_only_databases_opens_them_but_is_denied_the_rest() {
    let app = start(ONLY_DATABASES).await;
    check_reach(&app.client, &app.app.base_url(), &["sqlite_databases"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_inheriting_all_but_databases_is_denied_only_those() {
    let app = start(ALL_BUT_DATABASES).await;
    check_reach(&app.client, &app.app.base_url(), &ALL_BUT_DATABASES_SETS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_with_a_dependency_of_its_own_is_refused() {
    let message = refusal(NESTED).await;
    assert!(message.contains("component `root`"), "{message}");
    assert!(message.contains("\"reen:test/notes\""), "{message}");
    assert!(message.contains("`reen:test/other`"), "{message}");
    assert!(message.contains("one level deep"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_dependency_with_its_own_resources_is_refused_with_spins_reason() {
    let message = refusal(BY_COMPONENT_ID).await;
    assert!(
        message
            .to_lowercase()
            .contains("dependencies may not have their own resources or permissions"),
        "{message}"
    );
    assert!(message.contains("`leaf`"), "{message}");
    assert!(message.contains("`root`"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_export_is_refused_naming_the_export() {
    let message = refusal(MISSING_EXPORT).await;
    assert!(message.contains("component `root`"), "{message}");
    assert!(
        message.contains("dependency \"reen:test/notes\""),
        "{message}"
    );
    assert!(
        message.contains("doesn't export `reen:test/journal`"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_keys_claiming_the_same_interface_are_refused() {
    let message = refusal(OVERLAPPING_KEYS).await;
    assert!(
        message.contains(
            "dependencies \"reen:test\" and \"reen:test/notes\" conflict: both name package `reen:test`"
        ),
        "{message}"
    );
}
