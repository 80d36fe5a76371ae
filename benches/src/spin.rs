//! The real Spin CLI, found as a user has it: `SPIN_BIN`, then `spin` on `PATH`, then the build
//! this project's machines carry in `../shared/tools/spin/spin.xz` (unpacked once under the
//! target directory's `tools/`). Every bench that measures Spin asks here, so they all measure
//! the same binary.

use crate::servers;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Spin CLI to measure, or why there is none (the caller skips Spin and says so).
pub fn locate(root: &Path, target: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SPIN_BIN").filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        return check(&path).map(|()| path);
    }
    if let Some(path) = servers::find_on_path("spin") {
        return check(&path).map(|()| path);
    }
    let packed = root.join("../shared/tools/spin/spin.xz");
    if !packed.is_file() {
        return Err(format!(
            "no Spin CLI: SPIN_BIN is unset, `spin` is not on PATH and {} is absent",
            packed.display()
        ));
    }
    let binary = target.join("tools/spin");
    if !binary.is_file() {
        unpack(&packed, &binary).map_err(|err| format!("{err:#}"))?;
    }
    check(&binary).map(|()| binary)
}

/// `spin <version>` (the line's build details dropped: a build from source may print
/// placeholders there), for the report: figures name what they measured.
pub fn version(binary: &Path) -> String {
    Command::new(binary)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|line| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| "spin (version unknown)".to_owned())
}

/// A binary that cannot print its version (wrong architecture, missing libssl3) would only
/// fail later, mid-run, with a less useful message.
fn check(binary: &Path) -> Result<(), String> {
    match Command::new(binary).arg("--version").output() {
        Ok(out) if out.status.success() && out.stdout.starts_with(b"spin ") => Ok(()),
        Ok(out) => Err(format!(
            "the Spin CLI at {} is broken: `spin --version` said {:?}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Err(format!(
            "the Spin CLI at {} does not run: {err}",
            binary.display()
        )),
    }
}

/// Unpacks through a temporary name, so an interrupted unpack never leaves a truncated binary
/// where the next run would take it for a good one.
fn unpack(packed: &Path, binary: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    eprintln!("unpacking {} to {}", packed.display(), binary.display());
    std::fs::create_dir_all(binary.parent().context("spin has a parent dir")?)?;
    let partial = binary.with_extension("partial");
    let output = std::fs::File::create(&partial)?;
    let status = Command::new("xz")
        .arg("-dc")
        .arg(packed)
        .stdout(output)
        .status()
        .context("running xz")?;
    if !status.success() {
        bail!("xz -dc {} failed ({status})", packed.display());
    }
    std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&partial, binary)?;
    Ok(())
}
