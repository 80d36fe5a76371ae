//! REEN Commerce `cart` component: each signed-in user's cart items, shown with live product
//! data from the products component (one chained batch request per read), and the
//! `reen:cart/cart` WIT export for checkout and the order saga. Routes are in
//! `api-contract.md` §4; this file only routes.

mod catalog;
mod domain;
mod errors;
mod exports;
mod routes;
mod store;

use errors::CartError;
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

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, CartError> {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match (&method, segments(&path).as_slice()) {
        (Method::Get, ["api", "v1", "cart-items"]) => routes::list_items(req, &ctx).await,
        (Method::Post, ["api", "v1", "cart-items"]) => routes::add_item(req, &ctx).await,
        (Method::Delete, ["api", "v1", "cart-items"]) => routes::clear_cart(req, &ctx).await,
        (Method::Get, ["api", "v1", "cart-items", id]) => routes::get_item(req, &ctx, id).await,
        (Method::Patch, ["api", "v1", "cart-items", id]) => {
            routes::update_item(req, &ctx, id).await
        }
        (Method::Delete, ["api", "v1", "cart-items", id]) => {
            routes::delete_item(req, &ctx, id).await
        }
        _ => Err(RequestError::NoRoute {
            method: method.to_string(),
            path: path.clone(),
        }
        .into()),
    }
}
