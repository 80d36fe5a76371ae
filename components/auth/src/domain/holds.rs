//! Balance holds: at checkout the buyer's balance is held for the total under our checkout id
//! (the balance shown drops, nothing is spent yet); the hold is released once if the checkout
//! ends without an order, or captured once by the order saga as the spend. A released key stays
//! released, and releasing a key never held voids it, so a hold arriving after its release is
//! refused instead of taking money for good.

use super::ledger::{Movement, PositiveAmount, Receipt};
use money::Money;
use serde::{Deserialize, Serialize};

/// `PUT /internal/v1/holds/{key}`: what `checkout` sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HoldBody {
    pub user_id: String,
    pub amount: PositiveAmount,
}

/// Where a hold is: held on the balance, given back, or spent by an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldStatus {
    Held,
    Released,
    Captured,
}

impl HoldStatus {
    /// The status as stored (`balance_holds.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Released => "released",
            Self::Captured => "captured",
        }
    }

    /// A stored status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "held" => Some(Self::Held),
            "released" => Some(Self::Released),
            "captured" => Some(Self::Captured),
            _ => None,
        }
    }
}

/// A hold on one user's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub key: String,
    pub user_id: String,
    pub amount: Money,
    pub status: HoldStatus,
}

impl Hold {
    /// The hold as the endpoints answer it, with the user's balance now.
    pub fn receipt(&self, balance: Money) -> HoldReceipt {
        Receipt {
            key: self.key.clone(),
            user_id: self.user_id.clone(),
            amount: self.amount,
            status: self.status,
            balance,
        }
    }

    /// The same hold in another status.
    pub fn with_status(&self, status: HoldStatus) -> Hold {
        Hold {
            status,
            ..self.clone()
        }
    }
}

/// A hold's receipt: `{key, userId, amount, status, balance}`.
pub type HoldReceipt = Receipt<HoldStatus>;

/// What a key stands for once used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Hold(Hold),
    /// Released before any hold arrived under it: no hold may ever be taken under it.
    Void,
}

/// What a `PUT` of a hold does, given what its key already stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// A new key: hold the amount if the balance covers it.
    Hold,
    /// The same hold asked again: answer it as it is now (held or captured), hold nothing.
    Repeat(Hold),
    /// The key holds another user's or another amount.
    KeyReused,
    /// The key was released or voided, and stays so.
    Released,
}

/// The rule of `PUT /internal/v1/holds/{key}`.
pub fn take(stored: Option<&Stored>, user_id: &str, amount: PositiveAmount) -> Take {
    match stored {
        None => Take::Hold,
        Some(Stored::Void) => Take::Released,
        Some(Stored::Hold(hold)) if hold.user_id != user_id || hold.amount != amount.money() => {
            Take::KeyReused
        }
        Some(Stored::Hold(hold)) if hold.status == HoldStatus::Released => Take::Released,
        Some(Stored::Hold(hold)) => Take::Repeat(hold.clone()),
    }
}

/// What a `DELETE` of a hold does, given what its key stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// Held: give the amount back, once.
    GiveBack(Hold),
    /// Released before: answer it again, move nothing.
    Repeat(Hold),
    /// Captured: the money was spent, nothing moves.
    Captured,
    /// A key never used: record it as void, so a hold still on its way is refused.
    Void,
    /// Voided before: still unknown.
    NotFound,
}

/// The rule of `DELETE /internal/v1/holds/{key}`.
pub fn release(stored: Option<Stored>) -> Release {
    match stored {
        None => Release::Void,
        Some(Stored::Void) => Release::NotFound,
        Some(Stored::Hold(hold)) => match hold.status {
            HoldStatus::Held => Release::GiveBack(hold),
            HoldStatus::Released => Release::Repeat(hold),
            HoldStatus::Captured => Release::Captured,
        },
    }
}

/// What capturing a hold does (the order saga, through the identity export), given what its
/// key stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// Held: the amount becomes the buyer's spend, once.
    Spend(Hold),
    /// Captured before: answer the same hold, move nothing.
    Repeat(Hold),
    /// Released or voided: the money went back (or never left), nothing to capture.
    Released,
    /// No hold was taken under the key: nothing to capture, and nothing is recorded (a hold may
    /// still arrive; only a release voids a key).
    NotFound,
}

/// The rule of `capture-hold`.
pub fn capture(stored: Option<Stored>) -> Capture {
    match stored {
        None => Capture::NotFound,
        Some(Stored::Void) => Capture::Released,
        Some(Stored::Hold(hold)) => match hold.status {
            HoldStatus::Held => Capture::Spend(hold),
            HoldStatus::Captured => Capture::Repeat(hold),
            HoldStatus::Released => Capture::Released,
        },
    }
}

/// Capturing counts the held amount as spent and the order as one purchase; the balance does
/// not move again (it dropped when the hold was taken).
pub fn capture_movement(user_id: &str, amount: Money) -> Movement {
    Movement {
        user_id: user_id.to_owned(),
        balance: Money::ZERO,
        amount_spent: amount,
        amount_gained: Money::ZERO,
        sales_count: 0,
        purchases_count: 1,
    }
}

/// Holding lowers the balance the user sees and may spend; nothing counts as spent yet.
/// Releasing applies its reverse.
pub fn hold_movement(user_id: &str, amount: Money) -> Movement {
    Movement {
        user_id: user_id.to_owned(),
        balance: Money::from_cents(-amount.cents()),
        amount_spent: Money::ZERO,
        amount_gained: Money::ZERO,
        sales_count: 0,
        purchases_count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::balance_allows;

    fn amount(dollars: &str) -> PositiveAmount {
        serde_json::from_str(dollars).unwrap()
    }

    fn hold(status: HoldStatus) -> Hold {
        Hold {
            key: "checkout-1".into(),
            user_id: "u".into(),
            amount: Money::from_cents(1999),
            status,
        }
    }

    fn stored(status: HoldStatus) -> Option<Stored> {
        Some(Stored::Hold(hold(status)))
    }

    #[test]
    fn a_new_key_is_held() {
        assert_eq!(take(None, "u", amount("19.99")), Take::Hold);
    }

    #[test]
    fn the_same_hold_again_holds_nothing_more() {
        for status in [HoldStatus::Held, HoldStatus::Captured] {
            let again = take(stored(status).as_ref(), "u", amount("19.99"));
            assert_eq!(again, Take::Repeat(hold(status)));
        }
    }

    #[test]
    fn a_key_holds_one_user_and_one_amount() {
        let held = stored(HoldStatus::Held);
        assert_eq!(take(held.as_ref(), "u", amount("20")), Take::KeyReused);
        assert_eq!(take(held.as_ref(), "v", amount("19.99")), Take::KeyReused);
    }

    #[test]
    fn a_released_or_voided_key_stays_released() {
        let released = stored(HoldStatus::Released);
        assert_eq!(
            take(released.as_ref(), "u", amount("19.99")),
            Take::Released
        );
        assert_eq!(
            take(Some(&Stored::Void), "u", amount("19.99")),
            Take::Released
        );
    }

    #[test]
    fn a_hold_is_released_once() {
        assert_eq!(
            release(stored(HoldStatus::Held)),
            Release::GiveBack(hold(HoldStatus::Held))
        );
        assert_eq!(
            release(stored(HoldStatus::Released)),
            Release::Repeat(hold(HoldStatus::Released))
        );
    }

    #[test]
    fn a_captured_hold_is_never_released() {
        assert_eq!(release(stored(HoldStatus::Captured)), Release::Captured);
    }

    #[test]
    fn releasing_an_unknown_key_voids_it_and_it_stays_unknown() {
        assert_eq!(release(None), Release::Void);
        assert_eq!(release(Some(Stored::Void)), Release::NotFound);
    }

    #[test]
    fn a_hold_lowers_the_balance_and_spends_nothing() {
        let m = hold_movement("u", Money::from_cents(1999));
        assert_eq!(m.balance, Money::from_cents(-1999));
        assert_eq!((m.amount_spent, m.purchases_count), (Money::ZERO, 0));
        assert_eq!(m.reversed().balance, Money::from_cents(1999));
        assert!(balance_allows(Money::from_cents(1999), &m));
        assert!(!balance_allows(Money::from_cents(1998), &m));
    }

    #[test]
    fn a_hold_is_captured_once() {
        assert_eq!(
            capture(stored(HoldStatus::Held)),
            Capture::Spend(hold(HoldStatus::Held))
        );
        assert_eq!(
            capture(stored(HoldStatus::Captured)),
            Capture::Repeat(hold(HoldStatus::Captured))
        );
    }

    #[test]
    fn a_released_or_voided_hold_is_never_captured() {
        assert_eq!(capture(stored(HoldStatus::Released)), Capture::Released);
        assert_eq!(capture(Some(Stored::Void)), Capture::Released);
    }

    #[test]
    fn capturing_an_unknown_key_finds_nothing() {
        assert_eq!(capture(None), Capture::NotFound);
    }

    #[test]
    fn a_capture_spends_the_amount_once_without_touching_the_balance() {
        let m = capture_movement("u", Money::from_cents(1999));
        assert_eq!(m.balance, Money::ZERO);
        assert_eq!(m.amount_spent, Money::from_cents(1999));
        assert_eq!((m.purchases_count, m.sales_count), (1, 0));
        assert_eq!(m.amount_gained, Money::ZERO);
    }

    #[test]
    fn statuses_read_back_as_stored() {
        for status in [HoldStatus::Held, HoldStatus::Released, HoldStatus::Captured] {
            assert_eq!(HoldStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(HoldStatus::parse("void"), None);
    }

    #[test]
    fn a_receipt_names_the_status_in_lowercase() {
        let receipt = hold(HoldStatus::Held).receipt(Money::from_dollars(10));
        assert_eq!(
            serde_json::to_value(receipt).unwrap(),
            serde_json::json!({ "key": "checkout-1", "userId": "u", "amount": 19.99,
                                "status": "held", "balance": 10 })
        );
    }
}
