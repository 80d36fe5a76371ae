//! REEN Commerce `events` component, the Redis-triggered orchestrator on the events channel:
//! a paid checkout's saga start (`checkout.paid`) runs or resumes the order saga (`saga`),
//! `product.removed` takes the product out of every cart, and `account.deleted` runs an
//! account's deletion across the domains (`deletion`). It reaches the domains only through
//! their WIT exports, composed into it (a Redis-triggered component cannot chain).
//!
//! Spin drops a message whose handler fails and never redelivers it, so nothing here relies on
//! the message: the saga's state is in its database, a deletion stays pending in auth's, and
//! what is left undone is picked up when the re-drive publishes the start or the deletion
//! again.

mod config;
mod deletion;
mod emails;
mod message;
mod outbound;
mod retry;
mod saga;
mod store;

use commerce_wit::events::reen::cart::cart;
use message::Message;
use retry::{StepError, with_backoff};
use spin_sdk::redis_component;
use std::time::{Duration, Instant};

#[redis_component]
fn on_message(message: Vec<u8>) -> anyhow::Result<()> {
    match message::parse(&message) {
        Err(why) => {
            // Retrying cannot make it valid: say so and drop it.
            eprintln!("events: dropped an unusable message: {why}");
            Ok(())
        }
        Ok(Message::SagaStart(start)) => saga::run(start),
        Ok(Message::ProductRemoved { product_id }) => remove_from_carts(&product_id),
        Ok(Message::AccountDeleted { user_id }) => deletion::run(&user_id),
        Ok(Message::Other(_)) => Ok(()),
    }
}

/// `product.removed`: the product leaves every cart (idempotent: a repeat removes nothing).
fn remove_from_carts(product_id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(4);
    let removed = with_backoff(deadline, || {
        cart::remove_product(product_id).map_err(StepError::Transient)
    })
    .map_err(|e| anyhow::anyhow!("product.removed {product_id}: {e}"))?;
    if removed > 0 {
        eprintln!("events: product {product_id} removed from {removed} cart lines");
    }
    Ok(())
}
