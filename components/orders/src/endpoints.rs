//! Every route orders serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with `openapi.json` beside it (`tests/e2e/api_docs.rs`), so a
//! route added here without its documentation, or documented without being served, fails.

use route_table::Access::Public;
use route_table::Method::Get;
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    List,
    Sales,
    Get,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/v1/orders", Public, Endpoint::List),
    Route::new(Get, "/api/v1/orders/sales", Public, Endpoint::Sales),
    Route::new(Get, "/api/v1/orders/{id}", Public, Endpoint::Get),
];
