//! The bad manifests of `manifest_errors.rs` prepared for `spin up`, so that what real Spin
//! refuses is the manifest and not a missing piece: the component files it names, the
//! directories its `files` name, a value for each required variable and a Redis server where
//! it subscribes. Used by `spin_conformance.rs`.

use crate::helpers::{fixture, workspace_root};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};

/// One manifest of `host/tests/manifests/`, by file stem, and its text.
pub struct Case {
    pub name: String,
    pub text: String,
}

/// Every `host/tests/manifests/*.toml`, sorted by name, with `redis://localhost:6379` pointed
/// at the Redis server on `redis_port`.
pub fn cases(redis_port: u16) -> Vec<Case> {
    let dir = workspace_root().join("host/tests/manifests");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let path = entry.unwrap().path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".toml")?
                .to_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap()
                .replace("localhost:6379", &format!("127.0.0.1:{redis_port}"));
            Some(Case { name, text })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

impl Case {
    /// A Redis-only app: `spin up` takes no `--listen` for it and serves no health route.
    pub fn redis_only(&self) -> bool {
        self.text.contains("[[trigger.redis]]") && !self.text.contains("[[trigger.http]]")
    }

    /// A temp dir with the manifest as `spin.toml` and the files it names: each `<name>.wasm`
    /// is the `hello` fixture, `events.wasm` (the Redis component) the `subscriber` fixture.
    pub fn dir(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spin.toml"), &self.text).unwrap();
        let files = self
            .text
            .split('"')
            .filter(|s| s.ends_with(".wasm") && !s.contains('/'));
        for file in files {
            let source = if file == "events.wasm" {
                "subscriber"
            } else {
                "hello"
            };
            std::fs::copy(fixture(source), dir.path().join(file)).unwrap();
        }
        let manifest: toml::Table = self.text.parse().unwrap_or_default();
        let components = manifest.get("component").and_then(toml::Value::as_table);
        for component in components.into_iter().flat_map(|c| c.values()) {
            let patterns = component.get("files").and_then(toml::Value::as_array);
            for pattern in patterns
                .into_iter()
                .flatten()
                .filter_map(toml::Value::as_str)
            {
                let base = pattern.split(['*', '.']).next().unwrap_or_default();
                std::fs::create_dir_all(dir.path().join(base)).unwrap();
            }
        }
        dir
    }

    /// `SPIN_VARIABLE_<NAME>=x` for each variable declared `required` (as the environment, so
    /// that even an invalid name reaches Spin's manifest check rather than its CLI's).
    pub fn required_variables(&self) -> Vec<(String, String)> {
        let manifest: toml::Table = self.text.parse().unwrap_or_default();
        let variables = manifest.get("variables").and_then(toml::Value::as_table);
        variables
            .into_iter()
            .flatten()
            .filter(|(_, decl)| decl.get("required").and_then(toml::Value::as_bool) == Some(true))
            .map(|(name, _)| (format!("SPIN_VARIABLE_{}", name.to_uppercase()), "x".into()))
            .collect()
    }
}

/// `spin up` of a Redis-only app in `dir`: `Ok(stderr)` when it exits refusing the app, `Err`
/// when it subscribes instead (it prints "Active Channels" once the trigger is running).
pub async fn redis_app_refused(
    spin: &Path,
    dir: &Path,
    envs: &[(String, String)],
) -> Result<String, String> {
    let mut child = tokio::process::Command::new(spin)
        .arg("up")
        .current_dir(dir)
        .process_group(0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SPIN_HOME", dir.join(".spin-home"))
        .envs(envs.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("starting {}: {err}", spin.display()))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut stdout =
        tokio::io::BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let watched = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if line.starts_with("Active Channels") {
                return Err("spin up subscribed".to_owned());
            }
        }
        Ok(())
    })
    .await;
    // The trigger runs in a process of its own, in the same group.
    if let Some(group) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
    }
    let status = child.wait().await.map_err(|err| err.to_string())?;
    match watched {
        Err(_) => Err("spin up neither subscribed nor exited within a minute".into()),
        Ok(Err(subscribed)) => Err(subscribed),
        Ok(Ok(())) if status.success() => Err("spin up exited successfully".into()),
        Ok(Ok(())) => Ok(errors.await.unwrap_or_default()),
    }
}
