//! `POST /checkout` and `GET /checkout/sessions/:id`: the buyer's own checkouts.

use super::{give_back, quiet_millis, redrive_one};
use crate::domain::{self, Checkout, HOLD_MARGIN_MILLIS, Status};
use crate::errors::CheckoutError;
use crate::store::{self, DATABASE};
use crate::{config, holds, pricing, stripe_api};
use auth_guard::{Guard, Principal};
use commerce_wit::checkout::reen::orders::orders;
use http_kit::{RequestContext, json};
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The signed-in caller (401 without a valid token).
async fn caller(req: &Request, ctx: &RequestContext) -> Result<Principal, CheckoutError> {
    let principal = Guard::from_variables().require(req).await?;
    ctx.set_user_id(&principal.user_id);
    Ok(principal)
}

/// POST /api/v1/checkout — prices the cart, holds its stock and total, creates the Stripe
/// session; 201 `{stripeSessionUrl, sessionId}`. A checkout the buyer had open is replaced.
pub async fn create_checkout(
    req: Request,
    ctx: &RequestContext,
) -> Result<Response, CheckoutError> {
    let me = caller(&req, ctx).await?;
    let caller_id = me.user_id.clone();
    idempotency::run_once(DATABASE, req, &caller_id, |_req| async move {
        let lines = pricing::price(&me.user_id)?;
        let total = domain::total(&lines);
        stripe::check_total(total)?;
        let frontend = config::frontend_base_url()?;
        let db = store::open()?;
        let now = Timestamp::now();
        let checkout = Checkout {
            id: ids::new_id(),
            buyer_id: me.user_id.clone(),
            status: Status::Creating,
            session_id: None,
            session_url: None,
            payment_intent: None,
            lines,
            total,
            holds_released: false,
            paid_at: None,
            created_at: now.millis(),
        };
        for old in store::start(&db, &checkout, now)? {
            retire(&db, &old).await;
        }
        if let Err(e) = pricing::check_stock(&checkout.lines) {
            fail(&db, &checkout.id).await;
            return Err(e);
        }
        let expires_at = stripe::expires_at(now.unix_seconds());
        if let Err(e) = holds::take(&checkout, expires_at * 1000 + HOLD_MARGIN_MILLIS).await {
            fail(&db, &checkout.id).await;
            return Err(e);
        }
        let session = stripe::NewSession {
            checkout_id: checkout.id.clone(),
            user_id: checkout.buyer_id.clone(),
            lines: session_lines(&checkout)?,
            expires_at,
            frontend_base_url: frontend,
        };
        let created = match stripe_api::create_session(&session) {
            Ok(created) => created,
            Err(e) => {
                fail(&db, &checkout.id).await;
                return Err(e);
            }
        };
        if !store::opened(
            &db,
            &checkout.id,
            &created.id,
            &created.url,
            Timestamp::now(),
        )? {
            // Replaced by a newer checkout while Stripe answered (or already paid, when
            // Stripe's webhook beat this answer: then it stands).
            let now_status = store::find(&db, &checkout.id)?.map(|c| c.status);
            if now_status != Some(Status::Paid) {
                if let Err(e) = stripe_api::expire_session(&created.id) {
                    eprintln!(
                        "checkout {}: replaced session not expired: {e}",
                        checkout.id
                    );
                }
                give_back(&db, &checkout.id).await;
                return Err(CheckoutError::Replaced);
            }
        }
        Ok(json(
            201,
            &json!({ "stripeSessionUrl": created.url, "sessionId": created.id }),
        ))
    })
    .await
}

fn session_lines(checkout: &Checkout) -> Result<Vec<stripe::SessionLine>, CheckoutError> {
    checkout
        .lines
        .iter()
        .map(|l| {
            stripe::SessionLine::new(
                &l.name,
                money::Money::from_cents(l.unit_price_cents),
                l.quantity,
            )
            .map_err(|e| CheckoutError::Stripe(format!("line {}: {e}", l.product_id)))
        })
        .collect()
}

/// A checkout that could not be opened: marked failed, its holds given back.
async fn fail(db: &Connection, checkout_id: &str) {
    if let Err(e) = store::advance(
        db,
        checkout_id,
        &[Status::Creating],
        Status::Failed,
        Timestamp::now(),
    ) {
        eprintln!("checkout {checkout_id}: not marked failed: {e}");
    }
    give_back(db, checkout_id).await;
}

/// A checkout a newer one replaced: its session expired at Stripe, its holds given back.
async fn retire(db: &Connection, old: &Checkout) {
    if let Some(session_id) = &old.session_id
        && let Err(e) = stripe_api::expire_session(session_id)
    {
        eprintln!("checkout {}: replaced session not expired: {e}", old.id);
    }
    give_back(db, &old.id).await;
}

/// GET /api/v1/checkout/sessions/:id — the caller's checkout by Stripe session id:
/// `{sessionId, status, orderId?}`. A paid checkout whose order is not settled after the quiet
/// period is re-driven here too.
pub async fn get_session(
    req: Request,
    ctx: &RequestContext,
    session_id: &str,
) -> Result<Response, CheckoutError> {
    let me = caller(&req, ctx).await?;
    let db = store::open()?;
    let checkout = store::find_by_session(&db, session_id)?
        .filter(|c| c.buyer_id == me.user_id)
        .ok_or_else(|| CheckoutError::NotFound(session_id.to_owned()))?;
    let now = Timestamp::now();
    let order = orders::by_checkout(&checkout.id)
        .map_err(|e| CheckoutError::Store(store::StoreError(format!("orders: {e:?}"))))?;
    if checkout.status == Status::Paid
        && checkout
            .paid_at
            .is_some_and(|t| t <= now.millis() - quiet_millis())
        && redrive_one(&db, &checkout, now)?
    {
        outbox::relay(&db);
    }
    let mut body = json!({ "sessionId": session_id, "status": checkout.status.public() });
    if let Some(order) = order {
        body["orderId"] = json!(order.id);
    }
    Ok(json(200, &body))
}
