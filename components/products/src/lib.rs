//! REEN Commerce `products` component: the catalog (list with filters, sorting and pages; get;
//! create, update and delete by the owning ADMIN) and the 4% listing fee charged through auth.
//! Routes are in `api-contract.md` §3; this file only routes.

mod cache;
mod domain;
mod errors;
mod exports;
mod fees;
mod routes;
mod store;

use errors::ProductError;
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

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, ProductError> {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match (&method, segments(&path).as_slice()) {
        (Method::Get, ["api", "v1", "products"]) => routes::list_products(req).await,
        (Method::Post, ["api", "v1", "products"]) => routes::create_product(req, &ctx).await,
        (Method::Post, ["api", "v1", "products", "bulk"]) => routes::bulk_create(req, &ctx).await,
        (Method::Patch, ["api", "v1", "products", "bulk"]) => routes::bulk_update(req, &ctx).await,
        (Method::Post, ["api", "v1", "products", "bulk-delete"]) => {
            routes::bulk_delete(req, &ctx).await
        }
        (Method::Get, ["api", "v1", "products", id]) => routes::get_product(req, id).await,
        (Method::Patch, ["api", "v1", "products", id]) => {
            routes::update_product(req, &ctx, id).await
        }
        (Method::Delete, ["api", "v1", "products", id]) => {
            routes::delete_product(req, &ctx, id).await
        }
        (Method::Post, ["internal", "v1", "products", "batch"]) => routes::batch(req).await,
        _ => Err(RequestError::NoRoute {
            method: method.to_string(),
            path: path.clone(),
        }
        .into()),
    }
}
