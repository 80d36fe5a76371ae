//! The handlers, one function per route: parse, domain, store, respond.

use crate::cache::{self, Cache};
use crate::domain::{
    BulkCreateBody, BulkUpdateBody, CreateBody, FEE_PERCENT, IdsBody, ListFilter, ListQuery,
    PageMeta, PatchBody, Product, ProductFields, check_bulk, fee_for_increase, in_item,
};
use crate::errors::{ProductError, StoreError};
use crate::fees;
use crate::store::{self, DATABASE, Stock};
use auth_guard::projection;
use auth_guard::{Guard, Principal, Role};
use http_kit::{RequestContext, json, parse_json, parse_query};
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use timestamp::Timestamp;

/// Name shown for a seller the identity projection does not know (yet).
const UNKNOWN_SELLER: &str = "Unknown";

/// The signed-in caller, who must be an ADMIN.
async fn admin(req: &Request, ctx: &RequestContext) -> Result<Principal, ProductError> {
    let principal = Guard::from_variables()?.require(req).await?;
    ctx.set_user_id(&principal.user_id);
    principal.require_role(Role::Admin)?;
    Ok(principal)
}

/// On public routes a present `Authorization` header must still be valid (401 otherwise).
async fn reject_invalid_bearer(req: &Request) -> Result<(), ProductError> {
    Guard::from_variables()?.optional(req).await?;
    Ok(())
}

/// Sellers' display names from the `identity` projection, each looked up once per request,
/// and the projection's names stamp, read first (see `cache.rs`).
struct SellerNames {
    store: spin_sdk::key_value::Store,
    stamp: Option<String>,
    names: cache::Sellers,
}

impl SellerNames {
    fn open() -> Result<Self, ProductError> {
        let store = projection::open()?;
        Ok(Self {
            stamp: projection::names_stamp(&store)?,
            store,
            names: cache::Sellers::new(),
        })
    }

    fn name(&mut self, user_id: &str) -> Result<String, ProductError> {
        if let Some(name) = self.names.get(user_id) {
            return Ok(name.clone());
        }
        let name = projection::user(&self.store, user_id)?
            .map(|r| r.name)
            .unwrap_or_else(|| UNKNOWN_SELLER.to_owned());
        self.names.insert(user_id.to_owned(), name.clone());
        Ok(name)
    }

    /// Whether every seller still has the name a cached body shows: no name changed since
    /// its stamp, or else each of its sellers' names is the same.
    fn unchanged(&mut self, hit: &cache::Hit) -> Result<bool, ProductError> {
        if hit.names_stamp.is_some() && hit.names_stamp == self.stamp {
            return Ok(true);
        }
        for (id, name) in &hit.sellers {
            if self.name(id)? != *name {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn view(&mut self, product: &Product) -> Result<serde_json::Value, ProductError> {
        let name = self.name(&product.admin_id)?;
        serde_json::to_value(product.view(&name))
            .map_err(|e| ProductError::Store(StoreError(e.to_string())))
    }

    fn views(&mut self, products: &[Product]) -> Result<Vec<serde_json::Value>, ProductError> {
        products.iter().map(|p| self.view(p)).collect()
    }
}

fn product_json(status: u16, product: &Product) -> Result<Response, ProductError> {
    let view = SellerNames::open()?.view(product)?;
    Ok(json(status, &view))
}

/// GET /api/v1/products — a plain array without `page`/`limit`, `{products, meta}` with either.
/// Served from the cache when it holds this exact query for the current generation.
pub async fn list_products(req: Request) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    let query: ListQuery = parse_query(req.query())?;
    let filter = ListFilter::try_from(query)?;
    let cache = Cache::open();
    // The validated filter's debug form is canonical: equal queries share one entry.
    let what = format!("list:{filter:?}");
    let mut names = SellerNames::open()?;
    let now = Timestamp::now();
    if let Some(hit) = cache.get(&what, now.millis())
        && names.unchanged(&hit)?
    {
        return Ok(cache::read_response(&req, hit.body));
    }
    let mut names = SellerNames::open()?;
    let db = store::open()?;
    // Read before the products: a hold made in between makes the entry expire earlier, never
    // later.
    let valid_until = store::next_expiry(&db, now)?;
    let stock = match valid_until {
        Some(_) => Stock::LessHolds { now },
        None => Stock::OnHand,
    };
    let products = store::list_products(&db, &filter, stock)?;
    let views = names.views(&products)?;
    let body = match filter.page {
        None => serde_json::to_vec(&views),
        Some(page) => {
            let total = store::count_products(&db, &filter, stock)?;
            let meta = PageMeta::new(total, page);
            serde_json::to_vec(&json!({ "products": views, "meta": meta }))
        }
    }
    .map_err(|e| StoreError(e.to_string()))?;
    cache.put(
        &what,
        &body,
        &names.names,
        names.stamp.as_deref(),
        valid_until,
    );
    Ok(cache::read_response(&req, body))
}

fn find(db: &spin_sdk::sqlite3::Connection, id: &str) -> Result<Product, ProductError> {
    store::find_product(db, id)?.ok_or_else(|| ProductError::NotFound(id.to_owned()))
}

/// GET /api/v1/products/:id — cached like the list.
pub async fn get_product(req: Request, id: &str) -> Result<Response, ProductError> {
    reject_invalid_bearer(&req).await?;
    let cache = Cache::open();
    let what = format!("item:{id}");
    let mut names = SellerNames::open()?;
    let now = Timestamp::now();
    if let Some(hit) = cache.get(&what, now.millis())
        && names.unchanged(&hit)?
    {
        return Ok(cache::read_response(&req, hit.body));
    }
    let mut names = SellerNames::open()?;
    let db = store::open()?;
    let valid_until = store::next_expiry(&db, now)?;
    let product = find(&db, id)?;
    let view = names.view(&product)?;
    let body = serde_json::to_vec(&view).map_err(|e| StoreError(e.to_string()))?;
    cache.put(
        &what,
        &body,
        &names.names,
        names.stamp.as_deref(),
        valid_until,
    );
    Ok(cache::read_response(&req, body))
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

/// POST /api/v1/products — ADMIN only; the fee (4% of price × quantity) is charged first and
/// refunded if the insert then fails.
pub async fn create_product(req: Request, ctx: &RequestContext) -> Result<Response, ProductError> {
    let me = admin(&req, ctx).await?;
    let caller = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller, |req| async move {
        let body: CreateBody = parse_json(req.body())?;
        let fields = ProductFields::try_from(body)?;
        let db = store::open()?;
        let id = ids::new_id();
        let fee = fields.value().percent(FEE_PERCENT);
        let key = format!("product-create:{id}");
        let product = fees::charged(&key, &me.user_id, fee, || {
            Ok(store::insert_product(
                &db,
                &id,
                &me.user_id,
                &fields,
                Timestamp::now(),
            )?)
        })
        .await?;
        committed(&db)?;
        product_json(201, &product)
    })
    .await
}

/// After a seller's write committed and before it answers: cached reads go stale, and the
/// domain events it recorded (`product.removed`) go to the events channel — best effort, a
/// failed publish waits in the outbox for the next write.
fn committed(db: &spin_sdk::sqlite3::Connection) -> Result<(), ProductError> {
    cache::invalidate()?;
    outbox::relay(db);
    Ok(())
}

/// The product, if the caller owns it: 404 when missing, 403 when another seller's.
fn owned(
    db: &spin_sdk::sqlite3::Connection,
    id: &str,
    me: &Principal,
) -> Result<Product, ProductError> {
    let product = find(db, id)?;
    if product.admin_id != me.user_id {
        return Err(ProductError::NotOwner(id.to_owned()));
    }
    Ok(product)
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
        let db = store::open()?;
        let before = owned(&db, id, &me)?;
        let patch: PatchBody = parse_json(req.body())?;
        let fields = ProductFields::patched(&before, patch)?;
        let fee = fee_for_increase(before.value(), fields.value());
        // The version read is part of the key: this exact change is charged once.
        let key = format!("product-update:{id}:{}", before.updated_at.millis());
        let product = fees::charged(&key, &me.user_id, fee, || {
            store::update_product(&db, &before, &fields, Timestamp::now())?
                .ok_or_else(|| ProductError::Conflict(id.to_owned()))
        })
        .await?;
        committed(&db)?;
        product_json(200, &product)
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
        let db = store::open()?;
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
        committed(&db)?;
        product_json(200, &product)
    })
    .await
}

fn views_json(status: u16, products: &[Product]) -> Result<Response, ProductError> {
    Ok(json(status, &SellerNames::open()?.views(products)?))
}

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
        let db = store::open()?;
        let now = Timestamp::now();
        let products = fees::charged(&key, &me.user_id, total.percent(FEE_PERCENT), || {
            store::transaction(&db, |db| {
                ids.iter()
                    .zip(&items)
                    .map(|(id, fields)| {
                        Ok(store::insert_product(db, id, &me.user_id, fields, now)?)
                    })
                    .collect::<Result<Vec<_>, ProductError>>()
            })
        })
        .await?;
        committed(&db)?;
        views_json(201, &products)
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
        let db = store::open()?;
        let mut changes = Vec::new();
        let mut fee = money::Money::ZERO;
        let mut version = String::new();
        for (i, item) in body.updates.into_iter().enumerate() {
            let before = owned(&db, &item.id, &me)?;
            let fields = ProductFields::patched(&before, item.patch())
                .map_err(|e| in_item("updates", i, e))?;
            let item_fee = fee_for_increase(before.value(), fields.value());
            fee = money::Money::from_cents(fee.cents() + item_fee.cents());
            version.push_str(&format!("{}:{};", before.id, before.updated_at.millis()));
            changes.push((before, fields));
        }
        // The versions read name this exact batch: retried, it is charged once.
        let key = format!(
            "product-bulk-update:{}",
            cache::etag(version.as_bytes()).trim_matches('"')
        );
        let now = Timestamp::now();
        let products = fees::charged(&key, &me.user_id, fee, || {
            store::transaction(&db, |db| {
                changes
                    .iter()
                    .map(|(before, fields)| {
                        store::update_product(db, before, fields, now)?
                            .ok_or_else(|| ProductError::Conflict(before.id.clone()))
                    })
                    .collect::<Result<Vec<_>, ProductError>>()
            })
        })
        .await?;
        committed(&db)?;
        views_json(200, &products)
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
        let db = store::open()?;
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
        committed(&db)?;
        Ok(json(
            200,
            &json!({ "deleted": deleted, "anonymized": anonymized }),
        ))
    })
    .await
}

/// The ANONYMOUS system user's id, from auth's private endpoint (which creates that user on
/// first need), by service chaining.
async fn anonymous_user_id() -> Result<String, ProductError> {
    let unavailable = |e: String| ProductError::FeeUnavailable(e);
    let request = Request::builder()
        .method(Method::Post)
        .uri("http://auth.spin.internal/internal/v1/anonymous")
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    if *response.status() != 200 {
        return Err(unavailable(format!("auth answered {}", response.status())));
    }
    #[derive(serde::Deserialize)]
    struct Anonymous {
        id: String,
    }
    let anonymous: Anonymous =
        serde_json::from_slice(response.body()).map_err(|e| unavailable(e.to_string()))?;
    Ok(anonymous.id)
}
