//! REEN Commerce `orders` component: each buyer's order history and details, each seller's
//! sales, with live product data from the products component (one chained batch request per
//! page), and the `reen:orders/orders` WIT export through which the order saga places orders
//! and moves them forward. Routes are in `api-contract.md` §6; this file only routes.

mod domain;
mod endpoints;
mod errors;
mod exports;
mod routes;
mod store;

use endpoints::{Endpoint, ROUTES};
use errors::OrderError;
use http_kit::{Cors, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_variable("frontend_base_url");
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, OrderError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(RequestError::NoRoute { method, path }.into());
    };
    match (endpoint, params.as_slice()) {
        (Endpoint::List, []) => routes::list_orders(req, &ctx).await,
        (Endpoint::Sales, []) => routes::list_sales(req, &ctx).await,
        (Endpoint::Get, [id]) => routes::get_order(req, &ctx, id).await,
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(RequestError::NoRoute { method, path }.into()),
    }
}
