//! Money and statistics movements applied once per idempotency key: product fees (charged by
//! `products` through a private chained endpoint, refundable by key) and, through the
//! `identity` WIT export, the order saga's transfers.

use money::Money;
use serde::{Deserialize, Serialize};

/// The key a movement is applied under: 1–200 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKey(String);

impl LedgerKey {
    /// Accepts 1–200 printable ASCII characters without spaces.
    pub fn parse(text: &str) -> Option<Self> {
        let ok =
            (1..=200).contains(&text.len()) && text.bytes().all(|b| (0x21..=0x7e).contains(&b));
        ok.then(|| Self(text.to_owned()))
    }

    /// The key as stored: `scope:raw`, so keys of different callers (fees from `products`,
    /// the saga's `apply`) can never collide.
    pub fn scoped(scope: &str, raw: &str) -> Option<Self> {
        Self::parse(raw).map(|raw| Self(format!("{scope}:{}", raw.0)))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Each user's balance after movements were applied or reverted, in order of first mention:
/// the result `apply` and `revert` store and answer every repeat with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    pub key: String,
    pub balances: Vec<(String, Money)>,
}

/// The users movements touch, each once, in order of first mention.
pub fn users_of(movements: &[Movement]) -> Vec<&str> {
    let mut users: Vec<&str> = Vec::new();
    for m in movements {
        if !users.contains(&m.user_id.as_str()) {
            users.push(&m.user_id);
        }
    }
    users
}

/// Changes to one user's money and counters. Deltas: negative balance = money leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub user_id: String,
    pub balance: Money,
    pub amount_spent: Money,
    pub amount_gained: Money,
    pub sales_count: i64,
    pub purchases_count: i64,
}

impl Movement {
    /// The movement that undoes this one.
    pub fn reversed(&self) -> Movement {
        Movement {
            user_id: self.user_id.clone(),
            balance: Money::from_cents(-self.balance.cents()),
            amount_spent: Money::from_cents(-self.amount_spent.cents()),
            amount_gained: Money::from_cents(-self.amount_gained.cents()),
            sales_count: -self.sales_count,
            purchases_count: -self.purchases_count,
        }
    }
}

/// Whether a balance may take a movement: money may only leave a balance that covers it.
pub fn balance_allows(balance: Money, movement: &Movement) -> bool {
    movement.balance.cents() >= 0 || balance.cents() + movement.balance.cents() >= 0
}

/// The fingerprint that tells a repeat of the same request from a different one under the
/// same key.
pub fn fingerprint(movements: &[Movement]) -> String {
    serde_json::to_string(movements).unwrap_or_default()
}

/// `PUT /internal/v1/fees/{key}`: what `products` sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FeeBody {
    pub user_id: String,
    pub amount: PositiveAmount,
}

/// An amount charged or held on a balance (a fee, a checkout's hold): more than zero. On the
/// wire, dollars as a JSON number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PositiveAmount(Money);

impl PositiveAmount {
    /// The amount as money.
    pub fn money(self) -> Money {
        self.0
    }
}

impl<'de> Deserialize<'de> for PositiveAmount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let money = Money::deserialize(deserializer)?;
        if money.cents() > 0 {
            Ok(Self(money))
        } else {
            Err(serde::de::Error::custom("must be greater than 0"))
        }
    }
}

/// A fee charge costs the user the amount and counts as money spent.
pub fn fee_movement(user_id: &str, amount: PositiveAmount) -> Movement {
    Movement {
        user_id: user_id.to_owned(),
        balance: Money::from_cents(-amount.money().cents()),
        amount_spent: amount.money(),
        amount_gained: Money::ZERO,
        sales_count: 0,
        purchases_count: 0,
    }
}

/// The state of a keyed amount on a user's balance, as the private endpoints answer it:
/// `status` is a [`FeeStatus`] or a hold's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt<S> {
    pub key: String,
    pub user_id: String,
    pub amount: Money,
    pub status: S,
    /// The user's balance right after this change (a fee's charge or refund), or now.
    pub balance: Money,
}

/// A fee's receipt, stored in the ledger and answered again on every repeat.
pub type FeeReceipt = Receipt<FeeStatus>;

/// Charged, or refunded by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeeStatus {
    Charged,
    Refunded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_takes_the_amount_from_the_balance_and_counts_it_as_spent() {
        let amount: PositiveAmount = serde_json::from_str("6400").unwrap();
        let m = fee_movement("u", amount);
        assert_eq!(m.balance, Money::from_dollars(-6400));
        assert_eq!(m.amount_spent, Money::from_dollars(6400));
        assert_eq!(m.reversed().reversed(), m);
    }

    #[test]
    fn charged_and_held_amounts_must_be_positive() {
        assert!(serde_json::from_str::<PositiveAmount>("0").is_err());
        assert!(serde_json::from_str::<PositiveAmount>("-1").is_err());
        assert!(serde_json::from_str::<PositiveAmount>("0.001").is_err());
    }

    #[test]
    fn money_may_only_leave_a_balance_that_covers_it() {
        let fee = |d| fee_movement("u", serde_json::from_str(d).unwrap());
        assert!(balance_allows(Money::from_dollars(10), &fee("10")));
        assert!(!balance_allows(Money::from_dollars(10), &fee("10.01")));
        assert!(balance_allows(Money::ZERO, &fee("1").reversed()));
    }

    #[test]
    fn scoped_keys_never_collide_across_scopes() {
        let fee = LedgerKey::scoped("fee", "k1").unwrap();
        let apply = LedgerKey::scoped("apply", "k1").unwrap();
        assert_ne!(fee, apply);
        assert_eq!(fee.as_str(), "fee:k1");
        assert!(LedgerKey::scoped("fee", "").is_none());
    }

    #[test]
    fn keys_are_printable_ascii() {
        assert!(LedgerKey::parse("fee:product-1:v2").is_some());
        assert!(LedgerKey::parse("").is_none());
        assert!(LedgerKey::parse("a b").is_none());
    }
}
