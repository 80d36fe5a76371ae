//! Reads anyone may make, served from the cache when it holds them, and the private batch
//! lookup behind the cart.

use super::sellers::SellerNames;
use super::{find, reject_invalid_bearer};
use crate::cache::{self, Cache};
use crate::domain::{IdsBody, ListFilter, ListQuery, PageMeta, check_bulk};
use crate::errors::{ProductError, StoreError};
use crate::store::{self, Stock};
use http_kit::{json, parse_json, parse_query};
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// Answers the read `what` from the cache, or else builds its body with `build` (given the
/// database, the seller names, and the stock the read must show) and caches it. The entry is
/// good until the next hold expires, and only while its sellers keep their names.
fn cached_read(
    req: &Request,
    what: &str,
    build: impl FnOnce(&Connection, &mut SellerNames, Stock) -> Result<Value, ProductError>,
) -> Result<Response, ProductError> {
    let cache = Cache::open();
    let mut names = SellerNames::open()?;
    let now = Timestamp::now();
    if let Some(hit) = cache.get(what, now.millis())
        && names.unchanged(&hit)?
    {
        return Ok(cache::read_response(req, hit.body));
    }
    // The entry records only the names this body shows, under a stamp read before them.
    names.restart()?;
    let db = store::open()?;
    // Read before the products: a hold made in between makes the entry expire earlier, never
    // later.
    let valid_until = store::next_expiry(&db, now)?;
    let stock = match valid_until {
        Some(_) => Stock::LessHolds { now },
        None => Stock::OnHand,
    };
    let body = build(&db, &mut names, stock)?;
    let body = serde_json::to_vec(&body).map_err(|e| StoreError(e.to_string()))?;
    cache.put(
        what,
        &body,
        &names.names,
        names.stamp.as_deref(),
        valid_until,
    );
    Ok(cache::read_response(req, body))
}

/// GET /api/v1/products — a plain array without `page`/`limit`, `{products, meta}` with either.
/// Served from the cache when it holds this exact query for the current generation.
pub async fn list_products(req: Request) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    let query: ListQuery = parse_query(req.query())?;
    let filter = ListFilter::try_from(query)?;
    // The validated filter's debug form is canonical: equal queries share one entry.
    cached_read(&req, &format!("list:{filter:?}"), |db, names, stock| {
        let views = names.views(&store::list_products(db, &filter, stock)?)?;
        Ok(match filter.page {
            None => json!(views),
            Some(page) => {
                let meta = PageMeta::new(store::count_products(db, &filter, stock)?, page);
                json!({ "products": views, "meta": meta })
            }
        })
    })
}

/// GET /api/v1/products/:id — cached like the list.
pub async fn get_product(req: Request, id: &str) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    cached_read(&req, &format!("item:{id}"), |db, names, _stock| {
        names.view(&find(db, id)?)
    })
}

/// POST /internal/v1/products/batch (service chaining only: no public route leads here) —
/// `{ids}` (1–100) → `{products}`: the products as `GET /products/:id` shows them, in the order
/// asked, unknown ids left out. One query, so a cart read costs one call however many lines.
pub async fn batch(req: Request) -> Result<Response, ProductError> {
    let body: IdsBody = parse_json(req.body())?;
    check_bulk("ids", body.ids.len(), body.ids.iter().map(String::as_str))?;
    let db = store::open()?;
    let products = store::find_products(&db, &body.ids)?;
    let views = SellerNames::open()?.views(&products)?;
    Ok(json(200, &json!({ "products": views })))
}
