//! Servers under test as child processes: start one in its own process group, wait until it
//! answers, and kill the whole group afterwards (runtimes may fork helpers).

use crate::load;
use anyhow::{Context as _, bail};
use http::StatusCode;
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// `name` in a directory of `PATH`, if any: how a user's shell would find a server binary.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A started server; killed (with its process group) when dropped.
pub struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Starts `command` in a new process group, its output going to the file `log`.
    pub fn spawn(mut command: Command, log: &Path) -> anyhow::Result<Self> {
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {:?}", command.get_program()))?;
        Ok(Self {
            child,
            log: log.to_owned(),
        })
    }

    /// Polls `GET path` until it answers 200, the process exits, or `limit` passes.
    pub async fn wait_ready(
        &mut self,
        addr: SocketAddr,
        path: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let mut last = String::from("no answer");
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("exited ({status}) before answering\n{}", self.log_tail());
            }
            match timeout(Duration::from_secs(2), load::probe(addr, path)).await {
                Ok(Ok(StatusCode::OK)) => return Ok(()),
                Ok(Ok(status)) => last = format!("answered {status}"),
                Ok(Err(err)) => last = format!("{err:#}"),
                Err(_elapsed) => last = "probe timed out".into(),
            }
            sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "not ready after {limit:?} (last: {last})\n{}",
            self.log_tail()
        )
    }

    /// The server's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The last lines the server printed, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n  ");
        format!("--- {} ---\n  {tail}", self.log.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // `process_group(0)` made the child a group leader: its pid is the group id.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
