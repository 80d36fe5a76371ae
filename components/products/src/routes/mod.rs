//! The handlers, one function per route: parse, domain, store, respond. Reads (and the private
//! batch lookup) in `reads`, a seller's single-product writes in `writes`, the bulk routes in
//! `bulk`; what they share is here.

mod bulk;
mod reads;
mod sellers;
mod writes;

pub use bulk::{bulk_create, bulk_delete, bulk_update};
pub use reads::{batch, get_product, list_products};
pub use writes::{create_product, delete_product, update_product};

use crate::domain::Product;
use crate::errors::ProductError;
use crate::fees;
use crate::store;
use auth_guard::{Guard, Principal, Role};
use http_kit::{RequestContext, json};
use sellers::SellerNames;
use spin_sdk::http::{Method, Request, Response};

/// The signed-in caller, who must be an ADMIN.
async fn admin(req: &Request, ctx: &RequestContext) -> Result<Principal, ProductError> {
    let principal = Guard::from_variables().require(req).await?;
    ctx.set_user_id(&principal.user_id);
    principal.require_role(Role::Admin)?;
    Ok(principal)
}

/// On public routes a present `Authorization` header must still be valid (401 otherwise).
async fn reject_invalid_bearer(req: &Request) -> Result<(), ProductError> {
    Guard::from_variables().optional(req).await?;
    Ok(())
}

/// A written product's answer, named from what [`open_for_write`] read before the commit.
fn product_json(
    status: u16,
    product: &Product,
    names: &mut SellerNames,
) -> Result<Response, ProductError> {
    Ok(json(status, &names.view(product)?))
}

fn find(db: &spin_sdk::sqlite3::Connection, id: &str) -> Result<Product, ProductError> {
    store::find_product(db, id)?.ok_or_else(|| ProductError::NotFound(id.to_owned()))
}

/// After a seller's write committed and before it answers: the domain events it recorded
/// (`product.removed`) go to the events channel — best effort, a failed publish waits in the
/// outbox for the next write. Cached reads went stale with the commit itself (`cache.rs`):
/// nothing left to do for them could fail after the change happened.
fn committed(db: &spin_sdk::sqlite3::Connection) {
    outbox::relay(db);
}

/// The database for a seller's write, after giving back the listing fees owed (`fees.rs`):
/// every write settles what earlier ones, or a crash, left. With it, the writer's display name,
/// read now: a write's answer shows only the writer's products, so building it after the
/// commit reads nothing that could fail, and no write answers 500 for a change it made.
async fn open_for_write(
    me: &Principal,
) -> Result<(spin_sdk::sqlite3::Connection, SellerNames), ProductError> {
    let mut names = SellerNames::new();
    names.remember(&me.user_id)?;
    let db = store::open()?;
    fees::reconcile(&db).await;
    Ok((db, names))
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

fn views_json(
    status: u16,
    products: &[Product],
    names: &mut SellerNames,
) -> Result<Response, ProductError> {
    Ok(json(status, &names.views(products)?))
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
