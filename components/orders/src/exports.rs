//! The `reen:orders/orders` WIT export: placing an order once per checkout, moving its status
//! forward, and lookups, over the same store functions as the HTTP routes. Composed into an
//! orchestrator it runs with that component's grants and uses only the `orders` sqlite label.

use crate::domain::{self, Advance, Invalid, Line, NewOrder, Order, Status};
use crate::store;
use commerce_wit::orders::exports::reen::orders::orders as wit;
use timestamp::Timestamp;

struct Orders;

fn storage(e: store::StoreError) -> wit::OrderError {
    wit::OrderError::Storage(e.0)
}

fn invalid(e: Invalid) -> wit::OrderError {
    wit::OrderError::Invalid(e.0)
}

fn status_from(status: wit::OrderStatus) -> Status {
    match status {
        wit::OrderStatus::Processing => Status::Processing,
        wit::OrderStatus::Completed => Status::Completed,
        wit::OrderStatus::Refunded => Status::Refunded,
    }
}

fn status_to(status: Status) -> wit::OrderStatus {
    match status {
        Status::Processing => wit::OrderStatus::Processing,
        Status::Completed => wit::OrderStatus::Completed,
        Status::Refunded => wit::OrderStatus::Refunded,
    }
}

fn line_from(line: wit::OrderLine) -> Result<Line, Invalid> {
    Ok(Line {
        product_id: line.product_id,
        seller_id: line.seller_id,
        name: line.name,
        image_urls: line.image_urls,
        quantity: line.quantity,
        unit_price: domain::unit_price(line.unit_price_cents)?,
    })
}

fn order_to(order: Order) -> wit::Order {
    wit::Order {
        id: order.id,
        checkout_id: order.checkout_id,
        checkout_session_id: order.checkout_session_id,
        buyer_id: order.buyer_id,
        status: status_to(order.status),
        // Never negative: checked when placed, and the column refuses it.
        total_cents: order.total.cents().unsigned_abs(),
        lines: order
            .lines
            .into_iter()
            .map(|(_, l)| wit::OrderLine {
                product_id: l.product_id,
                seller_id: l.seller_id,
                name: l.name,
                image_urls: l.image_urls,
                quantity: l.quantity,
                unit_price_cents: l.unit_price.cents().unsigned_abs(),
            })
            .collect(),
        uncredited_sellers: order.uncredited_sellers,
        created_at_ms: order.created_at.millis(),
        updated_at_ms: order.updated_at.millis(),
    }
}

impl wit::Guest for Orders {
    fn place(order: wit::NewOrder) -> Result<wit::Order, wit::OrderError> {
        let lines = order
            .lines
            .into_iter()
            .map(line_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let order = NewOrder::parse(
            order.checkout_id,
            order.checkout_session_id,
            order.buyer_id,
            order.total_cents,
            lines,
        )
        .map_err(invalid)?;
        let db = store::open().map_err(storage)?;
        store::place(&db, &order, Timestamp::now())
            .map(order_to)
            .map_err(storage)
    }

    fn advance(order_id: String, status: wit::OrderStatus) -> Result<wit::Order, wit::OrderError> {
        let to = status_from(status);
        let db = store::open().map_err(storage)?;
        // A compare-and-set: if another move lands between the read and the write, read again
        // and judge the move against what it left.
        loop {
            let order = store::find(&db, &order_id)
                .map_err(storage)?
                .ok_or(wit::OrderError::NotFound)?;
            match order.status.advance(to) {
                Advance::Already => return Ok(order_to(order)),
                Advance::Backward => {
                    return Err(wit::OrderError::Backward(status_to(order.status)));
                }
                Advance::Forward => {
                    if store::set_status(&db, &order_id, order.status, to, Timestamp::now())
                        .map_err(storage)?
                    {
                        let moved = store::find(&db, &order_id).map_err(storage)?;
                        return moved.map(order_to).ok_or(wit::OrderError::NotFound);
                    }
                }
            }
        }
    }

    fn record_uncredited(
        order_id: String,
        seller_ids: Vec<String>,
    ) -> Result<wit::Order, wit::OrderError> {
        let db = store::open().map_err(storage)?;
        // The outer result is storage, the inner the answer (a refusal writes nothing).
        store::transaction(&db, |db| {
            let Some(mut order) = store::find(db, &order_id)? else {
                return Ok(Err(wit::OrderError::NotFound));
            };
            for seller in seller_ids {
                if !order.lines.iter().any(|(_, l)| l.seller_id == seller) {
                    return Ok(Err(wit::OrderError::Invalid(format!(
                        "{seller} sold nothing in order {order_id}"
                    ))));
                }
                if !order.uncredited_sellers.contains(&seller) {
                    order.uncredited_sellers.push(seller);
                }
            }
            store::set_uncredited(db, &order_id, &order.uncredited_sellers)?;
            Ok(Ok(order_to(order)))
        })
        .map_err(storage)?
    }

    fn get(order_id: String) -> Result<Option<wit::Order>, wit::OrderError> {
        let db = store::open().map_err(storage)?;
        Ok(store::find(&db, &order_id).map_err(storage)?.map(order_to))
    }

    fn by_checkout(checkout_id: String) -> Result<Option<wit::Order>, wit::OrderError> {
        let db = store::open().map_err(storage)?;
        Ok(store::find_by_checkout(&db, &checkout_id)
            .map_err(storage)?
            .map(order_to))
    }
}

commerce_wit::orders::export!(Orders);
