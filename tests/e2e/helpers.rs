//! `spawn_app()`: the real application (`spin.toml`, `runtime-config.toml`) on the host this run
//! tests (`host.rs`: reen-host or the Spin CLI) on a random port, with every store and database
//! in a private temporary directory, and a fake Clerk it is pointed at. Request helpers and
//! signed-in users are in `api.rs`.

use crate::fake_clerk::{self, FakeClerk};
use crate::fake_stripe;
use crate::host::{self, Launch, Server};
use reen_host::testing::RedisServer;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// Runs every component's build command once per test binary, like `spin build`.
pub fn build_components() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest = reen_host::manifest::Manifest::load(&repo_root().join("spin.toml"))
            .expect("spin.toml loads");
        reen_host::builder::build_all(&manifest).expect("components build");
    });
}

/// The re-drive route's secret in tests (Stripe's keys are the fake Stripe's; checkout tests
/// point `stripe_api_base` at their own fake).
pub const REDRIVE_SECRET: &str = "e2e-redrive-secret-0123456789";

/// The app's `jwt_secret` in tests.
pub const JWT_SECRET: &str = "e2e-jwt-secret-0123456789abcdef-0123456789";

/// A running app, a client for it, and the fake Clerk it talks to.
pub struct TestApp {
    pub app: Server,
    pub client: reqwest::Client,
    pub clerk: FakeClerk,
    /// The app's private redis-server (when the test did not give it one), kept running as
    /// long as the app.
    _redis: Option<RedisServer>,
    /// Where requests go when not to `app` itself: a load balancer in front of several
    /// replicas (`scale_out.rs`).
    front: Option<String>,
}

impl TestApp {
    /// `app` reached through `front` (`http://host:port`), e.g. a load balancer in front of
    /// it and its replicas; `clerk` is the fake Clerk they were all started with.
    pub fn behind(front: String, app: Server, clerk: FakeClerk) -> Self {
        TestApp {
            app,
            client: reqwest::Client::new(),
            clerk,
            _redis: None,
            front: Some(front),
        }
    }

    pub fn url(&self, path: &str) -> String {
        match &self.front {
            Some(front) => format!("{front}{path}"),
            None => format!("{}{path}", self.app.base_url()),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        crate::conformance::send(self.client.get(self.url(path))).await
    }
}

/// Starts the app exactly as `cargo up` would, but isolated for a test.
pub async fn spawn_app() -> TestApp {
    spawn_manifest(repo_root().join("spin.toml")).await
}

/// The app with the demo catalog loaded into its fresh products database.
pub async fn spawn_app_with_demo_catalog() -> TestApp {
    spawn_manifest_with(
        repo_root().join("spin.toml"),
        &[("seed_demo_catalog", "true")],
    )
    .await
}

/// The app plus the `identity-probe` fixture (see `identity.rs`), from a manifest written next
/// to the build output.
pub async fn spawn_app_with_identity_probe() -> TestApp {
    build_components();
    spawn_manifest(crate::identity::probe_manifest()).await
}

/// The app plus the `catalog-probe` fixture (see `catalog.rs`).
pub async fn spawn_app_with_catalog_probe() -> TestApp {
    build_components();
    spawn_manifest(crate::catalog::probe_manifest()).await
}

/// The app plus the `cart-probe` fixture (see `cart_wit.rs`).
pub async fn spawn_app_with_cart_probe() -> TestApp {
    build_components();
    spawn_manifest(crate::cart_wit::probe_manifest()).await
}

/// The app plus the `orders-probe` fixture, and the `catalog-probe` beside it (see
/// `orders.rs`).
pub async fn spawn_app_with_orders_probe() -> TestApp {
    build_components();
    spawn_manifest(crate::orders::probe_manifest()).await
}

async fn spawn_manifest(manifest: PathBuf) -> TestApp {
    spawn_manifest_with(manifest, &[]).await
}

/// The app from `manifest` with `variables` set (after the test defaults, so they win).
pub async fn spawn_manifest_with(manifest: PathBuf, variables: &[(&str, &str)]) -> TestApp {
    start(manifest, variables, None, false).await
}

/// The app in a host process the test can SIGKILL and restart (`app.app.kill()`,
/// `app.app.restart()`), on either host.
pub async fn spawn_killable_app() -> TestApp {
    spawn_killable_with(&[]).await
}

/// [`spawn_killable_app`] with `variables` set.
pub async fn spawn_killable_with(variables: &[(&str, &str)]) -> TestApp {
    start(repo_root().join("spin.toml"), variables, None, true).await
}

/// A second app from `manifest` on `app`'s state directory, so both see the same databases and
/// key-value stores: one deployment's data served by a differently wired app.
pub async fn spawn_beside(app: &TestApp, manifest: PathBuf) -> TestApp {
    start(manifest, &[], Some(&app.app), false).await
}

async fn start(
    manifest: PathBuf,
    variables: &[(&str, &str)],
    beside: Option<&Server>,
    killable: bool,
) -> TestApp {
    build_components();
    let root = repo_root();
    let clerk = FakeClerk::start().await;
    // The events component's Redis trigger needs a live Redis (Spin exits without one): a
    // private redis-server, unless the test brings its own (a machine's own Redis on the
    // default port is never touched).
    let redis = match variables.iter().any(|(name, _)| *name == "redis_url") {
        true => None,
        false => Some(RedisServer::start().await.expect("redis-server starts")),
    };
    let redis_url = redis.as_ref().map(RedisServer::url).unwrap_or_default();
    let all = app_variables(&clerk, &redis_url, variables);
    let app = host::start(Launch {
        manifest,
        runtime_config: root.join("runtime-config.toml"),
        working_dir: root,
        variables: all,
        beside,
        killable,
        args: Vec::new(),
    })
    .await;
    TestApp {
        app,
        client: reqwest::Client::new(),
        clerk,
        _redis: redis,
        front: None,
    }
}

/// Every variable a test app gets: the required secrets, `clerk`'s keys and address, and
/// `redis_url`, then `variables` (which win).
pub fn app_variables(
    clerk: &FakeClerk,
    redis_url: &str,
    variables: &[(&str, &str)],
) -> Vec<(String, String)> {
    let defaults: [(&str, &str); 11] = [
        ("jwt_secret", JWT_SECRET),
        ("clerk_jwt_key", &fake_clerk::clerk_keys().public_pem),
        ("clerk_issuer", fake_clerk::ISSUER),
        ("clerk_api_base", clerk.base_url()),
        ("clerk_secret_key", fake_clerk::SECRET_KEY),
        ("clerk_webhook_secret", &fake_clerk::webhook_secret()),
        ("frontend_base_url", fake_clerk::ORIGIN),
        ("redis_url", redis_url),
        ("stripe_secret_key", fake_stripe::SECRET_KEY),
        ("stripe_webhook_secret", fake_stripe::WEBHOOK_SECRET),
        ("redrive_secret", REDRIVE_SECRET),
    ];
    let mut all: Vec<(String, String)> = Vec::new();
    for (name, value) in defaults.iter().chain(variables) {
        all.retain(|(set, _)| set != name);
        all.push((name.to_string(), value.to_string()));
    }
    all
}

/// The app from `manifest` as a child process (`reen-host up` or `spin up`, as the run's host
/// is) with `runtime_config`, exactly `variables` and `args` added to its command line, beside
/// `beside`'s state when given: a replica of a scale-out (`scale_out.rs`).
pub async fn spawn_replica(
    manifest: PathBuf,
    runtime_config: PathBuf,
    variables: Vec<(String, String)>,
    args: Vec<String>,
    beside: Option<&Server>,
) -> Server {
    build_components();
    host::start(Launch {
        manifest,
        runtime_config,
        working_dir: repo_root(),
        variables,
        beside,
        killable: true,
        args,
    })
    .await
}

/// Builds the fixture crate `package` for wasm and writes the project's `spin.toml` plus
/// `component_toml` (where `{release}` stands for the wasm output directory) under
/// `target/e2e/`, with every `source` absolute. For fixtures that import a leaf's WIT export.
pub fn manifest_with_fixture(package: &str, component_toml: &str) -> PathBuf {
    let root = repo_root();
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--release",
            "-p",
            package,
        ])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the {package} fixture");
    let release = root.join("target/wasm32-wasip2/release");
    let component = component_toml.replace("{release}", &release.display().to_string());
    project_manifest_variant(package, |project| project + component.as_str())
}

/// The project's `spin.toml` with every `source` and dependency `path` absolute and then
/// changed by `edit`, written to `target/e2e/spin.<name>.toml`.
pub fn project_manifest_variant(name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let root = repo_root();
    let project = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
    let project = project
        .replace(
            "source = \"target/",
            &format!("source = \"{}/target/", root.display()),
        )
        .replace(
            "{ path = \"target/",
            &format!("{{ path = \"{}/target/", root.display()),
        );
    let dir = root.join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    let path = dir.join(format!("spin.{name}.toml"));
    std::fs::write(&path, edit(project)).expect("writing the manifest");
    path
}
