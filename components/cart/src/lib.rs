//! REEN Commerce `cart` component: each signed-in user's cart items, shown with live product
//! data from the products component (one chained batch request per read), and the
//! `reen:cart/cart` WIT export for checkout and the order saga. Routes are in
//! `api-contract.md` §4; this file only routes.

mod catalog;
mod domain;
mod endpoints;
mod errors;
mod exports;
mod routes;
mod store;

use endpoints::{Endpoint, ROUTES};
use errors::CartError;
use http_kit::{Cors, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_variable("frontend_base_url");
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, CartError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(RequestError::NoRoute { method, path }.into());
    };
    match (endpoint, params.as_slice()) {
        (Endpoint::List, []) => routes::list_items(req, &ctx).await,
        (Endpoint::Add, []) => routes::add_item(req, &ctx).await,
        (Endpoint::Clear, []) => routes::clear_cart(req, &ctx).await,
        (Endpoint::Get, [id]) => routes::get_item(req, &ctx, id).await,
        (Endpoint::Update, [id]) => routes::update_item(req, &ctx, id).await,
        (Endpoint::Delete, [id]) => routes::delete_item(req, &ctx, id).await,
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(RequestError::NoRoute { method, path }.into()),
    }
}
