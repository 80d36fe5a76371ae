//! The app as an OCI artifact (README "Deploy"): `spin registry push` to a real registry
//! (Debian's `docker-registry`, the CNCF distribution registry, on loopback with its storage in
//! a temporary directory), then `spin up --from <reference>` in an empty directory, with only
//! the runtime config and the variables, serving the health route and the catalog from the
//! pulled artifact; and the re-drive CronJob's script run against it.

use crate::manifests::{deploy_objects, redrive_script};
use crate::support::{
    REDRIVE_SECRET, RELEASE_WASM, free_port, repo_root, spin, spin_variables, tool,
};
use reen_host::testing::RedisServer;
use reen_host::testing::spin_cli::SpinUp;
use serde_json::Value;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `docker-registry serve` on `127.0.0.1:<port>`, storing into its own directory; killed
/// when dropped.
struct Registry {
    child: Child,
    port: u16,
    _storage: tempfile::TempDir,
}

impl Registry {
    async fn start(program: &Path) -> Self {
        let storage = tempfile::tempdir().expect("a temp dir");
        let mut last = String::new();
        // The port is chosen before the registry binds it, so another process can take it
        // first; the registry then exits and another port is tried.
        for _ in 0..3 {
            let port = free_port();
            let config = storage.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    \
                     rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                    storage.path().join("data").display()
                ),
            )
            .expect("writing the registry config");
            let log = std::fs::File::create(storage.path().join("registry.log")).expect("a log");
            let mut child = Command::new(program)
                .arg("serve")
                .arg(&config)
                .stdout(log.try_clone().expect("a log"))
                .stderr(log)
                .process_group(0)
                .spawn()
                .expect("docker-registry starts");
            match wait_ready(&mut child, port).await {
                Ok(()) => {
                    return Self {
                        child,
                        port,
                        _storage: storage,
                    };
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(storage.path().join("registry.log"));
                    last = format!("{why}; it printed:\n{}", log.unwrap_or_default());
                }
            }
        }
        panic!("docker-registry did not start: {last}")
    }

    /// The reference of `name:tag` in this registry (`localhost:<port>/...`, as a user types it).
    fn reference(&self, name: &str, tag: &str) -> String {
        format!("localhost:{}/{name}:{tag}", self.port)
    }
}

async fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://127.0.0.1:{port}/v2/");
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("it exited ({status})"));
        }
        if reqwest::get(&url)
            .await
            .is_ok_and(|res| res.status().is_success())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("it did not answer /v2/ within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_app_pushed_to_an_oci_registry_runs_from_there() {
    let test = "the_app_pushed_to_an_oci_registry_runs_from_there";
    let (Some(spin), Some(registry), Some(_), Some(curl)) = (
        spin(test),
        tool(test, "docker-registry", "docker-registry"),
        tool(test, "redis-server", "redis-server"),
        tool(test, "curl", "curl"),
    ) else {
        return;
    };
    let Some(objects) = deploy_objects(test) else {
        return;
    };
    let registry = Registry::start(&registry).await;
    let reference = registry.reference("reen-commerce", "0.1.0");

    // README: `spin registry push --build --insecure <reference>` from the repository root:
    // `spin build` (every component's build command), then the push, over plain HTTP to a
    // registry without TLS (`--insecure`; a real registry needs it not, after `spin registry
    // login`).
    let home = tempfile::tempdir().expect("a temp dir");
    let building = RELEASE_WASM.lock().await;
    let pushed = Command::new(&spin)
        .args(["registry", "push", "--build", "--insecure", &reference])
        .current_dir(repo_root())
        .env("SPIN_HOME", home.path())
        .output()
        .expect("spin runs");
    drop(building);
    assert!(
        pushed.status.success(),
        "spin registry push failed: {}{}",
        String::from_utf8_lossy(&pushed.stdout),
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert!(String::from_utf8_lossy(&pushed.stdout).contains("Pushed with digest sha256:"));
    let tags: Value = reqwest::get(format!(
        "http://127.0.0.1:{}/v2/reen-commerce/tags/list",
        registry.port
    ))
    .await
    .expect("the registry answers")
    .json()
    .await
    .expect("JSON");
    assert_eq!(tags["tags"], serde_json::json!(["0.1.0"]), "{tags}");

    // README: `spin up --from <reference> --insecure --runtime-config-file runtime-config.toml`
    // in a directory holding only the runtime config: a remote app has no state directory, so
    // the stores land where the runtime config says (key-value paths relative to the file,
    // SQLite paths to the working directory). SpinUp gives it a fresh SPIN_HOME (nothing cached
    // from the push) and only these variables.
    let run_dir = tempfile::tempdir().expect("a temp dir");
    std::fs::copy(
        repo_root().join("runtime-config.toml"),
        run_dir.path().join("runtime-config.toml"),
    )
    .expect("copying runtime-config.toml");
    let redis = RedisServer::start().await.expect("redis-server starts");
    let mut variables = spin_variables(&redis.url());
    variables.push(("SPIN_VARIABLE_SEED_DEMO_CATALOG".into(), "true".into()));
    let up = SpinUp::start(
        &spin,
        run_dir.path(),
        &[
            "--from",
            &reference,
            "--insecure",
            "--runtime-config-file",
            "runtime-config.toml",
        ],
        &variables,
    )
    .await
    .unwrap_or_else(|why| panic!("spin up --from {reference} did not serve: {why}"));

    let health: Value = get_json(&format!("{}/api/v1/health", up.base_url())).await;
    assert_eq!(health["status"], "ok");
    let products: Value = get_json(&format!("{}/api/v1/products", up.base_url())).await;
    let names: Vec<&str> = products
        .as_array()
        .expect("a plain array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names.len(), 6, "the demo catalog: {products}");
    assert!(
        run_dir.path().join(".spin/products.db").is_file(),
        "SQLite where the runtime config says"
    );
    assert!(
        up.output().contains("Active Channels"),
        "the events component subscribed: {}",
        up.output()
    );

    // The re-drive CronJob's own script (deploy/redrive-cronjob.yaml), run as the Job runs it,
    // with the Service URL pointed at this app.
    let script = redrive_script(objects);
    let redrive = Command::new("/bin/sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", Path::new(&curl).parent().expect("a directory"))
        .env(
            "REDRIVE_URL",
            format!("{}/api/v1/checkout/redrive", up.base_url()),
        )
        .env("REDRIVE_SECRET", REDRIVE_SECRET)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    assert!(
        redrive.status.success(),
        "the re-drive script failed: {}",
        String::from_utf8_lossy(&redrive.stderr)
    );
    let answer: Value = serde_json::from_slice(&redrive.stdout).expect("the route's JSON");
    assert!(answer.get("pending").is_some(), "{answer}");
    // With another secret, curl -f fails the Job.
    let refused = Command::new("/bin/sh")
        .args(["-c", &script])
        .env(
            "REDRIVE_URL",
            format!("{}/api/v1/checkout/redrive", up.base_url()),
        )
        .env("REDRIVE_SECRET", "not-the-redrive-secret")
        .output()
        .expect("sh runs");
    assert!(
        !refused.status.success(),
        "a wrong secret must fail the Job"
    );
}

async fn get_json(url: &str) -> Value {
    let res = reqwest::get(url).await.expect("the app answers");
    assert_eq!(res.status(), 200, "GET {url}");
    res.json().await.expect("JSON")
}
