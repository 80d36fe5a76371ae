//! Reads anyone may make, the storefront's list pages served from the cache when it holds
//! them, and the private batch lookup behind the cart.

use super::sellers::SellerNames;
use super::{find, reject_invalid_bearer};
use crate::cache::{self, Cache, CachedList};
use crate::domain::{IdsBody, ListFilter, ListQuery, PageMeta, check_bulk};
use crate::errors::{ProductError, StoreError};
use crate::store::{self, Stock};
use http_kit::{json, parse_json, parse_query};
use serde_json::{Value, json};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// GET /api/v1/products — a plain array without `page`/`limit`, `{products, meta}` with either.
/// The storefront's lists ([`CachedList`]) come from the cache when it holds them for the
/// current generation; any other query is answered from the database and stores nothing.
pub async fn list_products(req: Request) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    let query: ListQuery = parse_query(req.query())?;
    let filter = ListFilter::try_from(query)?;
    let db = store::open()?;
    let body = match CachedList::of(&filter) {
        Some(list) => cached_list(&db, list, &filter)?,
        None => list_body(&db, &mut SellerNames::new(), &filter, Timestamp::now())?.0,
    };
    Ok(cache::read_response(&req, body))
}

/// The body of `list`, from the cache or else built and stored there. The entry is good for
/// this generation until the next hold expires, and only while its sellers keep their names.
fn cached_list(
    db: &Connection,
    list: CachedList,
    filter: &ListFilter,
) -> Result<Vec<u8>, ProductError> {
    // The generation first: the body stored under it must show data read after it.
    let cache = Cache::open(db, list);
    let mut names = SellerNames::stamped()?;
    let now = Timestamp::now();
    if let Some(hit) = cache.get(now.millis())
        && names.unchanged(&hit)?
    {
        return Ok(hit.body);
    }
    // The entry records only the names this body shows, under a stamp read before them.
    names.restart()?;
    let (body, valid_until) = list_body(db, &mut names, filter, now)?;
    cache.put(&body, &names.names, names.stamp.as_deref(), valid_until);
    Ok(body)
}

/// The list `filter` asks for as of `now`, and when it stops being true by itself (the next
/// hold expiring), if ever.
fn list_body(
    db: &Connection,
    names: &mut SellerNames,
    filter: &ListFilter,
    now: Timestamp,
) -> Result<(Vec<u8>, Option<i64>), ProductError> {
    // Read before the products: a hold made in between makes the body expire earlier, never
    // later.
    let valid_until = store::next_expiry(db, now)?;
    let stock = match valid_until {
        Some(_) => Stock::LessHolds { now },
        None => Stock::OnHand,
    };
    let views = names.views(&store::list_products(db, filter, stock)?)?;
    let body = match filter.page {
        None => json!(views),
        Some(page) => {
            let meta = PageMeta::new(store::count_products(db, filter, stock)?, page);
            json!({ "products": views, "meta": meta })
        }
    };
    Ok((to_bytes(&body)?, valid_until))
}

/// GET /api/v1/products/:id — from the database, not cached (`cache.rs`).
pub async fn get_product(req: Request, id: &str) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    let db = store::open()?;
    let view = SellerNames::new().view(&find(&db, id)?)?;
    Ok(cache::read_response(&req, to_bytes(&view)?))
}

fn to_bytes(body: &Value) -> Result<Vec<u8>, ProductError> {
    Ok(serde_json::to_vec(body).map_err(|e| StoreError(e.to_string()))?)
}

/// POST /internal/v1/products/batch (service chaining only: no public route leads here) —
/// `{ids}` (1–100) → `{products, retired}`: the products as `GET /products/:id` shows them, in
/// the order asked, unknown ids left out, and the ids of those among them the ANONYMOUS user
/// owns (kept only for the orders that reference them, no longer for sale). One query and one
/// identity read per seller, so a cart read costs one call however many lines, and the cart
/// needs no identity read of its own for the sellers.
pub async fn batch(req: Request) -> Result<Response, ProductError> {
    let body: IdsBody = parse_json(req.body())?;
    check_bulk("ids", body.ids.len(), body.ids.iter().map(String::as_str))?;
    let db = store::open()?;
    let products = store::find_products(&db, &body.ids)?;
    let mut names = SellerNames::new();
    let views = names.views(&products)?;
    let retired: Vec<&str> = products
        .iter()
        .filter(|p| names.retired(p))
        .map(|p| p.id.as_str())
        .collect();
    Ok(json(200, &json!({ "products": views, "retired": retired })))
}
