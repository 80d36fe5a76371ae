//! The `reen-host` binary itself: `up` serves, logs requests and component output, reads
//! `SPIN_VARIABLE_*` from its environment, refuses to start without a required variable, and
//! provides a local Redis when the app's is not there.

use crate::helpers::render_manifest;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "cli"

[variables]
greeting = { required = true }

[[trigger.http]]
route = "/probe/..."
component = "probe"

[component.probe]
source = "{probe}"
variables = { greeting = "{{ greeting }}" }
"#;

/// Stops the child on drop so a failing assertion never leaks a server: SIGTERM first, so
/// `up` can stop a `redis-server` it started, then SIGKILL if it lingers.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        if terminate(&mut self.0, Duration::from_secs(10)).is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Sends SIGTERM and waits up to `timeout` for the exit status.
pub(crate) fn terminate(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("spin.toml");
    std::fs::write(&path, render_manifest(MANIFEST)).unwrap();
    path
}

/// Collects the child's stdout and stderr lines on a channel.
pub(crate) fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx.send(l)))
    });
    std::thread::spawn(move || {
        BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx2.send(l)))
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<String>, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if pred(&line) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("never saw {what}; output was:\n{}", seen.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_reads_env_variables_and_logs_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reen-host"))
        .args(["up", "--from"])
        .arg(&manifest)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("SPIN_VARIABLE_GREETING", "hello from env")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let _server = Server(child);
    wait_for(&rx, "the serving banner", |l| {
        l.contains(&format!("Serving http://127.0.0.1:{port}"))
    });

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let report: serde_json::Value = client
        .get(format!("{base}/probe/x?op=var&name=greeting"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], "hello from env");
    wait_for(&rx, "a request log line", |l| {
        l.contains("GET /probe/x -> probe 200")
    });

    let res = client
        .get(format!("{base}/probe/x?op=trap"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    wait_for(&rx, "the component's stderr, prefixed with its id", |l| {
        l.starts_with("[probe] ") && l.contains("probe asked to trap")
    });
    // State lands in `.spin/` next to the manifest, as with `spin up`.
    assert!(dir.path().join(".spin").is_dir());
}

#[test]
fn up_refuses_to_start_without_a_required_variable() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path());
    let output = Command::new(env!("CARGO_BIN_EXE_reen-host"))
        .args(["up", "--from"])
        .arg(&manifest)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .current_dir(dir.path())
        .env_remove("SPIN_VARIABLE_GREETING")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`greeting`") && stderr.contains("SPIN_VARIABLE_GREETING"),
        "{stderr}"
    );
}

#[test]
fn up_reports_a_bad_manifest_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, "spin_manifest_version = 2\n[application]\nname = \"x\"\nnmae = \"typo\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_reen-host"))
        .args(["up", "--from"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("spin.toml") && stderr.contains("nmae"),
        "{stderr}"
    );
}

/// A Redis-triggered app whose Redis address is a free loopback port.
fn write_redis_app(dir: &std::path::Path, redis_port: u16) -> std::path::PathBuf {
    let manifest = format!(
        r#"
spin_manifest_version = 2
[application]
name = "cli-redis"

[application.trigger.redis]
address = "redis://127.0.0.1:{redis_port}"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.redis]]
channel = "orders"
component = "sub"

[component.probe]
source = "{{probe}}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:{redis_port}"]

[component.sub]
source = "{{subscriber}}"
key_value_stores = ["default"]
environment = {{ COMPONENT = "sub" }}
"#
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, render_manifest(&manifest)).unwrap();
    path
}

pub(crate) fn up_command(manifest: &std::path::Path, dir: &std::path::Path, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reen-host"));
    command
        .args(["up", "--from"])
        .arg(manifest)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_redis_server_when_nothing_answers_and_stops_it_on_exit() {
    let dir = tempfile::tempdir().unwrap();
    let redis_port = free_port();
    let manifest = write_redis_app(dir.path(), redis_port);
    let port = free_port();
    let mut child = up_command(&manifest, dir.path(), port).spawn().unwrap();
    let rx = lines_of(&mut child);
    let mut server = Server(child);
    wait_for(&rx, "that it started redis-server", |l| {
        l.contains(&format!("started redis-server on port {redis_port}"))
    });
    wait_for(&rx, "the channel banner", |l| {
        l.contains(&format!("127.0.0.1:{redis_port}/orders: [sub]"))
    });

    let probe = crate::redis::Probe::new(format!("http://127.0.0.1:{port}"));
    let address = format!("redis://127.0.0.1:{redis_port}");
    let report = probe
        .publish(
            &address,
            "orders",
            serde_json::json!({ "key": "k", "value": "v" }),
        )
        .await;
    assert_eq!(report, serde_json::json!({ "ok": null }));
    probe.wait_for_kv("sub:k", "v").await;
    // A real server: outbound commands work too.
    let report = probe.redis(&address, "action=incr&key=n", "").await;
    assert_eq!(report, serde_json::json!({ "ok": 1 }));

    let status = terminate(&mut server.0, Duration::from_secs(20)).expect("up exits on SIGTERM");
    assert!(status.success(), "{status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_err(),
        "the redis-server started by up is still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_without_redis_server_warns_and_serves_pub_sub_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let redis_port = free_port();
    let manifest = write_redis_app(dir.path(), redis_port);
    let port = free_port();
    // A PATH where `redis-server` cannot be found.
    let empty = tempfile::tempdir().unwrap();
    let mut child = up_command(&manifest, dir.path(), port)
        .env("PATH", empty.path())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let _server = Server(child);
    wait_for(&rx, "the in-process warning", |l| {
        l.contains("IN-PROCESS STAND-IN")
    });
    wait_for(&rx, "the serving banner", |l| {
        l.contains(&format!("Serving http://127.0.0.1:{port}"))
    });

    let probe = crate::redis::Probe::new(format!("http://127.0.0.1:{port}"));
    let address = format!("redis://127.0.0.1:{redis_port}");
    probe
        .publish(
            &address,
            "orders",
            serde_json::json!({ "key": "bad", "value": "x", "fail": true }),
        )
        .await;
    wait_for(&rx, "the failed handler, named", |l| {
        l.contains("Component sub handler failed")
    });
    probe
        .publish(
            &address,
            "orders",
            serde_json::json!({ "key": "k", "value": "v" }),
        )
        .await;
    probe.wait_for_kv("sub:k", "v").await;
    assert_eq!(probe.kv("sub:bad").await, serde_json::Value::Null);
    // Only publish/subscribe is stood in for.
    let report = probe.redis(&address, "action=get&key=k", "").await;
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("only supports PUBLISH")),
        "{report}"
    );
}
