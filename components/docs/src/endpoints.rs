//! Every route docs serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with the OpenAPI document (`tests/e2e/api_docs.rs`).

use route_table::Access::{Asset, Public};
use route_table::Method::Get;
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    SwaggerUi,
    OpenApiDocument,
    SwaggerAsset,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/v1/health", Public, Endpoint::Health),
    Route::new(
        Get,
        "/api-gateway/documentation",
        Public,
        Endpoint::SwaggerUi,
    ),
    Route::new(
        Get,
        "/api-gateway/documentation-json",
        Public,
        Endpoint::OpenApiDocument,
    ),
    // Swagger UI's scripts, styles and licence texts (`swagger.rs`).
    Route::new(
        Get,
        "/api-gateway/documentation/{file}",
        Asset,
        Endpoint::SwaggerAsset,
    ),
];
