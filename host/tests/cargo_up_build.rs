//! `cargo up` right after `cargo test` must not compile a second wasmtime.
//!
//! Cargo compiles a dependency once per feature set. `cargo test` resolves features over the
//! workspace's default members with their dev-dependencies; `cargo up` (`cargo run --bin
//! reen-host`, `.cargo/config.toml`) over the same members without them. Every package the host
//! is built from must therefore get the same features both ways, or `cargo up` builds it (and
//! everything above it, wasmtime included) again. A dev-dependency that turns on a feature of
//! one of the host's dependencies breaks that; this test names the package and both sets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// `cargo tree` lines `name vX.Y.Z|feature,feature` (a package built for the build machine and
/// for the target may appear twice, with different features).
fn tree(args: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(cargo)
        .arg("tree")
        .args(args)
        .args(["--locked", "--prefix", "none", "--format", "{p}|{f}"])
        .current_dir(root)
        .output()
        .expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.trim_end_matches(" (*)").replace(" (proc-macro)", ""))
        // Workspace members print their path; it says nothing about features.
        .map(|line| match line.split_once(" (/") {
            Some((package, rest)) => format!("{package}|{}", rest.split_once('|').unwrap().1),
            None => line,
        })
        .collect()
}

fn package(line: &str) -> &str {
    line.split_once('|').map_or(line, |(package, _)| package)
}

/// The feature sets of each package of the host's own dependency graph, in one resolve.
fn features_of_host_packages(resolve: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let host: BTreeSet<String> = tree(&["-p", "reen-host", "-e", "normal,build"])
        .iter()
        .map(|line| package(line).to_owned())
        .collect();
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in resolve.iter().filter(|line| host.contains(package(line))) {
        let (package, set) = line.split_once('|').unwrap_or((line, ""));
        features
            .entry(package.to_owned())
            .or_default()
            .insert(set.to_owned());
    }
    features
}

#[test]
fn cargo_up_builds_the_host_with_the_same_dependency_features_as_cargo_test() {
    // No `-p`: the default members, which `cargo run --bin` and `cargo test` both resolve over.
    let up = features_of_host_packages(&tree(&["-e", "normal,build"]));
    let test = features_of_host_packages(&tree(&["-e", "normal,build,dev"]));
    let differing: Vec<String> = up
        .iter()
        .filter(|(package, features)| test.get(*package) != Some(*features))
        .map(|(package, features)| {
            format!(
                "{package}: cargo up {features:?}, cargo test {:?}",
                test.get(package)
            )
        })
        .collect();
    assert!(
        up.keys().any(|package| package.starts_with("wasmtime v")),
        "the host's graph was not read: {up:?}"
    );
    assert!(
        differing.is_empty(),
        "enable these features in the host's own [dependencies] (see hyper-util in host/Cargo.toml):\n{}",
        differing.join("\n")
    );
}
