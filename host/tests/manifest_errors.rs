//! Bad manifests are refused with a message naming the problem; good ones load.
//!
//! Every `tests/manifests/<case>.toml` must fail to load with an error containing the text of
//! `<case>.err` (trailing newline ignored); every `tests/manifests/valid/*.toml` must load.
//! A new case is two files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reen_host::manifest::{HttpTarget, Manifest, ManifestError};
use reen_host::runtime_config::RuntimeConfig;

fn manifests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_invalid_manifest_is_refused_with_its_expected_message() {
    let cases = toml_files(&manifests_dir());
    assert!(
        cases.len() >= 20,
        "expected the invalid cases, found {}",
        cases.len()
    );

    let mut failures = Vec::new();
    for case in &cases {
        let expected_path = case.with_extension("err");
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
            panic!("{} needs {}: {e}", case.display(), expected_path.display())
        });
        let expected = expected.trim_end_matches(['\n', '\r']);
        match Manifest::load(case) {
            Ok(_) => failures.push(format!("{}: loaded, expected an error", case.display())),
            Err(error) => {
                let message = error.to_string();
                if !message.starts_with(&case.display().to_string()) {
                    failures.push(format!(
                        "{}: message does not start with the path:\n  {message}",
                        case.display()
                    ));
                }
                if !message.contains(expected) {
                    failures.push(format!(
                        "{}:\n  expected to contain: {expected}\n  got: {message}",
                        case.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn every_valid_manifest_loads() {
    let cases = toml_files(&manifests_dir().join("valid"));
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| Manifest::load(case).err().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn the_design_doc_example_loads_as_described() {
    let manifest =
        Manifest::load(&manifests_dir().join("valid/shop_spin_platform_2_5.toml")).unwrap();

    let routes: Vec<String> = manifest
        .http_triggers
        .iter()
        .map(|t| match &t.target {
            HttpTarget::Component(id) => format!("{:?} -> {id}", t.route),
            HttpTarget::StaticResponse { .. } => format!("{:?} -> static", t.route),
        })
        .collect();
    assert_eq!(
        routes,
        [
            "Path(\"/api/users/...\") -> users",
            "Path(\"/api/orders/:order_id\") -> orders",
            "Private -> pricing",
            "Path(\"/...\") -> web",
        ]
    );

    let redis = &manifest.redis_triggers[0];
    assert_eq!(redis.component, "order-events");
    assert_eq!(redis.channel.as_str(), "orders");
    let address = redis.effective_address(&manifest.application).unwrap();
    assert_eq!(address.variables().collect::<Vec<_>>(), ["redis_host"]);

    assert!(manifest.variables["api_key"].required);
    assert!(manifest.variables["api_key"].secret);
    let users = &manifest.components["users"];
    assert_eq!(users.variables["api_key"].as_str(), "{{ api_key }}");
    assert!(
        users
            .source
            .ends_with("target/wasm32-wasip2/release/users.wasm")
    );
    assert_eq!(
        users.build.as_ref().unwrap().command,
        ["cargo build --target wasm32-wasip2 --release -p users"]
    );
    assert!(manifest.warnings.is_empty(), "{:?}", manifest.warnings);
}

#[test]
fn undefined_store_labels_are_reported_with_component_and_label() {
    let path = manifests_dir().join("valid/labels.toml");
    let manifest = Manifest::load(&path).unwrap();
    let without = RuntimeConfig::parse("", None).unwrap();

    let error = manifest
        .check_labels(&without.kv_labels(), &without.sqlite_labels())
        .unwrap_err();

    let ManifestError::UndefinedLabels { missing, .. } = &error else {
        panic!("expected UndefinedLabels, got {error:?}");
    };
    assert_eq!(missing.len(), 2);
    let message = error.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(
            "component `web` uses key_value_stores label \"cache\", which is not defined"
        ),
        "{message}"
    );
    assert!(
        message.contains("component `web` uses sqlite_databases label \"orders\""),
        "{message}"
    );
}

#[test]
fn store_labels_defined_by_the_runtime_config_pass() {
    let manifest = Manifest::load(&manifests_dir().join("valid/labels.toml")).unwrap();
    let config = RuntimeConfig::parse(
        "[key_value_store.cache]\ntype = \"spin\"\n\
         [sqlite_database.orders]\ntype = \"spin\"\npath = \"orders.db\"\n",
        None,
    )
    .unwrap();

    manifest
        .check_labels(&config.kv_labels(), &config.sqlite_labels())
        .unwrap();
}

#[test]
fn only_default_labels_need_no_runtime_config() {
    let manifest = Manifest::load(&manifests_dir().join("valid/minimal.toml")).unwrap();
    manifest
        .check_labels(&BTreeSet::new(), &BTreeSet::new())
        .unwrap();
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let path = manifests_dir().join("does-not-exist.toml");
    let error = Manifest::load(&path).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{}: cannot read the manifest", path.display())),
        "{error}"
    );
}
