//! Every route checkout serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with `openapi.json` beside it (`tests/e2e/api_docs.rs`), so a
//! route added here without its documentation, or documented without being served, fails.

use route_table::Access::{Operator, Public};
use route_table::Method::{Get, Post};
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Create,
    GetSession,
    Redrive,
    StripeWebhook,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Post, "/api/v1/checkout", Public, Endpoint::Create),
    Route::new(
        Get,
        "/api/v1/checkout/sessions/{id}",
        Public,
        Endpoint::GetSession,
    ),
    // Operators only (the re-drive CronJob), behind `redrive_secret`: left out of the public
    // OpenAPI document on purpose (docs/api-docs.md).
    Route::new(
        Post,
        "/api/v1/checkout/redrive",
        Operator,
        Endpoint::Redrive,
    ),
    Route::new(
        Post,
        "/api/v1/webhooks/stripe",
        Public,
        Endpoint::StripeWebhook,
    ),
];
