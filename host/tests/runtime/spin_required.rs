//! What happens to the real-Spin tier when there is no working Spin CLI: CI fails, a local run
//! skips and says so where a person sees it. Checked by running one conformance test of this
//! very binary again as a child process, with `SPIN_BIN` naming a file that does not exist.

use std::process::{Command, Output};

const CONFORMANCE_TEST: &str =
    "spin_conformance::real_spin_routes_and_sets_headers_exactly_as_our_host_does";

fn run_without_spin(ci: Option<&str>) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command
        .args([CONFORMANCE_TEST, "--exact", "--test-threads=1"])
        .env("SPIN_BIN", "/nonexistent/spin")
        .env_remove("CI")
        .env_remove("REEN_REQUIRE_SPIN");
    if let Some(value) = ci {
        command.env("CI", value);
    }
    command.output().expect("running the test binary")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&[output.stdout.as_slice(), output.stderr.as_slice()].concat())
        .into_owned()
}

#[test]
fn in_ci_a_missing_spin_cli_fails_the_run() {
    let output = run_without_spin(Some("true"));
    let text = text(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains("the real Spin CLI is required here") && text.contains("/nonexistent/spin"),
        "{text}"
    );
    assert!(text.contains("1 failed"), "{text}");
}

#[test]
fn locally_a_missing_spin_cli_is_a_skip_printed_outside_the_captured_output() {
    let output = run_without_spin(None);
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    // The harness shows a passing test's captured output nowhere; this line is on stderr.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SKIPPED real_spin_routes_and_sets_headers_exactly_as_our_host_does"),
        "{text}"
    );
}
