//! Finding the programs a test needs, with one rule for when one is missing: the test says
//! `SKIPPED <test>: <why>` on the terminal and returns early, except where tools are required
//! (CI, `REEN_REQUIRE_SPIN=1`: the Spin CLI's rule), where it fails.

use reen_host::testing::spin_cli;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// The cargo target directory (where Python environments and test outputs live).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Says `SKIPPED <test>: <why>` on the terminal (not in the captured output), or fails the
/// test when tools are required.
pub fn skip_or_fail<T>(test: &str, why: &str) -> Option<T> {
    if spin_cli::required() {
        panic!("{test}: required here (CI or REEN_REQUIRE_SPIN=1): {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

/// `program` on `PATH` (or `/usr/sbin`, where Debian puts nginx), or the skip/failure rule;
/// `package` is the Debian package that installs it.
pub fn tool(test: &str, program: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file());
    match found {
        Some(found) => Some(found),
        None => skip_or_fail(
            test,
            &format!("`{program}` is not installed (apt-get install {package})"),
        ),
    }
}
