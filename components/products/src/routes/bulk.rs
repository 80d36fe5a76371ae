//! The bulk routes: 1–100 items, all or nothing in one transaction, one fee for the batch.

use super::{admin, anonymous_user_id, committed, open_for_write, owned, views_json};
use crate::domain::{
    BulkCreateBody, BulkUpdateBody, FEE_PERCENT, IdsBody, ProductFields, check_bulk,
    fee_for_increase, in_item,
};
use crate::errors::ProductError;
use crate::fees::{self, Fee};
use crate::store::{self, DATABASE};
use http_kit::{RequestContext, json, parse_json};
use serde_json::json;
use spin_sdk::http::{Request, Response};
use timestamp::Timestamp;

/// POST /api/v1/products/bulk — 1–100 products, all or nothing, one fee for the sum.
pub async fn bulk_create(req: Request, ctx: &RequestContext) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let body: BulkCreateBody = parse_json(req.body())?;
        check_bulk("products", body.products.len(), std::iter::empty())?;
        let items = body
            .products
            .into_iter()
            .enumerate()
            .map(|(i, item)| ProductFields::try_from(item).map_err(|e| in_item("products", i, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let total = items.iter().fold(money::Money::ZERO, |sum, f| {
            money::Money::from_cents(sum.cents() + f.value().cents())
        });
        let ids: Vec<String> = items.iter().map(|_| ids::new_id()).collect();
        let key = format!("product-bulk-create:{}", ids[0]);
        let (db, mut names) = open_for_write(&me).await?;
        let now = Timestamp::now();
        let fee = Fee {
            key: &key,
            user_id: &me.user_id,
            amount: total.percent(FEE_PERCENT),
        };
        let products = fees::charged(&db, fee, |db| {
            ids.iter()
                .zip(&items)
                .map(|(id, fields)| Ok(store::insert_product(db, id, &me.user_id, fields, now)?))
                .collect::<Result<Vec<_>, ProductError>>()
        })
        .await?;
        committed(&db);
        views_json(201, &products, &mut names)
    })
    .await
}

/// PATCH /api/v1/products/bulk — 1–100 changes to the caller's products, all or nothing; the
/// fee is the sum of what each single PATCH would cost, charged once.
pub async fn bulk_update(req: Request, ctx: &RequestContext) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let body: BulkUpdateBody = parse_json(req.body())?;
        check_bulk(
            "updates",
            body.updates.len(),
            body.updates.iter().map(|u| u.id.as_str()),
        )?;
        let (db, mut names) = open_for_write(&me).await?;
        let mut changes = Vec::new();
        let mut fee = money::Money::ZERO;
        for (i, item) in body.updates.into_iter().enumerate() {
            let before = owned(&db, &item.id, &me)?;
            let fields = ProductFields::patched(&before, item.patch())
                .map_err(|e| in_item("updates", i, e))?;
            let item_fee = fee_for_increase(before.value(), fields.value());
            fee = money::Money::from_cents(fee.cents() + item_fee.cents());
            changes.push((before, fields));
        }
        let key = format!("product-bulk-update:{}", fees::attempt());
        let now = Timestamp::now();
        let fee = Fee {
            key: &key,
            user_id: &me.user_id,
            amount: fee,
        };
        let products = fees::charged(&db, fee, |db| {
            changes
                .iter()
                .map(|(before, fields)| {
                    store::update_product(db, before, fields, now)?
                        .ok_or_else(|| ProductError::Conflict(before.id.clone()))
                })
                .collect::<Result<Vec<_>, ProductError>>()
        })
        .await?;
        committed(&db);
        views_json(200, &products, &mut names)
    })
    .await
}

/// POST /api/v1/products/bulk-delete — 1–100 of the caller's products, all or nothing;
/// ordered ones are re-assigned to the ANONYMOUS user.
pub async fn bulk_delete(req: Request, ctx: &RequestContext) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let body: IdsBody = parse_json(req.body())?;
        check_bulk("ids", body.ids.len(), body.ids.iter().map(String::as_str))?;
        let (db, _) = open_for_write(&me).await?;
        let products = body
            .ids
            .iter()
            .map(|id| owned(&db, id, &me))
            .collect::<Result<Vec<_>, _>>()?;
        let anonymous = if products.iter().any(|p| p.order_count > 0) {
            Some(anonymous_user_id().await?)
        } else {
            None
        };
        let now = Timestamp::now();
        let (deleted, anonymized) = store::transaction(&db, |db| {
            let mut deleted = Vec::new();
            let mut anonymized = Vec::new();
            for product in &products {
                // Re-read inside the transaction: it may have changed hands or been ordered.
                let current = owned(db, &product.id, &me)?;
                match (&anonymous, current.order_count > 0) {
                    (Some(owner), true) => {
                        store::reassign_product(db, &current.id, owner, now)?;
                        anonymized.push(current.id);
                    }
                    (None, true) => return Err(ProductError::Conflict(current.id)),
                    (_, false) => {
                        store::delete_product(db, &current.id, now)?;
                        deleted.push(current.id);
                    }
                }
            }
            Ok::<_, ProductError>((deleted, anonymized))
        })?;
        committed(&db);
        Ok(json(
            200,
            &json!({ "deleted": deleted, "anonymized": anonymized }),
        ))
    })
    .await
}
