use crate::helpers::TestApp;

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "basics"
version = "2.1.0"

[[trigger.http]]
route = "/probe/..."
component = "probe"

[[trigger.http]]
route = "/gone"
static_response = { status_code = 410, headers = { x-reason = "retired" }, body = "gone for good" }

[component.probe]
source = "{probe}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_health_endpoint_answers_ok() {
    let app = TestApp::start(MANIFEST).await;
    let res = app.get("/.well-known/spin/health").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_info_endpoint_reports_the_app_name_and_version() {
    let app = TestApp::start(MANIFEST).await;
    let info: serde_json::Value = app
        .get("/.well-known/spin/info")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        serde_json::json!({ "name": "basics", "version": "2.1.0" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_guest_gives_an_empty_500_and_the_next_request_still_works() {
    let app = TestApp::start(MANIFEST).await;
    let res = app.get("/probe/x?op=trap").await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text().await.unwrap(), "");
    let echo = app.json("/probe/after").await;
    assert_eq!(echo["path"], "/probe/after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_path_gives_an_empty_404() {
    let app = TestApp::start(MANIFEST).await;
    let res = app.get("/nothing/here").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_responses_are_served_without_a_component() {
    let app = TestApp::start(MANIFEST).await;
    let res = app.get("/gone").await;
    assert_eq!(res.status(), 410);
    assert_eq!(res.headers()["x-reason"], "retired");
    assert_eq!(res.text().await.unwrap(), "gone for good");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_reach_the_guest_intact() {
    let app = TestApp::start(MANIFEST).await;
    let body = "x".repeat(300_000);
    let echo = app.post_json("/probe/upload", body.clone()).await;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"].as_str().map(str::len), Some(body.len()));
}
