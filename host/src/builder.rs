//! `up --build` / `build`: runs each component's `[component.<id>.build] command` in its
//! `workdir` (relative to the manifest), like `spin build`, stopping at the first failure.

use crate::manifest::Manifest;
use anyhow::Context as _;
use std::process::Command;

/// Builds every component that declares a build command, in manifest order.
pub fn build_all(manifest: &Manifest) -> anyhow::Result<()> {
    for (id, component) in &manifest.components {
        let Some(build) = &component.build else {
            continue;
        };
        let workdir = match &build.workdir {
            Some(dir) => manifest.dir.join(dir),
            None => manifest.dir.clone(),
        };
        for command in &build.command {
            tracing::info!("building component `{id}`: {command}");
            // Spin runs build commands through the shell, so `&&`, env vars and globs work.
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&workdir)
                .status()
                .with_context(|| format!("component `{id}`: starting `{command}`"))?;
            anyhow::ensure!(
                status.success(),
                "component `{id}`: build command `{command}` failed ({status})"
            );
        }
    }
    Ok(())
}
