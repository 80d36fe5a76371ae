use crate::helpers::{TestApp, prepare};
use reen_host::RunningApp;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "vars"

[variables]
api_key = { required = true, secret = true }
base_url = { default = "https://default.example" }

[[trigger.http]]
route = "/vars/..."
component = "vars"

[component.vars]
source = "{probe}"
variables = { key = "{{ api_key }}", url = "{{ base_url }}/v1", fixed = "literal" }
"#;

async fn var(app: &TestApp, name: &str) -> serde_json::Value {
    app.json(&format!("/vars/x?op=var&name={name}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_variables_render_templates_over_app_variables_with_defaults() {
    let app = TestApp::start_with(MANIFEST, None, &[("api_key", "s3cret")]).await;
    assert_eq!(var(&app, "key").await["ok"], "s3cret");
    assert_eq!(var(&app, "url").await["ok"], "https://default.example/v1");
    assert_eq!(var(&app, "fixed").await["ok"], "literal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_variables_override_defaults() {
    let (_dir, mut options) = prepare(MANIFEST, None);
    options.env = Some(
        [
            ("SPIN_VARIABLE_API_KEY", "from-env"),
            ("SPIN_VARIABLE_BASE_URL", "http://env.example"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    );
    let app = RunningApp::start(options).await.expect("starts");
    let client = reqwest::Client::new();
    let get = |name: &'static str| {
        let url = format!("{}/vars/x?op=var&name={name}", app.base_url());
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(get("key").await["ok"], "from-env");
    assert_eq!(get("url").await["ok"], "http://env.example/v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_required_variable_stops_start_up_naming_it() {
    let (_dir, options) = prepare(MANIFEST, None);
    let err = RunningApp::start(options)
        .await
        .err()
        .expect("start-up must fail");
    let message = format!("{err:#}");
    assert!(
        message.contains("api_key") && message.contains("SPIN_VARIABLE_API_KEY"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_invalid_names_are_distinct_errors() {
    let app = TestApp::start_with(MANIFEST, None, &[("api_key", "k")]).await;
    let undefined = var(&app, "api_key").await; // an app variable not mapped into the component
    assert!(
        undefined["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Error::Undefined"),
        "{undefined}"
    );
    let invalid = var(&app, "Key").await;
    assert!(
        invalid["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Error::InvalidName"),
        "{invalid}"
    );
}
