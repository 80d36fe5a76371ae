//! The `reen:catalog/catalog` WIT export: product look-ups and stock reservations over the
//! same domain and store functions as the HTTP routes. Composed into an orchestrator it runs
//! with that component's grants: the `products` sqlite label only (a stock change makes cached
//! reads stale in its own transaction, `cache.rs`).

use crate::domain::ReservationLines;
use crate::errors::StoreError;
use crate::store::reservations::{Reserved, Settled};
use crate::store::sales::{self, Committed};
use crate::store::{self, reservations};
use commerce_wit::products::exports::reen::catalog::catalog::{
    Guest, Line, ProductSummary, ReserveError, SettleError,
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
