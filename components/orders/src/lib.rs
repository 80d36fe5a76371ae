//! REEN Commerce `orders` component: each buyer's order history and details, each seller's
//! sales, with live product data from the products component (one chained batch request per
//! page), and the `reen:orders/orders` WIT export through which the order saga places orders
//! and moves them forward. Routes are in `api-contract.md` §6; this file only routes.

mod domain;
mod errors;
mod exports;
mod routes;
mod store;

use errors::OrderError;
use http_kit::{Cors, RequestContext, RequestError, segments};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let origins = spin_sdk::variables::get("frontend_base_url").unwrap_or_default();
    let cors = Cors::from_origins(&origins);
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, OrderError> {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match (&method, segments(&path).as_slice()) {
        (Method::Get, ["api", "v1", "orders"]) => routes::list_orders(req, &ctx).await,
        (Method::Get, ["api", "v1", "orders", "sales"]) => routes::list_sales(req, &ctx).await,
        (Method::Get, ["api", "v1", "orders", id]) => routes::get_order(req, &ctx, id).await,
        _ => Err(RequestError::NoRoute {
            method: method.to_string(),
            path: path.clone(),
        }
        .into()),
    }
}
