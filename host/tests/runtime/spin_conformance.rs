//! The same routing, header and health cases against the real Spin CLI, found as a user has it
//! (`reen_host::testing::spin_cli`). Without one, each test fails in CI and is skipped with a
//! line on the terminal elsewhere.

use crate::composition;
use crate::helpers::{render_manifest, workspace_root};
use crate::routing_cases::{CASES, MANIFEST, check, check_chaining};
use crate::spin_manifest_cases;
use reen_host::testing::spin_cli::{self, SpinUp};
use std::path::{Path, PathBuf};

/// The Spin CLI, or `None` (with a `SKIPPED` line on the terminal) on a machine without one;
/// in CI a missing or broken CLI fails the test instead.
fn spin_cli(test: &str) -> Option<PathBuf> {
    spin_cli::cli_or_skip(test)
}

async fn spin_up(spin: &Path, dir: &Path, extra: &[&str]) -> (SpinUp, String) {
    let running = SpinUp::start(spin, dir, extra, &[])
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    let base = running.base_url().to_owned();
    (running, base)
}

/// Runs `spin up` expecting it to refuse the app: returns what it printed on stderr once it
/// exits (a failure to exit within a minute, or a healthy app, fails the test).
async fn spin_up_refused(spin: &Path, dir: &Path, extra: &[&str]) -> String {
    spin_cli::refused(spin, dir, extra, &[])
        .await
        .unwrap_or_else(|why| panic!("{why}"))
}

/// A temp dir holding the composition manifest for these `root` settings, its runtime config
/// and the dependency files.
fn composition_app(root_settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = render_manifest(&composition::manifest(root_settings));
    std::fs::write(dir.path().join("spin.toml"), manifest).unwrap();
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        composition::RUNTIME_CONFIG,
    )
    .unwrap();
    composition::place_dependencies(dir.path());
    dir
}

/// Real Spin on the manifests of `composition.rs`, with the same expectations: what a
/// dependency inherits (everything, a list, nothing) works with root's grants, the rest is
/// denied at call time. The one difference is on purpose: a nested dependency Spin composes and
/// then fails to instantiate, which reen-host refuses earlier with a clearer message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_spin_composes_dependencies_as_our_host_does() {
    let Some(spin) = spin_cli("real_spin_composes_dependencies_as_our_host_does") else {
        return;
    };
    let rc = ["--runtime-config-file", "runtime-config.toml"];
    let client = reqwest::Client::new();

    let dir = composition_app(composition::INHERITING);
    let (running, base) = spin_up(&spin, dir.path(), &rc).await;
    composition::check_inherited_isolation(&client, &base).await;
    composition::check_reach(&client, &base, &composition::EVERY_SET).await;
    drop(running);

    let dir = composition_app(composition::NOT_INHERITING);
    let (running, base) = spin_up(&spin, dir.path(), &rc).await;
    composition::check_reach(&client, &base, &[]).await;
    composition::check_notes_denied(&client, &base).await;
    drop(running);

    let dir = composition_app(composition::ONLY_DATABASES);
    let (running, base) = spin_up(&spin, dir.path(), &rc).await;
    composition::check_reach(&client, &base, &["sqlite_databases"]).await;
    drop(running);

    let dir = composition_app(composition::ALL_BUT_DATABASES);
    let (running, base) = spin_up(&spin, dir.path(), &rc).await;
    composition::check_reach(&client, &base, &composition::ALL_BUT_DATABASES_SETS).await;
    drop(running);

    let stderr = spin_up_refused(&spin, composition_app(composition::NESTED).path(), &rc).await;
    assert!(stderr.contains("reen:test/other"), "{stderr}");

    let stderr = spin_up_refused(
        &spin,
        composition_app(composition::BY_COMPONENT_ID).path(),
        &rc,
    )
    .await;
    assert!(
        stderr.contains("Dependencies may not have their own resources or permissions"),
        "{stderr}"
    );

    let stderr = spin_up_refused(
        &spin,
        composition_app(composition::MISSING_EXPORT).path(),
        &rc,
    )
    .await;
    assert!(
        stderr.contains("doesn't export 'reen:test/journal'"),
        "{stderr}"
    );

    let stderr = spin_up_refused(
        &spin,
        composition_app(composition::OVERLAPPING_KEYS).path(),
        &rc,
    )
    .await;
    assert!(stderr.contains("dependency conflicts with"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_spin_routes_and_sets_headers_exactly_as_our_host_does() {
    let Some(spin) = spin_cli("real_spin_routes_and_sets_headers_exactly_as_our_host_does") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), render_manifest(MANIFEST)).unwrap();
    let (_spin, base) = spin_up(&spin, dir.path(), &[]).await;
    let client = reqwest::Client::new();
    for case in CASES {
        check(&client, &base, case).await;
    }
    check_chaining(&client, &base).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_spin_accepts_the_project_manifest_and_serves_health() {
    let Some(spin) = spin_cli("real_spin_accepts_the_project_manifest_and_serves_health") else {
        return;
    };
    let root = workspace_root();
    reen_host::builder::build_all(
        &reen_host::manifest::Manifest::load(&root.join("spin.toml")).unwrap(),
    )
    .expect("building the app");
    // A copy of the project files in a temp dir keeps the real `.spin/` untouched.
    let dir = tempfile::tempdir().unwrap();
    for file in ["spin.toml", "runtime-config.toml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    std::os::unix::fs::symlink(root.join("target"), dir.path().join("target")).unwrap();
    // The events component's Redis trigger: Spin exits at start without a Redis.
    let redis = crate::redis::redis_server().await;
    let redis_url = format!("redis_url=redis://127.0.0.1:{}", redis.port());
    // The manifest's required secrets (auth): an operator must give them, and so does this test.
    let (_spin, base) = spin_up(
        &spin,
        dir.path(),
        &[
            "--runtime-config-file",
            "runtime-config.toml",
            "--variable",
            "jwt_secret=conformance-jwt-secret-0123456789abcdef",
            "--variable",
            "clerk_secret_key=sk_test_conformance",
            "--variable",
            "clerk_webhook_secret=whsec_Y29uZm9ybWFuY2U=",
            "--variable",
            "stripe_secret_key=sk_test_conformance",
            "--variable",
            "stripe_webhook_secret=whsec_conformance",
            "--variable",
            "redrive_secret=conformance-redrive-secret",
            "--variable",
            &redis_url,
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{base}/.well-known/spin/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let res = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    // Products: its outbound hosts are variable templates (`{{ redis_url }}`), which Spin
    // resolves when it prepares the instance; its database migrates on this first request.
    let res = client
        .get(format!("{base}/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!([])
    );
    let info: serde_json::Value = client
        .get(format!("{base}/.well-known/spin/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        serde_json::json!({ "name": "reen-commerce", "version": "0.1.0" })
    );
}

/// The Redis cases of `redis.rs` on real Spin, against a private `redis-server`. Real Spin
/// runs the Redis trigger in a process of its own that shares `.spin/sqlite_key_value.db` with
/// the HTTP one, so what the subscriber stores is read back through the probe all the same.
/// Spin exits when Redis goes away (reen-host reconnects instead), so restarts are not
/// checked here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_spin_delivers_redis_messages_as_our_host_does() {
    let Some(spin) = spin_cli("real_spin_delivers_redis_messages_as_our_host_does") else {
        return;
    };
    let server = crate::redis::redis_server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spin.toml"),
        render_manifest(crate::redis::SHARED_MANIFEST),
    )
    .unwrap();
    let variable = format!("redis_port={}", server.port());
    let (_spin, base) = spin_up(&spin, dir.path(), &["--variable", &variable]).await;
    crate::redis::check_shared_cases(&crate::redis::Probe::new(base), &server).await;
}

/// The manifests in `host/tests/manifests/` that real Spin accepts although reen-host refuses
/// them, each with why reen-host is stricter on purpose (the README's "Deliberately stricter
/// than Spin" lists the same). Every other manifest there Spin must refuse too.
const STRICTER_THAN_SPIN: &[(&str, &str)] = &[
    (
        "http_trigger_components",
        "Spin 4.1's trigger-level `components` is not implemented, so it is refused, not ignored",
    ),
    (
        "manifest_version_1",
        "manifest v1 (deprecated since Spin 2) is not implemented: v2 only",
    ),
    (
        "manifest_version_spin_version_1",
        "manifest v1 (deprecated since Spin 2) is not implemented: v2 only",
    ),
    (
        "redis_trigger_undeclared_component",
        "Spin subscribes for a component that does not exist and fails every message; a typo \
         is caught at start-up, as Spin does for HTTP triggers",
    ),
    (
        "template_undeclared_in_allowed_outbound_hosts",
        "Spin renders these templates per instance, so every request fails; reen-host checks \
         them at start-up like all other templates",
    ),
];

/// Every bad manifest of `manifest_errors.rs` through `spin up`, four at a time, each prepared
/// so that only the manifest can be refused (`spin_manifest_cases.rs`). Whatever Spin accepts
/// must be in [`STRICTER_THAN_SPIN`], and everything there Spin must accept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_spin_refuses_the_manifests_our_host_refuses() {
    use futures_util::StreamExt as _;
    let Some(spin) = spin_cli("real_spin_refuses_the_manifests_our_host_refuses") else {
        return;
    };
    let redis = crate::redis::redis_server().await;
    let outcomes: Vec<(String, Result<String, String>)> =
        futures_util::stream::iter(spin_manifest_cases::cases(redis.port()))
            .map(|case| {
                let spin = spin.clone();
                async move {
                    let dir = case.dir();
                    let envs = case.required_variables();
                    let outcome = if case.redis_only() {
                        spin_manifest_cases::redis_app_refused(&spin, dir.path(), &envs).await
                    } else {
                        spin_cli::refused(&spin, dir.path(), &[], &envs).await
                    };
                    (case.name, outcome)
                }
            })
            .buffer_unordered(4)
            .collect()
            .await;

    let mut accepted: Vec<&str> = outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_err())
        .map(|(case, _)| case.as_str())
        .collect();
    accepted.sort();
    let mut stricter: Vec<&str> = STRICTER_THAN_SPIN.iter().map(|(case, _)| *case).collect();
    stricter.sort();
    let report: Vec<String> = outcomes
        .iter()
        .map(|(case, outcome)| match outcome {
            Ok(stderr) => format!("{case}: refused: {}", stderr.trim()),
            Err(why) => format!("{case}: NOT refused: {why}"),
        })
        .collect();
    assert_eq!(
        accepted,
        stricter,
        "the manifests real Spin accepts are exactly those reen-host refuses on purpose:\n{}",
        report.join("\n")
    );
}
