//! The handlers: the buyer's checkout and its status (`checkout`), Stripe's webhook
//! (`webhook`), and the re-drive a scheduler calls (`redrive`). What they share is here.

mod checkout;
mod redrive;
mod webhook;

pub use checkout::{create_checkout, get_session};
pub use redrive::redrive;
pub use webhook::stripe_webhook;

use crate::domain::{Checkout, SAGA_START, saga_start};
use crate::errors::CheckoutError;
use crate::{holds, store};
use commerce_wit::checkout::reen::orders::orders;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// Gives a checkout's stock and balance back and records it once both are confirmed; a
/// failure is logged and left for the re-drive (both releases are idempotent).
async fn give_back(db: &Connection, checkout_id: &str) {
    match holds::release(checkout_id).await {
        Ok(()) => {
            if let Err(e) = store::holds_released(db, checkout_id, Timestamp::now()) {
                eprintln!("checkout {checkout_id}: holds released but not recorded: {e}");
            }
        }
        Err(e) => {
            eprintln!("checkout {checkout_id}: holds not released yet (re-drive retries): {e}")
        }
    }
}

/// The saga has not settled a paid checkout yet: records its start again (the saga is
/// idempotent per checkout id) unless orders reports it COMPLETED or REFUNDED, which is then
/// remembered. `true` when a start was recorded.
fn redrive_one(
    db: &Connection,
    checkout: &Checkout,
    now: Timestamp,
) -> Result<bool, CheckoutError> {
    let order = orders::by_checkout(&checkout.id)
        .map_err(|e| CheckoutError::Store(store::StoreError(format!("orders: {e:?}"))))?;
    if let Some(order) = order
        && matches!(
            order.status,
            orders::OrderStatus::Completed | orders::OrderStatus::Refunded
        )
    {
        store::settled(db, &checkout.id, now)?;
        return Ok(false);
    }
    let Some(session_id) = &checkout.session_id else {
        return Ok(false);
    };
    let fields = saga_start(checkout, session_id, checkout.payment_intent.as_deref());
    outbox::record(db, SAGA_START, &fields, now)?;
    Ok(true)
}

/// How long after payment a checkout's saga may be moving before a re-drive starts it again
/// (variable `redrive_quiet_secs`, default 120).
fn quiet_millis() -> i64 {
    spin_sdk::variables::get("redrive_quiet_secs")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(120)
        .max(0)
        * 1000
}
