//! REEN Commerce `products` component: the catalog (list with filters, sorting and pages; get;
//! create, update and delete by the owning ADMIN) and the 4% listing fee charged through auth.
//! Routes are in `api-contract.md` §3; this file only routes.

mod cache;
mod domain;
mod endpoints;
mod errors;
mod exports;
mod fees;
mod routes;
mod store;

use endpoints::{Endpoint, ROUTES};
use errors::ProductError;
use http_kit::{Cors, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::rc::Rc;

#[http_component]
async fn handle(req: Request) -> Response {
    let cors = Cors::from_variable("frontend_base_url");
    http_kit::serve(req, &cors, route).await
}

async fn route(req: Request, ctx: Rc<RequestContext>) -> Result<Response, ProductError> {
    let path = req.path().to_owned();
    let method = req.method().to_string();
    let Some((endpoint, params)) = route_table::find(ROUTES, &method, &path) else {
        return Err(RequestError::NoRoute { method, path }.into());
    };
    match (endpoint, params.as_slice()) {
        (Endpoint::List, []) => routes::list_products(req).await,
        (Endpoint::Create, []) => routes::create_product(req, &ctx).await,
        (Endpoint::BulkCreate, []) => routes::bulk_create(req, &ctx).await,
        (Endpoint::BulkUpdate, []) => routes::bulk_update(req, &ctx).await,
        (Endpoint::BulkDelete, []) => routes::bulk_delete(req, &ctx).await,
        (Endpoint::Get, [id]) => routes::get_product(req, id).await,
        (Endpoint::Update, [id]) => routes::update_product(req, &ctx, id).await,
        (Endpoint::Delete, [id]) => routes::delete_product(req, &ctx, id).await,
        (Endpoint::Batch, []) => routes::batch(req).await,
        // A table entry whose parameters this match does not take: a bug, answered as no route.
        _ => Err(RequestError::NoRoute { method, path }.into()),
    }
}
