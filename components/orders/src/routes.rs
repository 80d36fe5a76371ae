//! The handlers, one function per route: parse, store, respond. A buyer sees only their own
//! orders (another user's is answered exactly like a missing one); a seller sees only their own
//! lines of the orders that contain them.

use crate::domain::{Order, UNKNOWN_NAME, order_view, sale_view};
use crate::errors::OrderError;
use crate::store;
use auth_guard::projection;
use auth_guard::{Guard, Principal, Role};
use http_kit::{PageMeta, PageRequest, RequestContext, json, parse_query};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use std::collections::HashMap;

/// `page` and `limit`, the only parameters the lists take.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    page: Option<u32>,
    limit: Option<u32>,
}

fn page_of(req: &Request) -> Result<Option<PageRequest>, OrderError> {
    let query: PageQuery = parse_query(req.query())?;
    Ok(PageRequest::from_query(query.page, query.limit)?)
}

/// The signed-in caller (401 without a valid token).
async fn caller(req: &Request, ctx: &RequestContext) -> Result<Principal, OrderError> {
    let principal = Guard::from_variables().require(req).await?;
    ctx.set_user_id(&principal.user_id);
    Ok(principal)
}

/// The current Product JSON of every product on `orders`' lines, by id, from one batch lookup
/// per 100 products.
async fn products_of(orders: &[Order]) -> Result<HashMap<String, Value>, OrderError> {
    let mut ids: Vec<&str> = orders
        .iter()
        .flat_map(|o| o.lines.iter().map(|(_, l)| l.product_id.as_str()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = catalog_client::products(&ids).await?;
    Ok(found
        .into_iter()
        .filter_map(|p| Some((p.json["id"].as_str()?.to_owned(), p.json)))
        .collect())
}

/// A list answer: the plain array without a page, `{orders, meta}` with one.
fn listed(
    views: Vec<Value>,
    page: Option<PageRequest>,
    total: impl FnOnce() -> Result<i64, OrderError>,
) -> Result<Response, OrderError> {
    Ok(match page {
        None => json(200, &views),
        Some(page) => json(
            200,
            &json!({ "orders": views, "meta": PageMeta::new(total()?, page) }),
        ),
    })
}

/// GET /api/v1/orders — the caller's orders, newest first.
pub async fn list_orders(req: Request, ctx: &RequestContext) -> Result<Response, OrderError> {
    let me = caller(&req, ctx).await?;
    let page = page_of(&req)?;
    let db = store::open()?;
    let orders = store::of_buyer(&db, &me.user_id, page)?;
    let products = products_of(&orders).await?;
    let views = orders
        .iter()
        .map(|o| order_view(o, &|id| products.get(id)))
        .collect();
    listed(views, page, || Ok(store::count_of_buyer(&db, &me.user_id)?))
}

/// GET /api/v1/orders/:id — the caller's order; anyone else's is "not found".
pub async fn get_order(
    req: Request,
    ctx: &RequestContext,
    id: &str,
) -> Result<Response, OrderError> {
    let me = caller(&req, ctx).await?;
    let db = store::open()?;
    let order = owned(&db, &me, id)?;
    let products = products_of(std::slice::from_ref(&order)).await?;
    Ok(json(200, &order_view(&order, &|id| products.get(id))))
}

fn owned(db: &Connection, me: &Principal, id: &str) -> Result<Order, OrderError> {
    store::find(db, id)?
        .filter(|order| order.buyer_id == me.user_id)
        .ok_or_else(|| OrderError::NotFound(id.to_owned()))
}

/// GET /api/v1/orders/sales — ADMIN: the orders containing the caller's products, each with
/// only the caller's lines.
pub async fn list_sales(req: Request, ctx: &RequestContext) -> Result<Response, OrderError> {
    let me = caller(&req, ctx).await?;
    me.require_role(Role::Admin)?;
    let page = page_of(&req)?;
    let db = store::open()?;
    let orders = store::of_seller(&db, &me.user_id, page)?;
    let products = products_of(&orders).await?;
    let names = buyer_names(&orders)?;
    let views = orders
        .iter()
        .map(|o| {
            let name = names.get(&o.buyer_id).map_or(UNKNOWN_NAME, String::as_str);
            sale_view(o, &me.user_id, name, &|id| products.get(id))
        })
        .collect();
    listed(views, page, || {
        Ok(store::count_of_seller(&db, &me.user_id)?)
    })
}

/// The public names of the buyers of `orders`, from the `identity` projection (one read per
/// buyer); a buyer who deleted their account is left out.
fn buyer_names(orders: &[Order]) -> Result<HashMap<String, String>, OrderError> {
    let store = projection::open()?;
    let mut names = HashMap::new();
    for order in orders {
        if names.contains_key(&order.buyer_id) {
            continue;
        }
        if let Some(record) = projection::user(&store, &order.buyer_id)? {
            names.insert(order.buyer_id.clone(), record.name);
        }
    }
    Ok(names)
}
