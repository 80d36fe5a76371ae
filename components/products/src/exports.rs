//! The `reen:catalog/catalog` WIT export: product look-ups, stock reservations and the removal
//! of a deleted seller's products, over the same domain and store functions as the HTTP
//! routes. Composed into an orchestrator it runs with that component's grants: the `products`
//! sqlite label (a change makes cached reads stale in its own transaction, `cache.rs`), and
//! for `remove-seller-products` the events channel (`redis_url`, `events_channel`) its
//! `product.removed` events are relayed to.

use crate::domain::ReservationLines;
use crate::errors::StoreError;
use crate::store::reservations::{Reserved, Settled};
use crate::store::sales::{self, Committed};
use crate::store::{self, reservations};
use commerce_wit::products::exports::reen::catalog::catalog::{
    Guest, Line, ProductSummary, ReserveError, SellerRemoval, SettleError,
};
use timestamp::Timestamp;

struct Catalog;

fn clamp(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl Guest for Catalog {
    fn get_many(ids: Vec<String>) -> Result<Vec<ProductSummary>, String> {
        let db = store::open().map_err(|e| e.0)?;
        let rows = reservations::stock(&db, &ids, Timestamp::now()).map_err(|e| e.0)?;
        Ok(rows
            .into_iter()
            .map(|r| ProductSummary {
                id: r.id,
                name: r.name,
                price_cents: u64::try_from(r.price_cents).unwrap_or_default(),
                on_hand: clamp(r.on_hand),
                available: clamp(r.available),
                seller_id: r.seller_id,
                image_urls: r.image_urls,
            })
            .collect())
    }

    fn reserve(
        reservation_id: String,
        lines: Vec<Line>,
        expires_at_ms: i64,
    ) -> Result<(), ReserveError> {
        let lines = checked(&reservation_id, lines)?;
        let storage = |e: StoreError| ReserveError::Storage(e.0);
        let db = store::open().map_err(storage)?;
        let outcome = reservations::reserve(
            &db,
            &reservation_id,
            &lines,
            Timestamp::from_millis(expires_at_ms),
            Timestamp::now(),
        )
        .map_err(storage)?;
        match outcome {
            Reserved::Now | Reserved::Before => Ok(()),
            Reserved::OtherLines => Err(ReserveError::Invalid(format!(
                "reservation {reservation_id} exists with other lines"
            ))),
            Reserved::UnknownProduct(id) => Err(ReserveError::UnknownProduct(id)),
            Reserved::InsufficientStock(id) => Err(ReserveError::InsufficientStock(id)),
        }
    }

    fn commit(reservation_id: String, lines: Vec<Line>) -> Result<(), ReserveError> {
        let lines = checked(&reservation_id, lines)?;
        let storage = |e: StoreError| ReserveError::Storage(e.0);
        let db = store::open().map_err(storage)?;
        let outcome =
            sales::commit(&db, &reservation_id, &lines, Timestamp::now()).map_err(storage)?;
        match outcome {
            Committed::Now | Committed::Before => Ok(()),
            Committed::OtherLines => Err(ReserveError::Invalid(format!(
                "reservation {reservation_id} exists with other lines"
            ))),
            Committed::Restocked => Err(ReserveError::Invalid(format!(
                "reservation {reservation_id} was committed and restocked"
            ))),
            Committed::UnknownProduct(id) => Err(ReserveError::UnknownProduct(id)),
            Committed::InsufficientStock(id) => Err(ReserveError::InsufficientStock(id)),
        }
    }

    fn restock(reservation_id: String) -> Result<(), SettleError> {
        let storage = |e: StoreError| SettleError::Storage(e.0);
        let db = store::open().map_err(storage)?;
        let outcome = sales::restock(&db, &reservation_id, Timestamp::now()).map_err(storage)?;
        settled(&reservation_id, outcome)
    }

    fn release(reservation_id: String) -> Result<(), SettleError> {
        let storage = |e: StoreError| SettleError::Storage(e.0);
        let db = store::open().map_err(storage)?;
        let outcome = reservations::release(&db, &reservation_id).map_err(storage)?;
        settled(&reservation_id, outcome)
    }

    /// Each product goes as the seller's own `DELETE /products/:id` takes it
    /// (`store::delete_product` or `store::reassign_product`, each recording
    /// `product.removed`), all in one transaction; the events are relayed after the commit.
    fn remove_seller_products(
        seller_id: String,
        anonymous_id: String,
    ) -> Result<SellerRemoval, String> {
        if seller_id.is_empty() || anonymous_id.is_empty() || seller_id == anonymous_id {
            return Err("remove-seller-products needs a seller and another owner".into());
        }
        let db = store::open().map_err(|e| e.0)?;
        let now = Timestamp::now();
        let removal = store::transaction(&db, |db| {
            let mut removal = SellerRemoval {
                deleted: Vec::new(),
                anonymized: Vec::new(),
            };
            for product in store::products_of(db, &seller_id)? {
                if product.order_count > 0 {
                    store::reassign_product(db, &product.id, &anonymous_id, now)?;
                    removal.anonymized.push(product.id);
                } else {
                    store::delete_product(db, &product.id, now)?;
                    removal.deleted.push(product.id);
                }
            }
            Ok::<_, StoreError>(removal)
        })
        .map_err(|e| e.0)?;
        // With the grants of the component this runs in (the events component's Redis).
        outbox::relay(&db);
        Ok(removal)
    }
}

/// A reservation id (1 to 200 bytes) and its lines, as `reserve` and `commit` accept them.
fn checked(reservation_id: &str, lines: Vec<Line>) -> Result<ReservationLines, ReserveError> {
    if reservation_id.is_empty() || reservation_id.len() > 200 {
        return Err(ReserveError::Invalid(
            "reservation id must be 1 to 200 bytes".into(),
        ));
    }
    ReservationLines::parse(lines.into_iter().map(|l| (l.product_id, l.quantity)))
        .map_err(ReserveError::Invalid)
}

fn settled(id: &str, outcome: Settled) -> Result<(), SettleError> {
    match outcome {
        Settled::Now | Settled::Before => Ok(()),
        Settled::Unknown => Err(SettleError::UnknownReservation(id.to_owned())),
        Settled::WrongState(state) => Err(SettleError::WrongState(format!(
            "reservation {id} is {state}"
        ))),
    }
}

commerce_wit::products::export!(Catalog);
