//! Every route cart serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with `openapi.json` beside it (`tests/e2e/api_docs.rs`), so a
//! route added here without its documentation, or documented without being served, fails.

use route_table::Access::Public;
use route_table::Method::{Delete, Get, Patch, Post};
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Add,
    Clear,
    Get,
    Update,
    Delete,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/v1/cart-items", Public, Endpoint::List),
    Route::new(Post, "/api/v1/cart-items", Public, Endpoint::Add),
    Route::new(Delete, "/api/v1/cart-items", Public, Endpoint::Clear),
    Route::new(Get, "/api/v1/cart-items/{id}", Public, Endpoint::Get),
    Route::new(Patch, "/api/v1/cart-items/{id}", Public, Endpoint::Update),
    Route::new(Delete, "/api/v1/cart-items/{id}", Public, Endpoint::Delete),
];
