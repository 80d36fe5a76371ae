//! The handlers, one function per route: parse, domain, store, respond. Every route is the
//! signed-in caller's own cart: another user's line is answered exactly like a missing one.

use crate::catalog;
use crate::domain::{
    AddBody, CartItem, CartItemView, CatalogProduct, MAX_ITEMS, PatchBody, Seller,
};
use crate::errors::CartError;
use crate::store::{self, DATABASE};
use auth_guard::{Guard, Principal};
use http_kit::{RequestContext, json, parse_json};
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The signed-in caller (401 without a valid token).
async fn caller(req: &Request, ctx: &RequestContext) -> Result<Principal, CartError> {
    let principal = Guard::from_variables().require(req).await?;
    ctx.set_user_id(&principal.user_id);
    Ok(principal)
}

/// A line that is really in the cart, with its product as the catalog shows it now.
struct Line {
    item: CartItem,
    product: CatalogProduct,
    seller: Seller,
}

impl Line {
    fn view(&self) -> CartItemView<'_> {
        self.item.view(&self.product)
    }
}

/// The lines of `items` whose product is still for sale, in the same order, from one catalog
/// request. Lines whose product is gone (deleted, or anonymized because orders reference it)
/// are deleted here and left out: the cart never shows an item without its product.
async fn live(
    db: &Connection,
    user_id: &str,
    items: Vec<CartItem>,
) -> Result<Vec<Line>, CartError> {
    let ids: Vec<&str> = items.iter().map(|i| i.product_id.as_str()).collect();
    let mut products = catalog::products(&ids).await?;
    let mut lines = Vec::with_capacity(items.len());
    let mut gone = Vec::new();
    for item in &items {
        let Some(product) = products.remove(&item.product_id) else {
            gone.push(item);
            continue;
        };
        match product.seller(user_id) {
            Seller::Anonymous => gone.push(item),
            seller => lines.push(Line {
                item: item.clone(),
                product,
                seller,
            }),
        }
    }
    if !gone.is_empty() {
        store::delete_lines(db, &gone)?;
    }
    Ok(lines)
}

/// The caller's line `id`: 404 when missing or another user's.
fn find(db: &Connection, user_id: &str, id: &str) -> Result<CartItem, CartError> {
    store::find_item(db, user_id, id)?.ok_or_else(|| CartError::ItemNotFound(id.to_owned()))
}

/// `item` with its product: 404 (and the line deleted) when the product is gone.
async fn live_line(db: &Connection, user_id: &str, item: CartItem) -> Result<Line, CartError> {
    let id = item.id.clone();
    live(db, user_id, vec![item])
        .await?
        .pop()
        .ok_or(CartError::ItemNotFound(id))
}

/// POST /api/v1/cart-items `{productId, quantity}` — 201 the new CartItem.
pub async fn add_item(req: Request, ctx: &RequestContext) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let user_id = me.user_id.as_str();
    idempotency::run_once(DATABASE, req, user_id, |req| async move {
        let body: AddBody = parse_json(req.body())?;
        let product_id = body.product_id.as_str();
        let product = catalog::product(product_id)
            .await?
            .ok_or_else(|| CartError::ProductNotFound(product_id.to_owned()))?;
        let seller = product.seller(user_id);
        product.check_purchase(seller, body.quantity)?;
        let db = store::open()?;
        let item = store::transaction(&db, |db| {
            let item = store::insert_item(
                db,
                user_id,
                &body.product_id,
                body.quantity,
                Timestamp::now(),
            )?
            .ok_or(CartError::AlreadyExists)?;
            // Counted after the insert, in its transaction: concurrent adds cannot overshoot.
            if store::count_items(db, user_id)? > MAX_ITEMS {
                return Err(CartError::CartFull);
            }
            Ok(item)
        })?;
        Ok(json(201, &item.view(&product)))
    })
    .await
}

/// GET /api/v1/cart-items — the caller's lines, oldest first, each with its current product.
pub async fn list_items(req: Request, ctx: &RequestContext) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let db = store::open()?;
    let items = store::items_of(&db, &me.user_id)?;
    let lines = live(&db, &me.user_id, items).await?;
    let views: Vec<_> = lines.iter().map(Line::view).collect();
    Ok(json(200, &views))
}

/// GET /api/v1/cart-items/:id
pub async fn get_item(req: Request, ctx: &RequestContext, id: &str) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let db = store::open()?;
    let line = live_line(&db, &me.user_id, find(&db, &me.user_id, id)?).await?;
    Ok(json(200, &line.view()))
}

/// PATCH /api/v1/cart-items/:id `{quantity, productId?}` — a new quantity, checked against
/// the available stock; `productId`, when sent, must be the item's own.
pub async fn update_item(
    req: Request,
    ctx: &RequestContext,
    id: &str,
) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let user_id = me.user_id.as_str();
    idempotency::run_once(DATABASE, req, user_id, |req| async move {
        let body: PatchBody = parse_json(req.body())?;
        let db = store::open()?;
        let item = find(&db, user_id, id)?;
        let quantity = body.quantity_for(&item)?;
        let line = live_line(&db, user_id, item).await?;
        line.product.check_purchase(line.seller, quantity)?;
        let item = store::set_quantity(&db, &line.item, quantity, Timestamp::now())?
            .ok_or_else(|| CartError::ItemNotFound(id.to_owned()))?;
        Ok(json(200, &item.view(&line.product)))
    })
    .await
}

/// DELETE /api/v1/cart-items/:id — 200 the CartItem as it was.
pub async fn delete_item(
    req: Request,
    ctx: &RequestContext,
    id: &str,
) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let user_id = me.user_id.as_str();
    idempotency::run_once(DATABASE, req, user_id, |_req| async move {
        let db = store::open()?;
        let line = live_line(&db, user_id, find(&db, user_id, id)?).await?;
        if !store::delete_item(&db, user_id, id)? {
            // Deleted by a concurrent request since it was read.
            return Err(CartError::ItemNotFound(id.to_owned()));
        }
        Ok(json(200, &line.view()))
    })
    .await
}

/// DELETE /api/v1/cart-items — empties the caller's cart: 200 `{deleted: n}`.
pub async fn clear_cart(req: Request, ctx: &RequestContext) -> Result<Response, CartError> {
    let me = caller(&req, ctx).await?;
    let user_id = me.user_id.as_str();
    idempotency::run_once(DATABASE, req, user_id, |_req| async move {
        let db = store::open()?;
        let deleted = store::clear(&db, user_id)?;
        Ok(json(200, &json!({ "deleted": deleted })))
    })
    .await
}
