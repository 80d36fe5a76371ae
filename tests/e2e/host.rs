//! The host the suite runs the app on: `REEN_TEST_HOST=reen-host` (the default) or `spin`, the
//! real Spin CLI (`reen_host::testing::spin_cli` finds it as a user has it). Both get the same
//! manifest, the same `runtime-config.toml`, the same `.wasm` files, the test's variables and a
//! private state directory; tests see one [`Server`] either way.

use reen_host::testing::spin_cli::{self, SpinUp};
use reen_host::{AppOptions, RunningApp};
use std::path::PathBuf;
use std::sync::Mutex;

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

/// A running app: reen-host in this process, or a child process (`spin up`, or `reen-host up`
/// for a test that kills the host).
pub enum Server {
    ReenHost(RunningApp),
    Process(ProcessServer),
}

pub struct ProcessServer {
    // Declared first: the process stops before its state directory is removed. Behind a lock
    // so a test can kill and restart it while users of the app borrow it.
    process: Mutex<SpinUp>,
    command: UpCommand,
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// How a child process was started, to start it again on the same state.
struct UpCommand {
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

impl UpCommand {
    async fn start(&self, dir: &std::path::Path) -> SpinUp {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        SpinUp::start(&self.program, dir, &args, &self.envs)
            .await
            .unwrap_or_else(|why| panic!("the app did not start: {why}"))
    }
}

impl Server {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        match self {
            Self::ReenHost(app) => app.base_url(),
            Self::Process(server) => server.process().base_url().to_owned(),
        }
    }

    /// Where the app's key-value files and databases are (`runtime-config.toml`'s `.spin/`).
    pub fn state_dir(&self) -> PathBuf {
        match self {
            Self::ReenHost(app) => app.state_dir().expect("a test app has a state dir").into(),
            Self::Process(server) => server.dir.join(".spin"),
        }
    }

    /// The directory a second app must run in to share this one's state.
    pub fn home(&self) -> PathBuf {
        match self {
            Self::ReenHost(app) => app.state_dir().expect("a test app has a state dir").into(),
            Self::Process(server) => server.dir.clone(),
        }
    }

    /// SIGKILLs the host, whatever its guests are doing (started with `Launch::killable`).
    pub fn kill(&self) {
        match self {
            Self::ReenHost(_) => panic!("an in-process host cannot be killed: launch it killable"),
            Self::Process(server) => server.process().kill(),
        }
    }

    /// Starts the host again, on the same state, after [`Server::kill`].
    pub async fn restart(&self) {
        match self {
            Self::ReenHost(_) => panic!("an in-process host cannot be restarted"),
            Self::Process(server) => {
                let restarted = server.command.start(&server.dir).await;
                *server.process() = restarted;
            }
        }
    }
}

impl ProcessServer {
    fn process(&self) -> std::sync::MutexGuard<'_, SpinUp> {
        self.process
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to start: a manifest, the variables, and optionally another app's state to share.
pub struct Launch<'a> {
    pub manifest: PathBuf,
    pub runtime_config: PathBuf,
    pub working_dir: PathBuf,
    pub variables: Vec<(String, String)>,
    pub beside: Option<&'a Server>,
    /// Run reen-host as a child process too (`reen-host up`, this package's `e2e-reen-host`
    /// binary), so the test can SIGKILL it; Spin always is one.
    pub killable: bool,
    /// More arguments for the `up` command line of a child process (e.g. Spin's `-c <id>`).
    pub args: Vec<String>,
}

pub async fn start(launch: Launch<'_>) -> Server {
    match host() {
        Host::ReenHost if !launch.killable => Server::ReenHost(start_reen_host(launch).await),
        Host::ReenHost => Server::Process(
            start_process(PathBuf::from(env!("CARGO_BIN_EXE_e2e-reen-host")), launch).await,
        ),
        Host::Spin => {
            let spin = spin_cli::locate().unwrap_or_else(|why| {
                panic!("REEN_TEST_HOST=spin needs the real Spin CLI: {why}; set SPIN_BIN")
            });
            Server::Process(start_process(spin, launch).await)
        }
    }
}

async fn start_reen_host(launch: Launch<'_>) -> RunningApp {
    assert!(
        launch.args.is_empty(),
        "command-line arguments need a child process"
    );
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

/// `<program> up -f <manifest> --runtime-config-file <copy>` (the Spin CLI, or reen-host's with
/// the same arguments) in a private directory holding a copy of `runtime-config.toml`: its
/// relative paths resolve there (key-value paths against the file's directory, SQLite paths
/// against the working directory), so everything lands in that directory's `.spin/`.
/// Variables go in as `SPIN_VARIABLE_*`, as an operator's environment would give them.
async fn start_process(program: PathBuf, launch: Launch<'_>) -> ProcessServer {
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
    let command = UpCommand {
        program,
        args: args
            .map(str::to_owned)
            .into_iter()
            .chain(launch.args)
            .collect(),
        envs,
    };
    ProcessServer {
        process: Mutex::new(command.start(&dir).await),
        command,
        dir,
        _temp: temp,
    }
}

/// True, after saying so on the terminal, when this run is on real Spin and `test` needs Redis
/// to drop while the app runs: Spin exits when its Redis trigger loses Redis (there is no
/// reconnect), so such a test cannot run there. On reen-host (which reconnects) it runs.
pub fn exempt_on_spin_because_redis_drops(test: &str) -> bool {
    if host() != Host::Spin {
        return false;
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "EXEMPT on Spin {test}: it stops Redis mid-run, and Spin exits when its Redis trigger \
         loses Redis (covered on reen-host)"
    );
    true
}
