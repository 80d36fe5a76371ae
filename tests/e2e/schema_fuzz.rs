//! schemathesis (PyPI, in `target/schemathesis-venv`) generates requests from the served
//! OpenAPI document against the running app and checks every answer: no 5xx, and every
//! status, content type, header and body as documented. The app has the demo catalog, a fake
//! Stripe, and a signed-in ADMIN whose token goes with every request (ADMIN may call every
//! route); the routes that end a session or an account get throwaway users of their own, so
//! the rest of the run keeps a working token. Ids come from the document's OpenAPI `links`
//! (a created product, cart item or checkout is then read, changed and deleted).

use crate::api::{SignedIn, TestUser, body};
use crate::conformance::DOCUMENT_PATH;
use crate::fake_stripe::FakeStripe;
use crate::helpers::{repo_root, spawn_manifest_with};
use crate::host::{self, Host};
use crate::products::new_admin;
use e2e::python::Venv;
use e2e::tools::target_dir;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const VENV: Venv = Venv {
    name: "schemathesis-venv",
    packages: &["schemathesis==4.32.5"],
    ready_check: "import schemathesis",
};

/// What every response is checked for (schemathesis' names).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// Test cases per operation and phase: with 32 operations and the coverage phase's own
/// cases, 20 makes about 1,900 requests in 20 s on reen-host; Spin, without that phase (see
/// `phases`), needs more of the others to pass 1,000.
fn max_examples() -> &'static str {
    match host::host() {
        Host::Spin => "45",
        _ => "20",
    }
}

/// The fewest requests a run must make to count.
const MIN_REQUESTS: usize = 1000;

/// Per operation: the token of a user of its own (the account-ending routes), as
/// schemathesis' configuration file writes it; every other operation uses the ADMIN's.
fn config(admin: &str, own_users: &[(&str, &TestUser<'_>)]) -> String {
    let mut text = format!("headers = {{ Authorization = \"Bearer {admin}\" }}\n");
    if host::host() == Host::Spin {
        // Spin's HTTP trigger answers an empty 500 itself, before any component runs, to a
        // header value that is not UTF-8 ("Error processing request: invalid utf-8
        // sequence"), and schemathesis sends non-ASCII header text as Latin-1 bytes. That is
        // the platform's answer, not the app's (reen-host passes such values on and the app
        // refuses them with its documented 400, which the reen-host run checks), so on Spin
        // generated header values stay ASCII.
        text += "generation.codec = \"ascii\"\n";
    }
    for (operation, user) in own_users {
        text += &format!(
            "\n[[operations]]\ninclude-operation-id = \"{operation}\"\n\
             headers = {{ Authorization = \"Bearer {}\" }}\n",
            user.token
        );
    }
    text
}

/// Every phase on reen-host. On Spin, not the coverage phase: its negative header values
/// (e.g. an `Idempotency-Key` of Latin-1 bytes) ignore `generation.codec`, and Spin's trigger
/// answers those with its own 500 before the app sees them (see `config`).
fn phases() -> &'static str {
    match host::host() {
        Host::Spin => "examples,fuzzing,stateful",
        _ => "examples,coverage,fuzzing,stateful",
    }
}

/// The requests a HAR report holds, and those answered with a 5xx.
fn har_counts(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).expect("schemathesis wrote its HAR report");
    let har: Value = serde_json::from_str(&text).expect("the HAR report is JSON");
    let entries = har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let server_errors = entries
        .iter()
        .filter(|e| e["response"]["status"].as_u64().is_some_and(|s| s >= 500))
        .map(|e| format!("{} {}", e["request"]["method"], e["request"]["url"]))
        .collect();
    (entries.len(), server_errors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_document() {
    let test = "schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_document";
    let Some(python) = VENV.python(test) else {
        return;
    };
    let stripe = FakeStripe::start().await;
    let app = spawn_manifest_with(
        repo_root().join("spin.toml"),
        &[
            ("seed_demo_catalog", "true"),
            ("stripe_api_base", stripe.base_url()),
        ],
    )
    .await;
    let admin = new_admin(&app, "Fuzz Admin").await;
    // A demo product in the ADMIN's cart, so checkout has something to price.
    let demo = body(app.get("/api/v1/products?limit=1").await).await["products"][0]["id"]
        .as_str()
        .expect("the demo catalog has products")
        .to_owned();
    let res = admin
        .post(
            "/api/v1/cart-items",
            json!({ "productId": demo, "quantity": 1 }),
        )
        .await;
    assert_eq!(res.status(), 201, "the seed cart item");
    let leaver = app.new_user("Leaver").await;
    let signing_out = app.new_user("Signing Out").await;
    let changing_role = app.new_user("Changing Role").await;

    let dir = target_dir().join("e2e/schemathesis");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the report directory");
    let config_file = dir.join("schemathesis.toml");
    let own_users = [
        ("deleteMe", &leaver),
        ("signOut", &signing_out),
        ("updateUserRole", &changing_role),
    ];
    std::fs::write(&config_file, config(&admin.token, &own_users)).expect("the config");
    let har = dir.join("requests.har");
    let junit = dir.join("junit.xml");

    let started = Instant::now();
    let st = python.with_file_name("st");
    let run = Command::new(&st)
        .arg("--no-color")
        .arg("--config-file")
        .arg(&config_file)
        .arg("run")
        .arg(app.url(DOCUMENT_PATH))
        .args(["--checks", CHECKS])
        .args(["--max-examples", max_examples()])
        .args(["--phases", phases()])
        // Reproducible: a failure seen once is seen again on the next run.
        .args(["--seed", "20261101"])
        // One worker: CPython 3.11's `ast.parse` (which Hypothesis calls to describe filters)
        // can fail with "AST constructor recursion depth mismatch" when threads race
        // (cpython#106905); the run is short enough without a second one.
        .args(["--workers", "1", "--request-timeout", "20"])
        // The tokens are this run's throwaway users': show them, so a failure's curl replays.
        .args(["--output-sanitize", "false"])
        .args(["--report", "junit,har"])
        .arg("--report-junit-path")
        .arg(&junit)
        .arg("--report-har-path")
        .arg(&har)
        .current_dir(&dir)
        .output()
        .expect("schemathesis runs");
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::write(dir.join("output.txt"), &output).expect("keep the output");
    eprintln!("schemathesis took {:.0?}", started.elapsed());

    assert!(
        run.status.success(),
        "schemathesis found failures (report in {}):\n{output}",
        dir.display()
    );
    let (requests, server_errors) = har_counts(&har);
    assert!(server_errors.is_empty(), "answered 5xx: {server_errors:?}");
    assert!(
        requests >= MIN_REQUESTS,
        "only {requests} requests (at least {MIN_REQUESTS} wanted):\n{output}"
    );
    let junit = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(!junit.contains("<failure"), "JUnit failures:\n{junit}");
    eprintln!("schemathesis sent {requests} requests");
}
