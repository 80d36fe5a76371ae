//! REEN Commerce `auth` component: accounts (email + password and Clerk), rotating refresh
//! tokens, roles and balances, the Clerk webhook, and the `identity` projection every guard
//! reads. Routes are in `api-contract.md` §2 and §7; this file only routes.

mod clerk_api;
mod config;
mod domain;
mod endpoints;
mod errors;
mod exports;
mod routes;
mod store;

use endpoints::{Endpoint::*, ROUTES};
use errors::AuthError;
use http_kit::{Cors, RequestContext, RequestError};
use routes::{clerk, deletions, fees, holds, session, users};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_variable("frontend_base_url");
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, AuthError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(RequestError::NoRoute { method, path }.into());
    };
    match (endpoint, params.as_slice()) {
        (SignUp, []) => session::sign_up(req, &ctx).await,
        (SignIn, []) => session::sign_in(req, &ctx).await,
        (Refresh, []) => session::refresh(req, &ctx).await,
        (SignOut, []) => session::sign_out(req, &ctx).await,
        (UpdateRole, []) => users::update_role(req, &ctx).await,
        (FindAll, []) => users::find_all(req, &ctx).await,
        (RenameMe, []) => users::rename_me(req, &ctx).await,
        (DeleteMe, []) => users::delete_me(req, &ctx).await,
        (GetUser, [id]) => users::get_user(req, &ctx, id).await,
        (ClerkWebhook, []) => clerk::webhook(req).await,
        // Reached only by service chaining (`http://auth.spin.internal`): no public route
        // leads to a path starting with `/internal`.
        (ProvisionClerkUser, [clerk_id]) => clerk::provision(clerk_id).await,
        (Anonymous, []) => users::anonymous().await,
        (ChargeFee, [key]) => fees::charge(req, key).await,
        (RefundFee, [key]) => fees::refund(key).await,
        (Hold, [key]) => holds::hold(req, key).await,
        (ReleaseHold, [key]) => holds::release(key).await,
        (RedriveDeletions, []) => deletions::redrive(req).await,
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(RequestError::NoRoute { method, path }.into()),
    }
}
