//! The saga's steps, each beside its compensation, and the refund that ends a compensated
//! saga. Every action is idempotent in the domain it touches (keyed by the saga id), so a
//! repeat after a crash does nothing twice.

use super::{Run, Step};
use crate::emails::{self, Email};
use crate::retry::StepError;
use crate::{config, outbound};
use commerce_wit::events::reen::cart::cart;
use commerce_wit::events::reen::catalog::catalog;
use commerce_wit::events::reen::identity::identity::{self, ApplyError, HoldError, Movement};
use commerce_wit::events::reen::orders::orders::{self, OrderError, OrderStatus};
use serde_json::json;

/// The first step's name: its outcome is the order id.
pub const PLACE_ORDER: &str = "place-order";

/// The order saga, in order.
pub const FORWARD: &[Step] = &[
    // Undone by the refund at the end (the order is kept, REFUNDED).
    Step {
        name: PLACE_ORDER,
        run: place_order,
        compensate: Some(keep_order),
    },
    Step {
        name: "commit-stock",
        run: commit_stock,
        compensate: Some(return_stock),
    },
    Step {
        name: "charge-buyer",
        run: charge_buyer,
        compensate: Some(uncharge_buyer),
    },
    // The point of no return: the money moved; what follows only retries.
    Step {
        name: "credit-sellers",
        run: credit_sellers,
        compensate: None,
    },
    Step {
        name: "clear-cart",
        run: clear_cart,
        compensate: None,
    },
    Step {
        name: "email-buyer",
        run: email_buyer,
        compensate: None,
    },
    Step {
        name: "email-sellers",
        run: email_sellers,
        compensate: None,
    },
    Step {
        name: "complete",
        run: complete,
        compensate: None,
    },
];

/// After the compensations: the holds back, the payment refunded, the order REFUNDED, the
/// buyer told.
pub const REFUND: &[Step] = &[
    Step {
        name: "release-holds",
        run: release_holds,
        compensate: None,
    },
    Step {
        name: "refund-payment",
        run: refund_payment,
        compensate: None,
    },
    Step {
        name: "mark-refunded",
        run: mark_refunded,
        compensate: None,
    },
    Step {
        name: "email-refund",
        run: email_refund,
        compensate: None,
    },
];

fn transient(what: &str, e: impl std::fmt::Debug) -> StepError {
    StepError::Transient(format!("{what}: {e:?}"))
}

// ---- place the order ------------------------------------------------------------------

fn place_order(run: &mut Run) -> Result<String, StepError> {
    let start = run.start;
    let order = orders::NewOrder {
        checkout_id: start.checkout_id.clone(),
        checkout_session_id: start.session_id.clone(),
        buyer_id: start.buyer_id.clone(),
        total_cents: start.total_cents,
        lines: start
            .lines
            .iter()
            .map(|l| orders::OrderLine {
                product_id: l.product_id.clone(),
                seller_id: l.seller_id.clone(),
                name: l.name.clone(),
                image_urls: l.image_urls.clone(),
                quantity: l.quantity,
                unit_price_cents: l.unit_price_cents,
            })
            .collect(),
    };
    match orders::place(&order) {
        Ok(order) => Ok(order.id),
        Err(OrderError::Invalid(why)) => Err(StepError::Permanent(format!("the order: {why}"))),
        Err(e) => Err(transient("placing the order", e)),
    }
}

/// The order stays, to be marked REFUNDED once the payment is refunded.
fn keep_order(_: &mut Run) -> Result<String, StepError> {
    Ok("kept for the refund".into())
}

// ---- stock ----------------------------------------------------------------------------

fn lines(run: &Run) -> Vec<catalog::Line> {
    run.start
        .lines
        .iter()
        .map(|l| catalog::Line {
            product_id: l.product_id.clone(),
            quantity: l.quantity,
        })
        .collect()
}

fn commit_stock(run: &mut Run) -> Result<String, StepError> {
    match catalog::commit(run.id(), &lines(run)) {
        Ok(()) => Ok("committed".into()),
        Err(catalog::ReserveError::InsufficientStock(product)) => Err(StepError::Permanent(
            format!("product {product} no longer has the units paid for"),
        )),
        Err(catalog::ReserveError::UnknownProduct(product)) => Err(StepError::Permanent(format!(
            "product {product} no longer exists"
        ))),
        Err(catalog::ReserveError::Invalid(why)) => {
            Err(StepError::Permanent(format!("the reservation: {why}")))
        }
        Err(catalog::ReserveError::Storage(e)) => Err(transient("committing stock", e)),
    }
}

/// Puts committed units back on hand, and gives a still-held reservation back.
fn return_stock(run: &mut Run) -> Result<String, StepError> {
    match catalog::restock(run.id()) {
        Ok(())
        | Err(catalog::SettleError::WrongState(_))
        | Err(catalog::SettleError::UnknownReservation(_)) => {}
        Err(catalog::SettleError::Storage(e)) => return Err(transient("restocking", e)),
    }
    release_stock(run)?;
    Ok("stock returned".into())
}

fn release_stock(run: &Run) -> Result<(), StepError> {
    match catalog::release(run.id()) {
        Ok(())
        | Err(catalog::SettleError::WrongState(_))
        | Err(catalog::SettleError::UnknownReservation(_)) => Ok(()),
        Err(catalog::SettleError::Storage(e)) => Err(transient("releasing stock", e)),
    }
}

// ---- money ----------------------------------------------------------------------------

fn buyer_key(run: &Run) -> String {
    format!("saga:{}:buyer", run.id())
}

/// The balance hold checkout took becomes the spend; when it was given back (the money came
/// late), the buyer is charged now, if their balance still covers it.
fn charge_buyer(run: &mut Run) -> Result<String, StepError> {
    match identity::capture_hold(run.id()) {
        Ok(_) | Err(HoldError::Captured) => return Ok("hold captured".into()),
        Err(HoldError::Released | HoldError::NotFound) => {}
        Err(HoldError::UnknownUser(user)) => {
            return Err(StepError::Permanent(format!(
                "the buyer {user} was deleted"
            )));
        }
        Err(HoldError::Storage(e)) => return Err(transient("capturing the hold", e)),
    }
    let total = run.start.total().cents();
    let charge = Movement {
        user_id: run.start.buyer_id.clone(),
        balance_cents: -total,
        amount_spent_cents: total,
        amount_gained_cents: 0,
        sales_count: 0,
        purchases_count: 1,
    };
    match identity::apply(&buyer_key(run), &[charge]) {
        Ok(_) => Ok("charged (the hold had been released)".into()),
        Err(ApplyError::InsufficientBalance(_)) => Err(StepError::Permanent(
            "the buyer's balance no longer covers the total".into(),
        )),
        Err(ApplyError::UnknownUser(user)) => Err(StepError::Permanent(format!(
            "the buyer {user} was deleted"
        ))),
        Err(ApplyError::Storage(e)) => Err(transient("charging the buyer", e)),
        Err(e) => Err(StepError::Permanent(format!("charging the buyer: {e:?}"))),
    }
}

/// Reverts a charge made under the buyer's key (and voids the key if none was made, so a
/// charge still on its way is refused).
fn uncharge_buyer(run: &mut Run) -> Result<String, StepError> {
    match identity::revert(&buyer_key(run)) {
        Ok(_) | Err(ApplyError::UnknownKey) => Ok("no charge left".into()),
        Err(ApplyError::Storage(e)) => Err(transient("reverting the charge", e)),
        Err(e) => Err(StepError::Permanent(format!("reverting the charge: {e:?}"))),
    }
}

/// Each seller of the frozen lines is credited with their lines, once per (saga, seller); a
/// seller deleted since checkout is not credited, and the order records who.
fn credit_sellers(run: &mut Run) -> Result<String, StepError> {
    let mut credited = Vec::new();
    let mut uncredited = Vec::new();
    for (seller, amount) in run.start.sellers() {
        let credit = Movement {
            user_id: seller.clone(),
            balance_cents: amount.cents(),
            amount_spent_cents: 0,
            amount_gained_cents: amount.cents(),
            sales_count: 1,
            purchases_count: 0,
        };
        let key = format!("saga:{}:seller:{seller}", run.id());
        match identity::apply(&key, &[credit]) {
            Ok(_) => credited.push(seller),
            Err(ApplyError::UnknownUser(_)) => {
                eprintln!(
                    "saga {}: seller {seller} was deleted: not credited",
                    run.id()
                );
                uncredited.push(seller);
            }
            Err(ApplyError::Storage(e)) => return Err(transient("crediting a seller", e)),
            Err(e) => return Err(StepError::Permanent(format!("crediting {seller}: {e:?}"))),
        }
    }
    if let Some(order_id) = run.order_id()
        && !uncredited.is_empty()
    {
        orders::record_uncredited(order_id, &uncredited)
            .map_err(|e| transient("recording the uncredited sellers", e))?;
    }
    Ok(json!({ "credited": credited, "uncredited": uncredited }).to_string())
}

// ---- the cart -------------------------------------------------------------------------

/// The purchased lines leave the buyer's cart; other lines stay.
fn clear_cart(run: &mut Run) -> Result<String, StepError> {
    let bought: Vec<String> = run
        .start
        .lines
        .iter()
        .map(|l| l.product_id.clone())
        .collect();
    cart::remove_lines(&run.start.buyer_id, &bought)
        .map(|removed| format!("{removed} lines removed"))
        .map_err(|e| transient("clearing the cart", e))
}

// ---- emails ---------------------------------------------------------------------------

/// Sends `email`; an email the API refuses for good (a bad address) is recorded as not sent
/// rather than holding the order back.
fn deliver(email: &Email, key: &str) -> Result<String, StepError> {
    match emails::send(email, key) {
        Ok(sent) => Ok(sent.as_str().to_owned()),
        Err(StepError::Permanent(why)) => {
            eprintln!("email {key} not sent: {why}");
            Ok(format!("not sent: {why}"))
        }
        Err(e) => Err(e),
    }
}

fn buyer(run: &Run) -> Result<Option<identity::User>, StepError> {
    identity::get_user(&run.start.buyer_id).map_err(|e| transient("reading the buyer", e))
}

fn email_buyer(run: &mut Run) -> Result<String, StepError> {
    let order_id = run.order_id().unwrap_or_default().to_owned();
    let Some((to, name)) = buyer(run)?.and_then(|u| Some((u.email?, u.name))) else {
        return Ok("no address".into());
    };
    let frontend = config::frontend_base_url();
    let email = emails::purchase(&to, &name, run.start, &frontend, &order_id);
    deliver(&email, &format!("saga:{}:email:buyer", run.id()))
}

fn email_sellers(run: &mut Run) -> Result<String, StepError> {
    let sellers: Vec<String> = run.start.sellers().into_iter().map(|(id, _)| id).collect();
    let users = identity::get_users(&sellers).map_err(|e| transient("reading sellers", e))?;
    let mut outcomes = Vec::new();
    for seller in &sellers {
        let Some(user) = users.iter().find(|u| u.id == *seller) else {
            outcomes.push(format!("{seller}: deleted"));
            continue;
        };
        let Some(to) = &user.email else {
            outcomes.push(format!("{seller}: no address"));
            continue;
        };
        let email = emails::sale(to, &user.name, run.start, seller);
        let key = format!("saga:{}:email:seller:{seller}", run.id());
        outcomes.push(format!("{seller}: {}", deliver(&email, &key)?));
    }
    Ok(outcomes.join("; "))
}

// ---- the end --------------------------------------------------------------------------

fn advance(run: &Run, status: OrderStatus) -> Result<String, StepError> {
    let Some(order_id) = run.order_id() else {
        return Ok("no order".into());
    };
    match orders::advance(order_id, status) {
        Ok(_) => Ok(format!("{status:?}").to_lowercase()),
        Err(OrderError::Backward(now)) => Err(StepError::Permanent(format!(
            "the order is already {now:?}"
        ))),
        Err(e) => Err(transient("moving the order", e)),
    }
}

fn complete(run: &mut Run) -> Result<String, StepError> {
    advance(run, OrderStatus::Completed)
}

// ---- the refund -----------------------------------------------------------------------

/// The stock still held and the buyer's balance hold come back.
fn release_holds(run: &mut Run) -> Result<String, StepError> {
    release_stock(run)?;
    match identity::release_hold(run.id()) {
        Ok(()) | Err(HoldError::NotFound | HoldError::Released | HoldError::UnknownUser(_)) => {
            Ok("holds released".into())
        }
        Err(HoldError::Captured) => Ok("the hold was captured: nothing to release".into()),
        Err(HoldError::Storage(e)) => Err(transient("releasing the hold", e)),
    }
}

fn refund_payment(run: &mut Run) -> Result<String, StepError> {
    let Some(intent) = run.start.payment_intent.as_deref() else {
        eprintln!("saga {}: no payment intent to refund", run.id());
        return Ok("no payment intent".into());
    };
    match outbound::refund(intent, &format!("saga:{}:refund", run.id())) {
        Ok(()) => Ok("refunded".into()),
        // Already refunded, or refused for good: recorded for an operator, not retried.
        Err(StepError::Permanent(why)) => {
            eprintln!("saga {}: Stripe refused the refund: {why}", run.id());
            Ok(format!("refused: {why}"))
        }
        Err(e) => Err(e),
    }
}

fn mark_refunded(run: &mut Run) -> Result<String, StepError> {
    advance(run, OrderStatus::Refunded)
}

fn email_refund(run: &mut Run) -> Result<String, StepError> {
    let Some((to, name)) = buyer(run)?.and_then(|u| Some((u.email?, u.name))) else {
        return Ok("no address".into());
    };
    let email = emails::refunded(&to, &name, run.start);
    deliver(&email, &format!("saga:{}:email:refund", run.id()))
}
