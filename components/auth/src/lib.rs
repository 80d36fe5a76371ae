//! REEN Commerce `auth` component: accounts (email + password and Clerk), rotating refresh
//! tokens, roles and balances, the Clerk webhook, and the `identity` projection every guard
//! reads. Routes are in `api-contract.md` §2 and §7; this file only routes.

mod clerk_api;
mod config;
mod domain;
mod errors;
mod exports;
mod routes;
mod store;

use errors::AuthError;
use http_kit::{Cors, RequestContext, RequestError, segments};
use routes::{clerk, deletions, fees, holds, session, users};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_origins(&config::frontend_origins());
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, AuthError> {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match (&method, segments(&path).as_slice()) {
        (Method::Post, ["api", "v1", "auth", "sign-up"]) => session::sign_up(req, &ctx).await,
        (Method::Post, ["api", "v1", "auth", "sign-in"]) => session::sign_in(req, &ctx).await,
        (Method::Post, ["api", "v1", "auth", "refresh-token"]) => session::refresh(req, &ctx).await,
        (Method::Post, ["api", "v1", "auth", "sign-out"]) => session::sign_out(req, &ctx).await,
        (Method::Post, ["api", "v1", "auth", "update-user-role"]) => {
            users::update_role(req, &ctx).await
        }
        (Method::Get, ["api", "v1", "auth", "find-all"]) => users::find_all(req, &ctx).await,
        (Method::Patch, ["api", "v1", "auth", "users", "me"]) => users::rename_me(req, &ctx).await,
        (Method::Delete, ["api", "v1", "auth", "users", "me"]) => users::delete_me(req, &ctx).await,
        (Method::Get, ["api", "v1", "auth", "users", id]) => users::get_user(req, &ctx, id).await,
        (Method::Post, ["api", "v1", "webhooks", "clerk"]) => clerk::webhook(req).await,
        // Reached only by service chaining (`http://auth.spin.internal`): no public route
        // leads to a path starting with `/internal`.
        (Method::Post, ["internal", "v1", "clerk-users", clerk_id]) => {
            clerk::provision(clerk_id).await
        }
        (Method::Post, ["internal", "v1", "anonymous"]) => users::anonymous().await,
        (Method::Put, ["internal", "v1", "fees", key]) => fees::charge(req, key).await,
        (Method::Delete, ["internal", "v1", "fees", key]) => fees::refund(key).await,
        (Method::Put, ["internal", "v1", "holds", key]) => holds::hold(req, key).await,
        (Method::Delete, ["internal", "v1", "holds", key]) => holds::release(key).await,
        (Method::Post, ["internal", "v1", "account-deletions", "redrive"]) => {
            deletions::redrive(req).await
        }
        _ => Err(RequestError::NoRoute {
            method: method.to_string(),
            path: path.clone(),
        }
        .into()),
    }
}
