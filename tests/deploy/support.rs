//! What the deployment tests share: finding the tools (failing in CI when one is missing, like
//! the Spin CLI rule), the Python environment with `kubernetes-validate`, the manifests of
//! `deploy/` as validated objects, and the variables every run of the app needs.

use reen_host::testing::spin_cli;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Held by a test while it builds or reads `target/wasm32-wasip2/release/*.wasm`: a build
/// (`spin registry push --build` runs every component's build command) creates or replaces
/// those files, and a concurrent `spin up` of the local manifest would find one missing.
pub static RELEASE_WASM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// The cargo target directory (where the Python environment lives).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Says `SKIPPED <test>: <why>` on the terminal (not in the captured output), or fails the test
/// when tools are required (CI): the same rule as the Spin CLI's.
fn skip_or_fail<T>(test: &str, why: &str) -> Option<T> {
    if spin_cli::required() {
        panic!("{test}: required here (CI or REEN_REQUIRE_SPIN=1): {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

/// `program` on `PATH` (or `/usr/sbin`, where Debian puts nginx), or the skip/failure rule.
pub fn tool(test: &str, program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file());
    match found {
        Some(found) => Some(found),
        None => skip_or_fail(
            test,
            &format!("`{program}` is not installed (apt-get install {package})"),
        ),
    }
}

/// The Spin CLI, or the skip/failure rule.
pub fn spin(test: &str) -> Option<PathBuf> {
    spin_cli::cli_or_skip(test)
}

/// The PyPI packages the validation runs on, pinned.
const PYTHON_PACKAGES: [&str; 2] = ["kubernetes-validate==1.37.0", "PyYAML==6.0.4"];

/// The Python of `target/deploy-venv`, with [`PYTHON_PACKAGES`] installed (once; later runs
/// reuse it), or the skip/failure rule when Python 3 or its `venv` module is missing.
pub fn python(test: &str) -> Option<PathBuf> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    match VENV.get_or_init(make_venv) {
        Ok(python) => Some(python.clone()),
        Err(why) if why.starts_with("missing: ") => skip_or_fail(test, why),
        Err(why) => panic!("{test}: {why}"),
    }
}

fn make_venv() -> Result<PathBuf, String> {
    let venv = target_dir().join("deploy-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import kubernetes_validate, yaml, jsonschema"])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    let created = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .output()
        .map_err(|err| format!("missing: python3 does not run ({err}); apt-get install python3"))?;
    if !created.status.success() {
        return Err(format!(
            "missing: `python3 -m venv` failed (apt-get install python3-venv): {}",
            String::from_utf8_lossy(&created.stderr)
        ));
    }
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PYTHON_PACKAGES)
        .output()
        .map_err(|err| format!("running pip: {err}"))?;
    if !installed.status.success() || !ready(&python) {
        return Err(format!(
            "installing {PYTHON_PACKAGES:?} from PyPI into {} failed: {}",
            venv.display(),
            String::from_utf8_lossy(&installed.stderr)
        ));
    }
    Ok(python)
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
