//! The served OpenAPI document is valid OpenAPI 3.1, as PyPI's `openapi-spec-validator`
//! judges it (in `target/openapi-venv`, made on first use like the deployment tests' venv).

use crate::api_docs::served_document;
use crate::helpers::spawn_app;
use e2e::python::Venv;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const VENV: Venv = Venv {
    name: "openapi-venv",
    packages: &["openapi-spec-validator==0.9.0"],
    ready_check: "import openapi_spec_validator",
};

/// Validates `document` (the version is read from its `openapi` field); prints the first
/// error on failure.
fn validate(python: &Path, document: &Value) -> Output {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), document.to_string()).expect("write the document");
    Command::new(python)
        .args([
            "-c",
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             validate(json.load(open(sys.argv[1])))",
        ])
        .arg(file.path())
        .output()
        .expect("python runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_valid_openapi_3_1() {
    let test = "the_served_document_is_valid_openapi_3_1";
    let Some(python) = VENV.python(test) else {
        return;
    };
    let app = spawn_app().await;
    let document = served_document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");

    let verdict = validate(&python, &document);
    assert!(
        verdict.status.success(),
        "openapi-spec-validator refuses the document:\n{}",
        String::from_utf8_lossy(&verdict.stderr)
    );

    // The validator does judge: the same document with an operation whose path parameter is
    // not declared is refused.
    let mut broken = document.clone();
    broken["paths"]["/api/v1/orders/{id}"]["get"]["parameters"] = Value::Array(vec![]);
    let verdict = validate(&python, &broken);
    assert!(!verdict.status.success(), "a broken document passed");
}
