//! The host the suite runs the app on: `REEN_TEST_HOST=reen-host` (the default) or `spin`, the
//! real Spin CLI (`reen_host::testing::spin_cli` finds it as a user has it). Both get the same
//! manifest, the same `runtime-config.toml`, the same `.wasm` files, the test's variables and a
//! private state directory; tests see one [`Server`] either way.

use reen_host::testing::spin_cli::{self, SpinUp};
use reen_host::{AppOptions, RunningApp};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    ReenHost,
    Spin,
}

/// The host this run uses, from `REEN_TEST_HOST`; anything else than the two names stops the
/// run rather than quietly testing the default.
pub fn host() -> Host {
    match std::env::var("REEN_TEST_HOST").as_deref() {
        Err(_) | Ok("") | Ok("reen-host") => Host::ReenHost,
        Ok("spin") => Host::Spin,
        Ok(other) => panic!("REEN_TEST_HOST={other:?}: expected `reen-host` or `spin`"),
    }
}

/// A running app on either host.
pub enum Server {
    ReenHost(RunningApp),
    Spin(SpinServer),
}

pub struct SpinServer {
    // Declared first: `spin up` stops before its state directory is removed.
    process: SpinUp,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        match self {
            Self::ReenHost(app) => app.base_url(),
            Self::Spin(spin) => spin.process.base_url().to_owned(),
        }
    }

    /// Where the app's key-value files and databases are (`runtime-config.toml`'s `.spin/`).
    pub fn state_dir(&self) -> PathBuf {
        match self {
            Self::ReenHost(app) => app.state_dir().expect("a test app has a state dir").into(),
            Self::Spin(spin) => spin.dir.join(".spin"),
        }
    }

    /// The directory a second app must run in to share this one's state.
    fn home(&self) -> PathBuf {
        match self {
            Self::ReenHost(app) => app.state_dir().expect("a test app has a state dir").into(),
            Self::Spin(spin) => spin.dir.clone(),
        }
    }
}

/// What to start: a manifest, the variables, and optionally another app's state to share.
pub struct Launch<'a> {
    pub manifest: PathBuf,
    pub runtime_config: PathBuf,
    pub working_dir: PathBuf,
    pub variables: Vec<(String, String)>,
    pub beside: Option<&'a Server>,
}

pub async fn start(launch: Launch<'_>) -> Server {
    match host() {
        Host::ReenHost => Server::ReenHost(start_reen_host(launch).await),
        Host::Spin => Server::Spin(start_spin(launch).await),
    }
}

async fn start_reen_host(launch: Launch<'_>) -> RunningApp {
    let mut options = AppOptions::for_tests(launch.manifest).runtime_config(launch.runtime_config);
    if let Some(other) = launch.beside {
        options = options.state_dir(other.home());
    }
    options.working_dir = Some(launch.working_dir);
    options.log_requests = false;
    let options = launch
        .variables
        .into_iter()
        .fold(options, |options, (name, value)| {
            options.variable(name, value)
        });
    RunningApp::start(options).await.expect("the app starts")
}

/// `spin up -f <manifest> --runtime-config-file <copy>` in a private directory holding a copy
/// of `runtime-config.toml`: its relative paths resolve there (key-value paths against the
/// file's directory, SQLite paths against the working directory), so everything lands in that
/// directory's `.spin/`. Variables go in as `SPIN_VARIABLE_*`, as an operator's environment
/// would give them.
async fn start_spin(launch: Launch<'_>) -> SpinServer {
    let spin = spin_cli::locate().unwrap_or_else(|why| {
        panic!("REEN_TEST_HOST=spin needs the real Spin CLI: {why}; set SPIN_BIN")
    });
    let (dir, temp) = match launch.beside {
        Some(other) => (other.home(), None),
        None => {
            let temp = tempfile::tempdir().expect("a temp dir");
            (temp.path().to_owned(), Some(temp))
        }
    };
    let config = dir.join("runtime-config.toml");
    std::fs::copy(&launch.runtime_config, &config).expect("copying runtime-config.toml");
    let envs: Vec<(String, String)> = launch
        .variables
        .into_iter()
        .map(|(name, value)| (format!("SPIN_VARIABLE_{}", name.to_uppercase()), value))
        .collect();
    let manifest = launch.manifest.to_string_lossy().into_owned();
    let config = config.to_string_lossy().into_owned();
    let state = dir.join(".spin").to_string_lossy().into_owned();
    let args = [
        "-f",
        &manifest,
        "--runtime-config-file",
        &config,
        "--state-dir",
        &state,
    ];
    let process = SpinUp::start(&spin, &dir, &args, &envs)
        .await
        .unwrap_or_else(|why| panic!("the app did not start on Spin: {why}"));
    SpinServer {
        process,
        dir,
        _temp: temp,
    }
}
