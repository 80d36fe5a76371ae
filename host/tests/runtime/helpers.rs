//! Shared test plumbing: builds the fixture components once per test run and starts apps from
//! inline manifests on random ports with private state directories.

use reen_host::{AppOptions, RunningApp};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The workspace root (the host crate lives in `host/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host crate is inside the workspace")
        .to_owned()
}

/// Path of a fixture component, building all fixtures the first time any test asks. Cargo
/// keeps the build incremental, so later test binaries of the same run find it fresh.
pub fn fixture(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--target",
                "wasm32-wasip2",
                "--release",
                "-p",
                "probe",
                "-p",
                "hello",
                "-p",
                "leaf",
                "-p",
                "root",
                "-p",
                "nested",
                "-p",
                "subscriber",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("running cargo to build the fixtures");
        assert!(status.success(), "building the wasm fixtures failed");
    });
    workspace_root()
        .join("target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"))
}

/// A running app under test with its own directory (manifest, runtime config, state).
pub struct TestApp {
    pub app: RunningApp,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

/// Fills `{probe}`, `{hello}`, `{leaf}`, `{root}`, `{nested}` and `{subscriber}` in a manifest
/// with the fixture paths.
pub fn render_manifest(manifest: &str) -> String {
    ["probe", "hello", "leaf", "root", "nested", "subscriber"]
        .into_iter()
        .fold(manifest.to_owned(), |text, name| {
            text.replace(&format!("{{{name}}}"), &fixture(name).display().to_string())
        })
}

/// Writes the manifest (and runtime config, if any) into a fresh directory and options for it.
pub fn prepare(manifest: &str, runtime_config: Option<&str>) -> (tempfile::TempDir, AppOptions) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("spin.toml"), render_manifest(manifest))
        .expect("write manifest");
    if let Some(rc) = runtime_config {
        std::fs::write(dir.path().join("runtime-config.toml"), rc).expect("write runtime config");
    }
    let options = options_for(dir.path());
    (dir, options)
}

/// Options for the app whose files are in `dir`: state in `dir/.spin`, relative paths from `dir`.
fn options_for(dir: &Path) -> AppOptions {
    let mut options = AppOptions::for_tests(dir.join("spin.toml"));
    options.state_dir = reen_host::StateDir::Path(dir.join(".spin"));
    options.working_dir = Some(dir.to_owned());
    // The directory is already private to this test: keep Spin's own path rules.
    options.isolate_storage = false;
    options.log_requests = false;
    let rc = dir.join("runtime-config.toml");
    if rc.exists() {
        options.runtime_config = Some(rc);
    }
    options
}

impl TestApp {
    pub async fn start(manifest: &str) -> TestApp {
        Self::start_with(manifest, None, &[]).await
    }

    pub async fn start_with(
        manifest: &str,
        runtime_config: Option<&str>,
        variables: &[(&str, &str)],
    ) -> TestApp {
        let (dir, mut options) = prepare(manifest, runtime_config);
        for (k, v) in variables {
            options.variables.insert(k.to_string(), v.to_string());
        }
        let app = RunningApp::start(options).await.expect("app starts");
        TestApp {
            app,
            dir,
            client: reqwest::Client::new(),
        }
    }

    /// Restarts the app on the same directory (state survives, as it would across `spin up`s).
    pub async fn restart(self) -> TestApp {
        let TestApp { app, dir, client } = self;
        app.stop().await;
        let app = RunningApp::start(options_for(dir.path()))
            .await
            .expect("app restarts");
        TestApp { app, dir, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.base_url())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// GET expecting a JSON body from the probe fixture.
    pub async fn json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json body")
    }

    /// POST a body to the probe fixture and parse its JSON report.
    pub async fn post_json(&self, path: &str, body: impl Into<reqwest::Body>) -> Value {
        let res = self
            .client
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "POST {path}");
        res.json().await.expect("json body")
    }
}
