//! Checkouts: the frozen, priced lines a buyer pays for, the life of a checkout, and the saga
//! start it becomes once paid.

use money::Money;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How long stock and balance stay held after Stripe's session expires: a `completed` event
/// Stripe sends at the last second still finds them.
pub const HOLD_MARGIN_MILLIS: i64 = 10 * 60 * 1000;

/// How long a checkout completed but not yet paid (a delayed payment method: a bank debit)
/// keeps its holds: Stripe settles those within days.
pub const PENDING_PAYMENT_HOLD_MILLIS: i64 = 7 * 24 * 60 * 60 * 1000;

/// One line of a checkout, priced from the catalog and frozen: the order is built from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub product_id: String,
    pub seller_id: String,
    pub name: String,
    pub image_urls: Vec<String>,
    pub quantity: u32,
    pub unit_price_cents: i64,
}

impl Line {
    /// Quantity × unit price.
    pub fn total(&self) -> Money {
        Money::from_cents(self.unit_price_cents * i64::from(self.quantity))
    }
}

/// The sum of the lines.
pub fn total(lines: &[Line]) -> Money {
    Money::from_cents(lines.iter().map(|l| l.total().cents()).sum())
}

/// Where a checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Recorded, holds being taken, Stripe being called.
    Creating,
    /// A Stripe session waits for the buyer.
    Open,
    /// Completed at Stripe, the payment not yet through (delayed methods): holds pinned.
    AwaitingPayment,
    /// Paid: the saga was started.
    Paid,
    /// Stripe expired the session unpaid.
    Expired,
    /// Stripe could not create it, or the payment failed.
    Failed,
    /// The buyer started another checkout while this one was open.
    Replaced,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Open => "open",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Paid => "paid",
            Status::Expired => "expired",
            Status::Failed => "failed",
            Status::Replaced => "replaced",
        }
    }

    /// The stored name back.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Creating,
            Status::Open,
            Status::AwaitingPayment,
            Status::Paid,
            Status::Expired,
            Status::Failed,
            Status::Replaced,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// What `GET /checkout/sessions/:id` shows: `open`, `paid`, `expired` or `failed`.
    pub fn public(self) -> &'static str {
        match self {
            Status::Creating | Status::Open | Status::AwaitingPayment => "open",
            Status::Paid => "paid",
            Status::Expired | Status::Replaced => "expired",
            Status::Failed => "failed",
        }
    }
}

/// A recorded checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub id: String,
    pub buyer_id: String,
    pub status: Status,
    pub session_id: Option<String>,
    pub session_url: Option<String>,
    pub payment_intent: Option<String>,
    pub lines: Vec<Line>,
    pub total: Money,
    /// Whether the stock and balance holds were given back.
    pub holds_released: bool,
    /// Unix ms, once paid.
    pub paid_at: Option<i64>,
    pub created_at: i64,
}

/// The event that starts the order saga: the frozen checkout in full, so the saga needs
/// nothing from checkout's database (README "Domain events").
pub fn saga_start(
    checkout: &Checkout,
    session_id: &str,
    payment_intent: Option<&str>,
) -> Vec<(&'static str, Value)> {
    vec![
        ("checkoutId", json!(checkout.id)),
        ("sessionId", json!(session_id)),
        ("paymentIntent", json!(payment_intent)),
        ("buyerId", json!(checkout.buyer_id)),
        ("totalCents", json!(checkout.total.cents())),
        ("holdsReleased", json!(checkout.holds_released)),
        ("lines", json!(checkout.lines)),
    ]
}

/// The saga start's event type.
pub const SAGA_START: &str = "checkout.paid";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_status_is_one_of_four() {
        assert_eq!(Status::AwaitingPayment.public(), "open");
        assert_eq!(Status::Replaced.public(), "expired");
        for s in [
            "creating",
            "open",
            "awaiting_payment",
            "paid",
            "expired",
            "failed",
            "replaced",
        ] {
            assert_eq!(Status::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn a_total_is_the_sum_of_quantity_times_unit_price() {
        let line = |q, c| Line {
            product_id: "p".into(),
            seller_id: "s".into(),
            name: "n".into(),
            image_urls: vec![],
            quantity: q,
            unit_price_cents: c,
        };
        assert_eq!(
            total(&[line(3, 1234), line(1, 50)]),
            Money::from_cents(3752)
        );
    }
}
