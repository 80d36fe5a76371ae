//! Every route products serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with `openapi.json` beside it (`tests/e2e/api_docs.rs`), so a
//! route added here without its documentation, or documented without being served, fails.

use route_table::Access::{Internal, Public};
use route_table::Method::{Delete, Get, Patch, Post};
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Create,
    BulkCreate,
    BulkUpdate,
    BulkDelete,
    Get,
    Update,
    Delete,
    Batch,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/v1/products", Public, Endpoint::List),
    Route::new(Post, "/api/v1/products", Public, Endpoint::Create),
    Route::new(Post, "/api/v1/products/bulk", Public, Endpoint::BulkCreate),
    Route::new(Patch, "/api/v1/products/bulk", Public, Endpoint::BulkUpdate),
    Route::new(
        Post,
        "/api/v1/products/bulk-delete",
        Public,
        Endpoint::BulkDelete,
    ),
    Route::new(Get, "/api/v1/products/{id}", Public, Endpoint::Get),
    Route::new(Patch, "/api/v1/products/{id}", Public, Endpoint::Update),
    Route::new(Delete, "/api/v1/products/{id}", Public, Endpoint::Delete),
    // Reached only by service chaining (`http://products.spin.internal`).
    Route::new(
        Post,
        "/internal/v1/products/batch",
        Internal,
        Endpoint::Batch,
    ),
];
