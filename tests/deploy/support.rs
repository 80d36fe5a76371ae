//! What the deployment tests share: finding the tools (failing in CI when one is missing, like
//! the Spin CLI rule), the Python environment with `kubernetes-validate`, the manifests of
//! `deploy/` as validated objects, and the variables every run of the app needs.

use e2e::python::Venv;
use reen_host::testing::spin_cli;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Held by a test while it builds or reads `target/wasm32-wasip2/release/*.wasm`: a build
/// (`spin registry push --build` runs every component's build command) creates or replaces
/// those files, and a concurrent `spin up` of the local manifest would find one missing.
pub static RELEASE_WASM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub use e2e::tools::{repo_root, tool};

/// The Spin CLI, or the skip/failure rule.
pub fn spin(test: &str) -> Option<PathBuf> {
    spin_cli::cli_or_skip(test)
}

/// `target/deploy-venv`: the PyPI packages the manifest validation runs on, pinned.
const VENV: Venv = Venv {
    name: "deploy-venv",
    packages: &["kubernetes-validate==1.37.0", "PyYAML==6.0.4"],
    ready_check: "import kubernetes_validate, yaml, jsonschema",
};

/// The Python of `target/deploy-venv`, or the skip/failure rule.
pub fn python(test: &str) -> Option<PathBuf> {
    VENV.python(test)
}

/// Every manifest `kubectl apply -f deploy/` applies, plus the Secret template.
pub fn manifest_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files: Vec<PathBuf> = ["deploy", "deploy/secrets"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("deploy/ exists"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// The objects of `deploy/`, each as `{file, object}`, after `validate.py` validated every one
/// against the SpinApp CRD fixture and the Kubernetes schemas (panics naming the first that
/// does not validate).
pub fn validated_objects(python: &Path) -> Vec<Value> {
    let root = repo_root();
    let output = Command::new(python)
        .arg(root.join("tests/deploy/validate.py"))
        .arg(root.join("tests/deploy/fixtures/spinapp-crd.yaml"))
        .args(manifest_files())
        .output()
        .expect("validate.py runs");
    assert!(
        output.status.success(),
        "the manifests in deploy/ do not validate:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let objects: Value = serde_json::from_slice(&output.stdout).expect("validate.py prints JSON");
    objects.as_array().expect("an array").clone()
}

/// The one object of `kind` named `name`.
pub fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .map(|o| &o["object"])
        .filter(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "exactly one {kind} {name} in deploy/");
    found[0]
}

/// Values for the app's required secrets (the app refuses to start without them).
pub const JWT_SECRET: &str = "deploy-test-jwt-secret-0123456789abcdef";
pub const REDRIVE_SECRET: &str = "deploy-test-redrive-secret";

/// The variables a test run gives (as `SPIN_VARIABLE_*`): the required secrets and `redis_url`.
pub fn spin_variables(redis_url: &str) -> Vec<(String, String)> {
    [
        ("jwt_secret", JWT_SECRET),
        ("clerk_secret_key", "sk_test_deploy"),
        (
            "clerk_webhook_secret",
            "whsec_ZGVwbG95LXRlc3Qtd2ViaG9vay1zZWNyZXQ=",
        ),
        ("stripe_secret_key", "sk_test_deploy"),
        ("stripe_webhook_secret", "whsec_deploy"),
        ("redrive_secret", REDRIVE_SECRET),
        ("redis_url", redis_url),
    ]
    .into_iter()
    .map(|(name, value)| {
        (
            format!("SPIN_VARIABLE_{}", name.to_uppercase()),
            value.to_owned(),
        )
    })
    .collect()
}

/// A free port on loopback (another process may take it before it is used: callers retry).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
