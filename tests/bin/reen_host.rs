//! `reen-host` itself, as a binary of this package: the end-to-end suite runs it as a child
//! process when a test must kill the host mid-request (`host.rs`, `Launch::killable`). A
//! binary of the test's own package is built with exactly the test's dependencies, so this
//! costs a link, not a second build of the host.

fn main() -> std::process::ExitCode {
    reen_host::cli::main()
}
