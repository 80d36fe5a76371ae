//! Python virtual environments under `target/` with pinned PyPI packages, for tests that run a
//! Python validator (kubernetes-validate, openapi-spec-validator). Each is made once and reused
//! by later runs while its packages import.

use crate::tools::{skip_or_fail, target_dir};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// One environment: `target/<name>` with `packages` (pinned `name==version`), ready when
/// `python -c <ready_check>` succeeds (e.g. `import yaml`).
pub struct Venv {
    pub name: &'static str,
    pub packages: &'static [&'static str],
    pub ready_check: &'static str,
}

impl Venv {
    /// The environment's Python, made on first use (once per process), or the skip/failure
    /// rule when Python 3 or its `venv` module is missing.
    pub fn python(&self, test: &str) -> Option<PathBuf> {
        static MADE: OnceLock<Mutex<HashMap<&'static str, Result<PathBuf, String>>>> =
            OnceLock::new();
        // One at a time: pip in two threads on one directory would corrupt it.
        let mut made = MADE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let result = made.entry(self.name).or_insert_with(|| self.make());
        match result {
            Ok(python) => Some(python.clone()),
            Err(why) if why.starts_with("missing: ") => skip_or_fail(test, why),
            Err(why) => panic!("{test}: {why}"),
        }
    }

    fn ready(&self, python: &Path) -> bool {
        Command::new(python)
            .args(["-c", self.ready_check])
            .output()
            .is_ok_and(|out| out.status.success())
    }

    fn make(&self) -> Result<PathBuf, String> {
        let venv = target_dir().join(self.name);
        let python = venv.join("bin/python");
        if self.ready(&python) {
            return Ok(python);
        }
        let created = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .output()
            .map_err(|err| {
                format!("missing: python3 does not run ({err}); apt-get install python3")
            })?;
        if !created.status.success() {
            return Err(format!(
                "missing: `python3 -m venv` failed (apt-get install python3-venv): {}",
                String::from_utf8_lossy(&created.stderr)
            ));
        }
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(self.packages)
            .output()
            .map_err(|err| format!("running pip: {err}"))?;
        if !installed.status.success() || !self.ready(&python) {
            return Err(format!(
                "installing {:?} from PyPI into {} failed: {}",
                self.packages,
                venv.display(),
                String::from_utf8_lossy(&installed.stderr)
            ));
        }
        Ok(python)
    }
}
