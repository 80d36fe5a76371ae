//! The real Spin CLI for tests that run an app on Spin as well as on reen-host.
//!
//! Found as a user has it: `SPIN_BIN`, then `spin` on `PATH`, then the build this project's
//! machines carry in `../shared/tools/spin/spin.xz` (unpacked once under `target/tools/`).
//! Whether a missing CLI is a failure or a skip is [`required`]'s answer: CI (`CI` set or
//! `REEN_REQUIRE_SPIN=1`) fails; a local run skips, and says so on the terminal, not in the
//! test's captured output.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `spin up` gets to answer its health route (it compiles every component first).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root (this crate lives in `host/`).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate is inside the workspace")
        .to_owned()
}

/// True when a missing Spin CLI must fail the run: `REEN_REQUIRE_SPIN=1`, or `CI` set to
/// anything but `false`/`0`/empty (what CI services set).
pub fn required() -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .map(|value| !matches!(value.trim(), "" | "0" | "false"))
            .unwrap_or(false)
    };
    set("REEN_REQUIRE_SPIN") || set("CI")
}

/// Where the Spin CLI is, or why there is none. The answer is computed once per process.
pub fn locate() -> Result<PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND.get_or_init(find).clone()
}

fn find() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SPIN_BIN").filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        return check(&path).map(|()| path);
    }
    if let Some(path) = on_path("spin") {
        return check(&path).map(|()| path);
    }
    let archive = workspace_root().join("../shared/tools/spin/spin.xz");
    if archive.exists() {
        let path = unpack(&archive)?;
        return check(&path).map(|()| path);
    }
    Err("no Spin CLI: SPIN_BIN is unset, `spin` is not on PATH and \
         ../shared/tools/spin/spin.xz is absent"
        .into())
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A CLI that cannot even print its version (wrong architecture, missing libssl3) is broken,
/// which in CI is as fatal as a missing one.
fn check(path: &Path) -> Result<(), String> {
    let output = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|err| format!("the Spin CLI at {} does not run: {err}", path.display()))?;
    if output.status.success() && output.stdout.starts_with(b"spin ") {
        Ok(())
    } else {
        Err(format!(
            "the Spin CLI at {} is broken: `spin --version` said {:?}",
            path.display(),
            String::from_utf8_lossy(&[output.stdout, output.stderr].concat())
        ))
    }
}

/// Unpacks the archive under `target/tools/spin`; parallel test binaries each unpack into a
/// private file and rename it into place, so nobody runs a half-written binary.
fn unpack(archive: &Path) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("tools");
    let binary = dir.join("spin");
    if binary.exists() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
    let partial = dir.join(format!("spin.partial.{}", std::process::id()));
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"xz -dc "$1" > "$2" && chmod +x "$2""#)
        .args(["sh", &archive.to_string_lossy(), &partial.to_string_lossy()])
        .status()
        .map_err(|err| format!("running xz to unpack the Spin CLI: {err}"))?;
    if !status.success() {
        return Err(format!("unpacking {} failed", archive.display()));
    }
    std::fs::rename(&partial, &binary).map_err(|err| format!("placing the Spin CLI: {err}"))?;
    Ok(binary)
}

/// The Spin CLI for a test named `test`. Without one, fails the test in CI and otherwise
/// writes a `SKIPPED` line straight to the terminal (the test harness captures `eprintln!`
/// but not the process's own stderr) and returns `None`.
pub fn cli_or_skip(test: &str) -> Option<PathBuf> {
    match locate() {
        Ok(path) => Some(path),
        Err(why) if required() => {
            panic!("{test}: the real Spin CLI is required here (CI or REEN_REQUIRE_SPIN=1): {why}")
        }
        Err(why) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {why}; set SPIN_BIN to run it on real Spin"
            );
            None
        }
    }
}

/// A running `spin up`, in its own process group: dropping it kills `spin up` and the trigger
/// processes it started (`spin trigger http`, `spin trigger redis`).
pub struct SpinUp {
    child: Child,
    port: u16,
    base_url: String,
    log: PathBuf,
}

impl SpinUp {
    /// Runs `spin up --listen 127.0.0.1:<free port> <args>` in `dir` with `envs` added to an
    /// otherwise empty environment (nothing of the caller's `SPIN_VARIABLE_*` or `.env` leaks
    /// in), and waits until Spin's health route answers. What Spin and the guests print goes to
    /// `dir/spin-up.<port>.log`, shown when the start fails or the test panics (a passing test
    /// stays quiet, like one on reen-host).
    pub async fn start(
        spin: &Path,
        dir: &Path,
        args: &[&str],
        envs: &[(String, String)],
    ) -> Result<Self, String> {
        // The port is chosen before Spin binds it, so another process can take it first;
        // Spin then exits at once and another port is tried.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log = dir.join(format!("spin-up.{port}.log"));
            let file = std::fs::File::create(&log)
                .map_err(|err| format!("creating {}: {err}", log.display()))?;
            let stdout = file.try_clone().map_err(|err| err.to_string())?;
            let child = command(spin, dir, port, args, envs)
                .stdout(stdout)
                .stderr(file)
                .spawn()
                .map_err(|err| format!("starting {}: {err}", spin.display()))?;
            let mut running = Self {
                child,
                port,
                base_url: format!("http://127.0.0.1:{port}"),
                log,
            };
            match running.wait_healthy().await {
                Ok(()) => return Ok(running),
                Err(why) => last = format!("{why}; it printed:\n{}", running.output()),
            }
        }
        Err(last)
    }

    async fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|err| err.to_string())? {
                return Err(format!("spin up exited before serving ({status})"));
            }
            if healthy(self.port).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("spin up did not serve within {START_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILLs the process (and its group), as a crash or an OOM kill would: nothing of it
    /// runs another instruction.
    pub fn kill(&mut self) {
        kill_group(&self.child);
        let _ = self.child.wait();
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// What Spin and the guests have printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SpinUp {
    fn drop(&mut self) {
        kill_group(&self.child);
        let _ = self.child.wait();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "--- spin up ({}) printed:\n{}",
                self.base_url,
                self.output()
            );
        }
    }
}

fn kill_group(child: &Child) {
    // Quietly: the group is already gone when `spin up` exited by itself.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
}

/// Runs `spin up` expecting it to refuse the app, and returns what it printed on stderr. A
/// healthy app, or one that neither serves nor exits within a minute, is an `Err`.
pub async fn refused(
    spin: &Path,
    dir: &Path,
    args: &[&str],
    envs: &[(String, String)],
) -> Result<String, String> {
    let port = free_port();
    // The port may be taken by another test's server after it was chosen, so a healthy port
    // counts only once this `spin up` has listed its routes there (on stdout).
    let stdout_log = dir.join(format!("spin-refused.{port}.stdout"));
    let stdout = std::fs::File::create(&stdout_log)
        .map_err(|err| format!("creating {}: {err}", stdout_log.display()))?;
    let serving = format!("http://127.0.0.1:{port}/");
    let mut child = command(spin, dir, port, args, envs)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("starting {}: {err}", spin.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break Err("spin up exited successfully".into()),
            Ok(Some(_)) => {
                let mut stderr = String::new();
                let pipe = child.stderr.as_mut().expect("stderr is piped");
                let _ = std::io::Read::read_to_string(pipe, &mut stderr);
                break Ok(stderr);
            }
            Ok(None) => {}
            Err(err) => break Err(err.to_string()),
        }
        let said_serving =
            std::fs::read_to_string(&stdout_log).is_ok_and(|printed| printed.contains(&serving));
        if said_serving && healthy(port).await {
            break Err("spin up accepted the app".into());
        }
        if Instant::now() > deadline {
            break Err("spin up neither served nor exited within a minute".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    kill_group(&child);
    let _ = child.wait();
    outcome
}

fn command(
    spin: &Path,
    dir: &Path,
    port: u16,
    args: &[&str],
    envs: &[(String, String)],
) -> Command {
    let mut command = Command::new(spin);
    command
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .current_dir(dir)
        .process_group(0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // Spin keeps plugins and its registry cache here; a private one per app.
        .env("SPIN_HOME", dir.join(".spin-home"))
        .envs(envs.iter().map(|(name, value)| (name, value)))
        .stdout(Stdio::null());
    command
}

/// Whether Spin's own health route answers 200 on `port` (one HTTP/1.0 request, so the
/// answer ends with the connection; no HTTP client is needed in the host crate).
async fn healthy(port: u16) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /.well-known/spin/health HTTP/1.0\r\nhost: localhost\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        std::io::Result::Ok(
            answer.starts_with(b"HTTP/1.0 200") || answer.starts_with(b"HTTP/1.1 200"),
        )
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .is_ok_and(|answer| answer.unwrap_or(false))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
