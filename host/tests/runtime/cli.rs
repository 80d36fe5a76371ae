//! The `reen-host` binary itself: `up` serves, logs requests and component output, reads
//! `SPIN_VARIABLE_*` from its environment, and refuses to start without a required variable.

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

/// Kills the child on drop so a failing assertion never leaks a server.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
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
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
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
