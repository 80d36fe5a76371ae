//! The real app (`spin.toml`, `runtime-config.toml`) on the real Spin CLI, on a copy of a state
//! directory the app already ran in under reen-host ([`crate::app`]), so both serve the same
//! data.
//!
//! Layout: Spin resolves relative key-value paths against the runtime-config file's directory
//! and relative SQLite paths against its working directory. So a copy of the repository's
//! `runtime-config.toml` goes into a home directory, Spin runs there, and every store (and
//! Spin's `--state-dir`, where it writes the components' logs) is that directory's `.spin/`.
//!
//! Storage: reen-host keeps every SQLite file in WAL mode, a setting SQLite records in the file
//! itself, while Spin sets no journal mode: a file Spin created is in rollback-journal mode. The
//! copies are switched back to it, so Spin is measured on the files it would have made itself.
//!
//! Redis: `spin up` starts the events component's Redis trigger and exits when it cannot reach
//! `redis_url` (reen-host starts a local `redis-server` for a local URL; Spin does not), so a
//! home owns a private `redis-server` and gives its URL to every Spin it starts.

use crate::app;
use crate::servers::Server;
use anyhow::Context as _;
use reen_host::testing::RedisServer;
use rusqlite::Connection;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory `spin up` runs in, holding `runtime-config.toml` and `.spin/`.
pub struct SpinHome {
    dir: PathBuf,
    redis: RedisServer,
}

impl SpinHome {
    /// Copies every `*.db` of `seeded` (no server may be running on it) into `home/.spin/`,
    /// replacing what an earlier run left there, in rollback-journal mode.
    /// Starts the home's `redis-server`.
    pub async fn prepare(root: &Path, seeded: &Path, home: &Path) -> anyhow::Result<Self> {
        let stores = home.join(".spin");
        if stores.exists() {
            std::fs::remove_dir_all(&stores)
                .with_context(|| format!("removing {}", stores.display()))?;
        }
        std::fs::create_dir_all(&stores)?;
        std::fs::copy(
            root.join("runtime-config.toml"),
            home.join("runtime-config.toml"),
        )
        .context("copying runtime-config.toml")?;
        for entry in std::fs::read_dir(seeded)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == "db") {
                copy_to_rollback_journal(&path, &stores)?;
            }
        }
        let redis = RedisServer::start()
            .await
            .context("Spin's Redis trigger needs a redis-server (apt-get install redis-server)")?;
        Ok(Self {
            dir: home.to_owned(),
            redis,
        })
    }

    /// Where Spin keeps the store file `name` (`products.db`, `cache_kv.db`, ...).
    pub fn store(&self, name: &str) -> PathBuf {
        self.dir.join(".spin").join(name)
    }

    /// `spin up` on the repository's `spin.toml`, listening on `addr`, with the development
    /// variables as `SPIN_VARIABLE_*`, as an operator's environment would give them, and
    /// `redis_url` the home's `redis-server`.
    pub fn command(&self, spin: &Path, root: &Path, addr: SocketAddr) -> Command {
        self.command_for(spin, &root.join("spin.toml"), addr)
    }

    /// [`Self::command`] for another manifest than the repository's (a fixture's) on the same
    /// stores and variables.
    pub fn command_for(&self, spin: &Path, manifest: &Path, addr: SocketAddr) -> Command {
        let mut command = Command::new(spin);
        command
            .arg("up")
            .arg("-f")
            .arg(manifest)
            .arg("--runtime-config-file")
            .arg(self.dir.join("runtime-config.toml"))
            .arg("--state-dir")
            .arg(self.dir.join(".spin"))
            .arg("--listen")
            .arg(addr.to_string())
            .current_dir(&self.dir)
            // Plugins, templates and caches of this Spin stay out of the user's home.
            .env("SPIN_HOME", self.dir.join("spin-home"))
            .env("RUST_LOG", "warn");
        for (name, value) in app::variables() {
            command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        command.env("SPIN_VARIABLE_REDIS_URL", self.redis.url());
        command
    }

    /// [`Self::command`] with `variables` on top (they win over the development ones).
    pub fn command_with(
        &self,
        spin: &Path,
        root: &Path,
        addr: SocketAddr,
        variables: &[(&str, String)],
    ) -> Command {
        let mut command = self.command(spin, root, addr);
        for (name, value) in variables {
            command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        command
    }

    /// Starts [`Self::command`] as a [`Server`], its output going to `home/log`.
    pub fn start(
        &self,
        spin: &Path,
        root: &Path,
        addr: SocketAddr,
        log: &str,
    ) -> anyhow::Result<Server> {
        self.spawn(self.command(spin, root, addr), log)
    }

    /// Starts `command` ([`Self::command`], with more variables, say) as a [`Server`], its
    /// output going to `home/log`.
    pub fn spawn(&self, command: Command, log: &str) -> anyhow::Result<Server> {
        Server::spawn(command, &self.dir.join(log))
    }
}

/// Copies `db` and the WAL a killed reen-host may have left beside it (its last commits can
/// still be there), then leaves WAL mode on the copy, which moves those commits into the file.
fn copy_to_rollback_journal(db: &Path, into: &Path) -> anyhow::Result<()> {
    let name = db.file_name().context("a store file has a name")?;
    let copy = into.join(name);
    std::fs::copy(db, &copy).with_context(|| format!("copying {}", db.display()))?;
    let wal = db.with_file_name(format!("{}-wal", name.to_string_lossy()));
    if wal.is_file() {
        let wal_copy = copy.with_file_name(format!("{}-wal", name.to_string_lossy()));
        std::fs::copy(&wal, wal_copy).with_context(|| format!("copying {}", wal.display()))?;
    }
    let conn = Connection::open(&copy)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "delete", |row| row.get(0))
        .with_context(|| format!("leaving WAL mode on {}", copy.display()))?;
    anyhow::ensure!(
        mode == "delete",
        "{} stayed in journal mode {mode}",
        copy.display()
    );
    Ok(())
}
