//! REEN Commerce `checkout` component, an orchestrator: `POST /checkout` prices the buyer's
//! cart from the catalog, holds its stock (`reen:catalog/catalog`) and total (auth's hold
//! endpoint) and creates a Stripe Checkout Session; Stripe's signed webhook marks checkouts
//! paid and records the saga start in the outbox, published on the events channel; the
//! re-drive republishes what did not move (account deletions pending at auth included). Routes are in `api-contract.md` §5; this file only
//! routes.

mod config;
mod deletions;
mod domain;
mod errors;
mod holds;
mod pricing;
mod routes;
mod store;
mod stripe_api;

use errors::CheckoutError;
use http_kit::{Cors, RequestContext, RequestError, segments};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_origins(&config::frontend_origins());
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, CheckoutError> {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match (&method, segments(&path).as_slice()) {
        (Method::Post, ["api", "v1", "checkout"]) => routes::create_checkout(req, &ctx).await,
        (Method::Get, ["api", "v1", "checkout", "sessions", id]) => {
            routes::get_session(req, &ctx, id).await
        }
        (Method::Post, ["api", "v1", "checkout", "redrive"]) => routes::redrive(req).await,
        (Method::Post, ["api", "v1", "webhooks", "stripe"]) => routes::stripe_webhook(req).await,
        _ => Err(RequestError::NoRoute {
            method: method.to_string(),
            path: path.clone(),
        }
        .into()),
    }
}
