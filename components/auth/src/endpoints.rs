//! Every route auth serves. The router dispatches on this table, and the end-to-end tests
//! compare it with spin.toml and with `openapi.json` beside it (`tests/e2e/api_docs.rs`), so a
//! route added here without its documentation, or documented without being served, fails.

use route_table::Access::{Internal, Public};
use route_table::Method::{Delete, Get, Patch, Post, Put};
use route_table::Route;

/// What the router calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    SignUp,
    SignIn,
    Refresh,
    SignOut,
    UpdateRole,
    FindAll,
    RenameMe,
    DeleteMe,
    GetUser,
    ClerkWebhook,
    ProvisionClerkUser,
    Anonymous,
    ChargeFee,
    RefundFee,
    Hold,
    ReleaseHold,
    RedriveDeletions,
}

use Endpoint::*;

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Post, "/api/v1/auth/sign-up", Public, SignUp),
    Route::new(Post, "/api/v1/auth/sign-in", Public, SignIn),
    Route::new(Post, "/api/v1/auth/refresh-token", Public, Refresh),
    Route::new(Post, "/api/v1/auth/sign-out", Public, SignOut),
    Route::new(Post, "/api/v1/auth/update-user-role", Public, UpdateRole),
    Route::new(Get, "/api/v1/auth/find-all", Public, FindAll),
    Route::new(Patch, "/api/v1/auth/users/me", Public, RenameMe),
    Route::new(Delete, "/api/v1/auth/users/me", Public, DeleteMe),
    Route::new(Get, "/api/v1/auth/users/{id}", Public, GetUser),
    Route::new(Post, "/api/v1/webhooks/clerk", Public, ClerkWebhook),
    // Reached only by service chaining (`http://auth.spin.internal`).
    Route::new(
        Post,
        "/internal/v1/clerk-users/{clerkId}",
        Internal,
        ProvisionClerkUser,
    ),
    Route::new(Post, "/internal/v1/anonymous", Internal, Anonymous),
    Route::new(Put, "/internal/v1/fees/{key}", Internal, ChargeFee),
    Route::new(Delete, "/internal/v1/fees/{key}", Internal, RefundFee),
    Route::new(Put, "/internal/v1/holds/{key}", Internal, Hold),
    Route::new(Delete, "/internal/v1/holds/{key}", Internal, ReleaseHold),
    Route::new(
        Post,
        "/internal/v1/account-deletions/redrive",
        Internal,
        RedriveDeletions,
    ),
];
