//! REEN Commerce `docs` component: the health route, the OpenAPI 3.1 document of the public
//! API (assembled at build time by `build.rs` from each component's fragment), and Swagger UI
//! over it, its assets embedded in this component (no CDN).

mod endpoints;
mod swagger;

use endpoints::{Endpoint, ROUTES};
use http_kit::{Cors, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

/// The application version reported by the health endpoint (the crate version, set at build time).
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The whole OpenAPI document, as `build.rs` assembled it.
const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

#[http_component]
async fn handle(req: Request) -> Response {
    // The pages call only their own origin: no other origin is granted CORS.
    http_kit::serve(req, &Cors::default(), route).await
}

async fn route(req: Request, _ctx: Rc<RequestContext>) -> Result<Response, RequestError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let no_route = || RequestError::NoRoute {
        method: method.clone(),
        path: path.clone(),
    };
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(no_route());
    };
    match (endpoint, params.as_slice()) {
        (Endpoint::Health, []) => Ok(health()),
        (Endpoint::OpenApiDocument, []) => Ok(document()),
        (Endpoint::SwaggerUi, []) => Ok(swagger::index()),
        (Endpoint::SwaggerAsset, [file]) => swagger::asset(file).ok_or_else(no_route),
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(no_route()),
    }
}

/// `GET /api/v1/health`: the app is up and this component can answer.
fn health() -> Response {
    let body = serde_json::json!({ "status": "ok", "version": VERSION });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

/// `GET /api-gateway/documentation-json`: revalidated on every use, since a deploy changes it
/// under the same URL.
fn document() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .body(OPENAPI_JSON)
        .build()
}
