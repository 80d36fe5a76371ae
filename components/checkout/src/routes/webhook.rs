//! `POST /api/v1/webhooks/stripe`: Stripe's signed events, each applied once.

use super::give_back;
use crate::domain::{Checkout, PENDING_PAYMENT_HOLD_MILLIS, SAGA_START, Status, saga_start};
use crate::errors::CheckoutError;
use crate::{config, holds, store};
use http_kit::json;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use stripe::{CheckoutSession, EventKind, PaymentStatus};
use timestamp::Timestamp;

/// What an event leaves to do after its transaction.
enum Effect {
    None,
    /// A saga start was recorded: publish it.
    Publish,
    /// Paid later (a delayed method): keep the stock held until Stripe says how it went.
    Pin(Checkout),
    /// Ended unpaid: give the holds back.
    Release(String),
}

/// Verifies the signature over the raw bytes (400 and nothing recorded when it fails),
/// records the event id in the inbox and applies the event in one transaction, then acts.
pub async fn stripe_webhook(req: Request) -> Result<Response, CheckoutError> {
    let secret = config::stripe_webhook_secret()?;
    let now = Timestamp::now();
    let header = req.header("stripe-signature").and_then(|v| v.as_str());
    stripe::verify(&secret, header, req.body(), now.unix_seconds())?;
    let event = stripe::parse_event(req.body())?;
    let db = store::open()?;
    let effect = store::transaction(&db, |db| {
        if !store::record_event(db, &event.id, event.kind.as_str(), now)? {
            return Ok::<_, CheckoutError>(Effect::None);
        }
        let Some(session) = &event.session else {
            return Ok(Effect::None);
        };
        let Some(checkout) = ours(db, session)? else {
            eprintln!(
                "stripe event {} ({}): session {} is not one of ours; ignored",
                event.id,
                event.kind.as_str(),
                session.id
            );
            return Ok(Effect::None);
        };
        apply(db, &event.kind, session, checkout, now)
    })?;
    if let Err(e) = store::forget_events(&db, now) {
        eprintln!("stripe inbox not pruned: {e}");
    }
    match effect {
        Effect::None => {}
        Effect::Publish => {
            outbox::relay(&db);
        }
        Effect::Pin(checkout) => {
            if let Err(e) = holds::reserve(&checkout, now.millis() + PENDING_PAYMENT_HOLD_MILLIS) {
                eprintln!(
                    "checkout {}: stock not pinned for the pending payment: {e}",
                    checkout.id
                );
            }
        }
        Effect::Release(id) => give_back(&db, &id).await,
    }
    Ok(json(200, &json!({ "received": true })))
}

/// The checkout a session belongs to: by Stripe's id, else by our checkout id (a session
/// created while our call timed out never had its id recorded).
fn ours(db: &Connection, session: &CheckoutSession) -> Result<Option<Checkout>, CheckoutError> {
    if let Some(checkout) = store::find_by_session(db, &session.id)? {
        return Ok(Some(checkout));
    }
    Ok(match session.checkout_id() {
        Some(id) => store::find(db, id)?,
        None => None,
    })
}

fn apply(
    db: &Connection,
    kind: &EventKind,
    session: &CheckoutSession,
    checkout: Checkout,
    now: Timestamp,
) -> Result<Effect, CheckoutError> {
    let paid = match kind {
        EventKind::Completed => session.payment_status != PaymentStatus::Unpaid,
        EventKind::AsyncPaymentSucceeded => true,
        _ => false,
    };
    let intent = session.payment_intent.as_deref();
    if paid {
        // Also for a checkout whose holds were given back (replaced, expired, a timed-out
        // create): the money arrived, so the saga runs and fulfils or refunds.
        if !store::mark_paid(db, &checkout.id, &session.id, intent, now)? {
            return Ok(Effect::None);
        }
        let paid = store::find(db, &checkout.id)?.unwrap_or(checkout);
        outbox::record(db, SAGA_START, &saga_start(&paid, &session.id, intent), now)?;
        return Ok(Effect::Publish);
    }
    let live = [Status::Creating, Status::Open];
    Ok(match kind {
        EventKind::Completed => {
            if store::advance(db, &checkout.id, &live, Status::AwaitingPayment, now)? {
                Effect::Pin(checkout)
            } else {
                Effect::None
            }
        }
        EventKind::AsyncPaymentFailed => {
            let from = [Status::Creating, Status::Open, Status::AwaitingPayment];
            release_if(
                store::advance(db, &checkout.id, &from, Status::Failed, now)?,
                checkout,
            )
        }
        EventKind::Expired => release_if(
            store::advance(db, &checkout.id, &live, Status::Expired, now)?,
            checkout,
        ),
        _ => Effect::None,
    })
}

fn release_if(moved: bool, checkout: Checkout) -> Effect {
    if moved {
        Effect::Release(checkout.id)
    } else {
        Effect::None
    }
}
