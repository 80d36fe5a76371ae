use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_route_reports_ok_and_the_app_version() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/health").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "status": "ok", "version": "0.1.0" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spins_own_health_endpoint_answers() {
    let app = spawn_app().await;
    assert_eq!(app.get("/.well-known/spin/health").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spins_info_endpoint_names_the_app() {
    let app = spawn_app().await;
    let info: serde_json::Value = app
        .get("/.well-known/spin/info")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info, json!({ "name": "reen-commerce", "version": "0.1.0" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_route_is_an_empty_404() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), "");
}
