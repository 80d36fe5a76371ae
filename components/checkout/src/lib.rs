//! REEN Commerce `checkout` component, an orchestrator: `POST /checkout` prices the buyer's
//! cart from the catalog, holds its stock (`reen:catalog/catalog`) and total (auth's hold
//! endpoint) and creates a Stripe Checkout Session; Stripe's signed webhook marks checkouts
//! paid and records the saga start in the outbox, published on the events channel; the
//! re-drive republishes what did not move (account deletions pending at auth included). Routes are in `api-contract.md` §5; this file only
//! routes.

mod config;
mod deletions;
mod domain;
mod endpoints;
mod errors;
mod holds;
mod pricing;
mod routes;
mod store;
mod stripe_api;

use endpoints::{Endpoint, ROUTES};
use errors::CheckoutError;
use http_kit::{Cors, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_variable("frontend_base_url");
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, CheckoutError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(RequestError::NoRoute { method, path }.into());
    };
    match (endpoint, params.as_slice()) {
        (Endpoint::Create, []) => routes::create_checkout(req, &ctx).await,
        (Endpoint::GetSession, [id]) => routes::get_session(req, &ctx, id).await,
        (Endpoint::Redrive, []) => routes::redrive(req).await,
        (Endpoint::StripeWebhook, []) => routes::stripe_webhook(req).await,
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(RequestError::NoRoute { method, path }.into()),
    }
}
