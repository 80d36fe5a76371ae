//! REEN Commerce `docs` component: operator-facing endpoints (health now; OpenAPI and Swagger UI later).

use spin_sdk::http::{IntoResponse, Params, Request, Response, Router};
use spin_sdk::http_component;

/// The application version reported by the health endpoint (the crate version, set at build time).
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/api/v1/health", health);
    router.handle(req)
}

/// `GET /api/v1/health`: the app is up and this component can answer.
fn health(_req: Request, _params: Params) -> impl IntoResponse {
    let body = serde_json::json!({ "status": "ok", "version": VERSION });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}
