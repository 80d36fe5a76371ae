//! `deploy/`: every manifest is a valid SpinApp (against the CRD fixture) or a valid Kubernetes
//! object (kubernetes-validate's schemas), and says what `spin.toml` needs: the HTTP SpinApp
//! scales every component but `events`, `events` runs alone in one replica, every secret
//! variable comes from the Secret, the re-drive runs every minute; the production runtime config
//! puts every database and store the components use on shared storage, and Spin accepts it.

use crate::support::{
    RELEASE_WASM, object, python, repo_root, spin, spin_variables, tool, validated_objects,
};
use reen_host::manifest::Manifest;
use reen_host::testing::RedisServer;
use reen_host::testing::spin_cli::SpinUp;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The validated objects, once per test binary; `None` when the test is skipped (no Python).
fn objects(test: &str) -> Option<&'static [Value]> {
    static OBJECTS: OnceLock<Vec<Value>> = OnceLock::new();
    let python = python(test)?;
    Some(OBJECTS.get_or_init(|| validated_objects(&python)))
}

fn manifest() -> Manifest {
    Manifest::load(&repo_root().join("spin.toml")).expect("spin.toml loads")
}

/// The components a Redis trigger runs (the ones that must not scale).
fn redis_triggered(manifest: &Manifest) -> BTreeSet<String> {
    manifest
        .redis_triggers
        .iter()
        .map(|t| t.component.clone())
        .collect()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const HTTP_APP: &str = "reen-commerce";
const EVENTS_APP: &str = "reen-commerce-events";

#[test]
fn every_manifest_validates_against_the_spinapp_crd_and_the_kubernetes_schemas() {
    let Some(objects) = objects("every_manifest_validates") else {
        return;
    };
    let kinds: BTreeSet<String> = objects
        .iter()
        .map(|o| o["object"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    let expected = ["ConfigMap", "CronJob", "Secret", "SpinApp"];
    assert_eq!(kinds, expected.map(str::to_owned).into(), "{objects:?}");
    // The Secret template is not applied with the rest (`kubectl apply -f deploy/` is not
    // recursive): its values are placeholders.
    let secret = objects
        .iter()
        .find(|o| o["object"]["kind"] == "Secret")
        .expect("the Secret template");
    assert!(
        secret["file"]
            .as_str()
            .is_some_and(|f| f.contains("/deploy/secrets/")),
        "{secret}"
    );
}

#[test]
fn the_http_spinapp_scales_every_component_but_the_redis_triggered_one() {
    let Some(objects) = objects("the_http_spinapp_scales") else {
        return;
    };
    let manifest = manifest();
    let app = object(objects, "SpinApp", HTTP_APP);
    assert!(app["spec"]["replicas"].as_i64().unwrap_or(0) >= 2, "{app}");
    let http: BTreeSet<String> = manifest
        .components
        .keys()
        .filter(|id| !redis_triggered(&manifest).contains(*id))
        .cloned()
        .collect();
    assert_eq!(strings(&app["spec"]["components"]), http);
    assert_eq!(
        app["spec"]["checks"]["readiness"]["httpGet"]["path"],
        "/.well-known/spin/health"
    );
}

#[test]
fn the_events_spinapp_runs_only_the_redis_triggered_component_in_one_replica() {
    let Some(objects) = objects("the_events_spinapp") else {
        return;
    };
    let events = object(objects, "SpinApp", EVENTS_APP);
    assert_eq!(events["spec"]["replicas"], 1);
    assert_eq!(
        strings(&events["spec"]["components"]),
        redis_triggered(&manifest())
    );
    let http = object(objects, "SpinApp", HTTP_APP);
    assert_eq!(events["spec"]["image"], http["spec"]["image"], "one image");
    assert_eq!(
        events["spec"]["runtimeConfig"],
        http["spec"]["runtimeConfig"]
    );
    assert!(
        events["spec"]["runtimeConfig"]["loadFromSecret"].is_string(),
        "storage from the runtime-config Secret"
    );
}

#[test]
fn both_spinapps_bind_every_secret_and_required_variable_from_the_secret() {
    let Some(objects) = objects("both_spinapps_bind_every_secret") else {
        return;
    };
    let manifest = manifest();
    let secret = &object(objects, "Secret", "reen-commerce-secrets")["stringData"];
    let settings = &object(objects, "ConfigMap", "reen-commerce-settings")["data"];
    for name in [HTTP_APP, EVENTS_APP] {
        let app = object(objects, "SpinApp", name);
        let variables = app["spec"]["variables"].as_array().expect("variables");
        let bound: BTreeSet<&str> = variables
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        assert_eq!(bound.len(), variables.len(), "{name}: a variable twice");
        for (variable, decl) in &manifest.variables {
            if decl.secret || decl.required {
                let binding = variables
                    .iter()
                    .find(|v| v["name"] == variable.as_str())
                    .unwrap_or_else(|| panic!("{name} does not bind `{variable}`"));
                let key = &binding["valueFrom"]["secretKeyRef"];
                assert_eq!(key["name"], "reen-commerce-secrets", "{name}: {variable}");
                assert!(binding.get("value").is_none(), "{name}: {variable} inline");
                assert!(secret[key["key"].as_str().unwrap_or("?")].is_string());
            }
        }
        for binding in variables {
            let variable = binding["name"].as_str().unwrap_or_default();
            assert!(
                manifest.variables.contains_key(variable),
                "{name} binds `{variable}`, which spin.toml does not declare"
            );
            let from = &binding["valueFrom"];
            if let Some(key) = from["configMapKeyRef"]["key"].as_str() {
                assert!(settings[key].is_string(), "{name}: {variable}: no {key}");
            } else if let Some(key) = from["secretKeyRef"]["key"].as_str() {
                assert!(secret[key].is_string(), "{name}: {variable}: no {key}");
            }
        }
    }
    // The Secret template holds exactly what is secret, plus redis_url (it carries a password).
    let keys: BTreeSet<String> = secret
        .as_object()
        .expect("stringData")
        .keys()
        .cloned()
        .collect();
    let mut expected: BTreeSet<String> = manifest
        .variables
        .iter()
        .filter(|(_, decl)| decl.secret)
        .map(|(name, _)| name.clone())
        .collect();
    expected.insert("redis_url".into());
    assert_eq!(keys, expected);
}

#[test]
fn the_redrive_cronjob_posts_every_minute_with_the_redrive_secret() {
    let Some(objects) = objects("the_redrive_cronjob") else {
        return;
    };
    let job = object(objects, "CronJob", "reen-commerce-redrive");
    assert_eq!(job["spec"]["schedule"], "* * * * *");
    assert_eq!(job["spec"]["concurrencyPolicy"], "Forbid");
    let container = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let env = container["env"].as_array().expect("env");
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(
        var("REDRIVE_SECRET")["valueFrom"]["secretKeyRef"],
        serde_json::json!({ "name": "reen-commerce-secrets", "key": "redrive_secret" })
    );
    // The Service the operator creates for the HTTP SpinApp, on the route's path.
    assert_eq!(
        var("REDRIVE_URL")["value"],
        format!("http://{HTTP_APP}/api/v1/checkout/redrive")
    );
    // What the script does is run against a real app in `oci.rs`.
    assert!(redrive_script(objects).contains("-X POST"));
}

/// The shell script of the re-drive CronJob's container.
pub fn redrive_script(objects: &[Value]) -> String {
    let job = object(objects, "CronJob", "reen-commerce-redrive");
    let command =
        &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!(command[0], "/bin/sh");
    assert_eq!(command[1], "-c");
    command[2].as_str().expect("a script").to_owned()
}

/// The validated objects for another module's test (`None`: skipped).
pub fn deploy_objects(test: &str) -> Option<&'static [Value]> {
    objects(test)
}

/// `deploy/runtime-config.toml`, parsed.
fn production_runtime_config() -> toml::Table {
    let text = std::fs::read_to_string(repo_root().join("deploy/runtime-config.toml"))
        .expect("deploy/runtime-config.toml");
    text.parse().expect("valid TOML")
}

#[test]
fn the_production_runtime_config_puts_every_label_on_shared_storage() {
    let manifest = manifest();
    let config = production_runtime_config();
    let used = |labels: fn(&reen_host::manifest::ComponentDecl) -> &Vec<String>| {
        manifest
            .components
            .values()
            .flat_map(|c| labels(c).iter().cloned())
            .collect::<BTreeSet<String>>()
    };
    let section = |name: &str| config[name].as_table().expect("a section").clone();

    let databases = section("sqlite_database");
    let db_labels: BTreeSet<String> = databases.keys().cloned().collect();
    assert_eq!(db_labels, used(|c| &c.sqlite_databases));
    for (label, db) in &databases {
        assert_eq!(db["type"].as_str(), Some("libsql"), "{label}");
        let url = db["url"].as_str().unwrap_or_default();
        assert!(url.starts_with("https://"), "{label}: {url}");
        assert!(db["token"].is_str(), "{label}");
    }

    let stores = section("key_value_store");
    let kv_labels: BTreeSet<String> = stores.keys().cloned().collect();
    assert_eq!(kv_labels, used(|c| &c.key_value_stores));
    let urls: BTreeSet<&str> = stores
        .iter()
        .map(|(label, store)| {
            assert_eq!(store["type"].as_str(), Some("redis"), "{label}");
            store["url"].as_str().unwrap_or_default()
        })
        .collect();
    // Spin's Redis store does not prefix keys with the label: one Redis database each.
    assert_eq!(urls.len(), stores.len(), "two stores on one Redis database");
    assert!(
        urls.iter()
            .all(|url| !url.ends_with("/0") && url.starts_with("redis://"))
    );
}

/// `deploy/runtime-config.toml` with every key-value store on `redis` (same database numbers),
/// and the libSQL databases as written.
pub fn production_runtime_config_on(redis: &RedisServer) -> String {
    let mut config = production_runtime_config();
    let stores = config["key_value_store"]
        .as_table_mut()
        .expect("key_value_store");
    for (_, store) in stores.iter_mut() {
        let url = store["url"].as_str().expect("a url").to_owned();
        let database = url
            .rsplit('/')
            .next()
            .expect("a database number")
            .to_owned();
        store["url"] = toml::Value::String(format!("{}/{database}", redis.url()));
    }
    toml::to_string(&config).expect("TOML")
}

#[tokio::test]
async fn spin_starts_on_the_production_runtime_config() {
    let test = "spin_starts_on_the_production_runtime_config";
    let (Some(spin), Some(_)) = (spin(test), tool(test, "redis-server", "redis-server")) else {
        return;
    };
    let redis = RedisServer::start().await.expect("redis-server starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("runtime-config.toml");
    std::fs::write(&config, production_runtime_config_on(&redis)).expect("writing");
    let manifest = repo_root().join("spin.toml");
    let state = dir.path().join(".spin");
    let args = [
        "-f",
        manifest.to_str().expect("a UTF-8 path"),
        "--runtime-config-file",
        config.to_str().expect("a UTF-8 path"),
        // Spin's logs go there (a local app's default is the repository's .spin/).
        "--state-dir",
        state.to_str().expect("a UTF-8 path"),
    ];
    // Spin reads every key (an unknown or misspelled one stops it), checks each libSQL URL, and
    // connects to libSQL and Redis only when a component opens a database or store: the health
    // route answers with the placeholders' unreachable libSQL hosts.
    // Spin runs what `spin build` left in target/: build it first, as a user would (a clean
    // checkout has nothing there, and the OCI test's build may be replacing those files).
    let reading = RELEASE_WASM.lock().await;
    reen_host::builder::build_all(&Manifest::load(&manifest).expect("spin.toml loads"))
        .expect("every component builds");
    let up = SpinUp::start(&spin, dir.path(), &args, &spin_variables(&redis.url()))
        .await
        .unwrap_or_else(|why| panic!("spin up refused deploy/runtime-config.toml: {why}"));
    drop(reading);
    let health = reqwest::get(format!("{}/api/v1/health", up.base_url()))
        .await
        .expect("health answers");
    assert_eq!(health.status(), 200);
    let output = up.output();
    for expected in [
        "[sqlite_database.auth: libsql]",
        "[key_value_store.identity: redis]",
    ] {
        assert!(output.contains(expected), "{expected:?} in:\n{output}");
    }
}
