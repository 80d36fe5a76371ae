//! A seller's writes to one product: create, update, delete, each charged its listing fee
//! first (given back if the write then fails: `fees.rs`).

use super::{admin, anonymous_user_id, committed, open_for_write, owned, product_json};
use crate::domain::{CreateBody, FEE_PERCENT, PatchBody, ProductFields, fee_for_increase};
use crate::errors::ProductError;
use crate::fees::{self, Fee};
use crate::store::{self, DATABASE};
use http_kit::{RequestContext, parse_json};
use spin_sdk::http::{Request, Response};
use timestamp::Timestamp;

/// POST /api/v1/products — ADMIN only; the fee (4% of price × quantity) is charged first and
/// refunded if the insert then fails.
pub async fn create_product(req: Request, ctx: &RequestContext) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let body: CreateBody = parse_json(req.body())?;
        let fields = ProductFields::try_from(body)?;
        let (db, mut names) = open_for_write(&me).await?;
        let id = ids::new_id();
        let key = format!("product-create:{id}");
        let fee = Fee {
            key: &key,
            user_id: &me.user_id,
            amount: fields.value().percent(FEE_PERCENT),
        };
        let product = fees::charged(&db, fee, |db| {
            Ok(store::insert_product(
                db,
                &id,
                &me.user_id,
                &fields,
                Timestamp::now(),
            )?)
        })
        .await?;
        committed(&db);
        product_json(201, &product, &mut names)
    })
    .await
}

/// PATCH /api/v1/products/:id — the owner only; 4% of the increase of price × quantity,
/// computed from the effective new values.
pub async fn update_product(
    req: Request,
    ctx: &RequestContext,
    id: &str,
) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let (db, mut names) = open_for_write(&me).await?;
        let before = owned(&db, id, &me)?;
        let patch: PatchBody = parse_json(req.body())?;
        let fields = ProductFields::patched(&before, patch)?;
        let key = format!("product-update:{id}:{}", fees::attempt());
        let fee = Fee {
            key: &key,
            user_id: &me.user_id,
            amount: fee_for_increase(before.value(), fields.value()),
        };
        let product = fees::charged(&db, fee, |db| {
            store::update_product(db, &before, &fields, Timestamp::now())?
                .ok_or_else(|| ProductError::Conflict(id.to_owned()))
        })
        .await?;
        committed(&db);
        product_json(200, &product, &mut names)
    })
    .await
}

/// DELETE /api/v1/products/:id — the owner only; answers the product as it was. A product
/// that orders reference (`orderCount > 0`) is kept and re-assigned to the ANONYMOUS user.
pub async fn delete_product(
    req: Request,
    ctx: &RequestContext,
    id: &str,
) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |_req| async move {
        let (db, mut names) = open_for_write(&me).await?;
        let product = owned(&db, id, &me)?;
        let anonymous = if product.order_count > 0 {
            Some(anonymous_user_id().await?)
        } else {
            None
        };
        let now = Timestamp::now();
        store::transaction(&db, |db| {
            // Re-read inside the transaction: it may have been ordered since.
            let current = owned(db, id, &me)?;
            match (&anonymous, current.order_count > 0) {
                (Some(owner), true) => store::reassign_product(db, id, owner, now)?,
                (None, true) => return Err(ProductError::Conflict(id.to_owned())),
                (_, false) => store::delete_product(db, id, now)?,
            }
            Ok(())
        })?;
        committed(&db);
        product_json(200, &product, &mut names)
    })
    .await
}
