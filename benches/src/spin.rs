//! The real Spin CLI a bench measures: the one the tests run on, found as a user has it
//! (`SPIN_BIN`, then `spin` on `PATH`, then `../shared/tools/spin/spin.xz`; see
//! `reen_host::testing::spin_cli`), so benches and tests always mean the same binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Spin CLI to measure, or why there is none (the caller skips Spin and says so).
pub fn locate() -> Result<PathBuf, String> {
    reen_host::testing::spin_cli::locate()
}

/// The Spin CLI and its version for a bench's Spin runs, or why they are skipped (printed as
/// a `SKIPPING` line): `not_wanted` says why when the user left Spin out (`--only reen-host`);
/// with `required` (`--only spin`) a missing Spin CLI is an error instead.
pub fn for_runs(
    not_wanted: Option<&str>,
    required: bool,
) -> anyhow::Result<Result<(PathBuf, String), String>> {
    let spin = match not_wanted {
        Some(why) => Err(why.to_owned()),
        None => locate().map(|binary| {
            let version = version(&binary);
            (binary, version)
        }),
    };
    if let Err(why) = &spin {
        anyhow::ensure!(!required, "--only spin, and no Spin CLI: {why}");
        eprintln!("SKIPPING the Spin runs: {why}");
    }
    Ok(spin)
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
