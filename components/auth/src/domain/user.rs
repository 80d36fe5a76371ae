//! Users: names, roles, balances and the two JSON views (full for the user, public for others).

use auth_guard::Role;
use auth_guard::projection::IdentityRecord;
use email::Email;
use money::Money;
use serde::{Deserialize, Deserializer, Serialize};
use timestamp::Timestamp;

/// What every new account starts with: $4,000,000.00.
pub const STARTING_BALANCE: Money = Money::from_dollars(4_000_000);
/// What upgrading from NADMIN to ADMIN costs: $160,000.00.
pub const ADMIN_UPGRADE_PRICE: Money = Money::from_dollars(160_000);
/// The display name of the ANONYMOUS system user.
pub const ANONYMOUS_NAME: &str = "Anonymous";

/// A display name: 1–100 characters once surrounding whitespace is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

/// Why a string is not a user name (worded for `http-kit`'s "`field` must ..." messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be between 1 and {max} characters", max = UserName::MAX_CHARS)]
pub struct UserNameError;

impl UserName {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks the length.
    pub fn parse(input: &str) -> Result<Self, UserNameError> {
        let name = input.trim();
        let chars = name.chars().count();
        if (1..=Self::MAX_CHARS).contains(&chars) && !name.chars().any(char::is_control) {
            Ok(Self(name.to_owned()))
        } else {
            Err(UserNameError)
        }
    }

    /// A name built from outside data (Clerk) that may be empty or too long: cut to the
    /// maximum, or `fallback` when nothing usable is left.
    pub fn lenient(input: &str, fallback: &str) -> Self {
        let cleaned: String = input
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(Self::MAX_CHARS)
            .collect();
        Self::parse(&cleaned).unwrap_or_else(|_| Self(fallback.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The role a user may ask for (`update-user-role`); nobody can become ANONYMOUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RequestedRole {
    /// Seller.
    Admin,
    /// Shopper.
    Nadmin,
}

/// The stored form of a role (`ADMIN`, `NADMIN`, `ANONYMOUS`).
pub fn role_from_str(text: &str) -> Option<Role> {
    match text {
        "ADMIN" => Some(Role::Admin),
        "NADMIN" => Some(Role::Nadmin),
        "ANONYMOUS" => Some(Role::Anonymous),
        _ => None,
    }
}

/// A user as the auth database records them (password hashes are never part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: UserName,
    pub email: Option<Email>,
    pub clerk_id: Option<String>,
    pub role: Role,
    pub balance: Money,
    pub sales_count: i64,
    pub purchases_count: i64,
    pub amount_gained: Money,
    pub amount_spent: Money,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Our access tokens issued at or before this are refused (a Clerk identity took over
    /// the password account); `None` for most users.
    pub tokens_valid_after: Option<Timestamp>,
}

/// User JSON (`api-contract.md` §2). `email` appears only in the user's own view.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    role: Role,
    balance: Money,
    sales_count: i64,
    purchases_count: i64,
    amount_gained: Money,
    amount_spent: Money,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl User {
    fn view<'a>(&'a self, email: Option<&'a Email>) -> UserView<'a> {
        UserView {
            id: &self.id,
            name: self.name.as_str(),
            email: email.map(Email::as_str),
            role: self.role,
            balance: self.balance,
            sales_count: self.sales_count,
            purchases_count: self.purchases_count,
            amount_gained: self.amount_gained,
            amount_spent: self.amount_spent,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// What the user sees of themself.
    pub fn full_view(&self) -> UserView<'_> {
        self.view(self.email.as_ref())
    }

    /// What anyone else sees: never the email (nor the Clerk id or password, which no view has).
    pub fn public_view(&self) -> UserView<'_> {
        self.view(None)
    }

    /// The user as the `identity` projection carries them to every guard.
    pub fn identity_record(&self) -> IdentityRecord {
        IdentityRecord {
            user_id: self.id.clone(),
            role: self.role,
            clerk_id: self.clerk_id.clone(),
            name: self.name.as_str().to_owned(),
            tokens_valid_after: self.tokens_valid_after.map(Timestamp::millis),
        }
    }

    /// Whether one of our access tokens issued at `issued_at` (Unix seconds) still counts.
    pub fn accepts_token_issued_at(&self, issued_at: i64) -> bool {
        !auth_guard::revoked_by(issued_at, self.tokens_valid_after.map(Timestamp::millis))
    }

    /// Whether `reference` (`me`, an id or a Clerk id from `users/:id`) names this user.
    pub fn is_named_by(&self, reference: &str) -> bool {
        reference == "me" || reference == self.id || self.clerk_id.as_deref() == Some(reference)
    }
}

/// What `update-user-role` does to a user, decided from their current role and balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// Already in the requested role: nothing changes, nothing is charged.
    Unchanged,
    /// NADMIN → ADMIN, charging [`ADMIN_UPGRADE_PRICE`].
    PaidUpgrade,
    /// ADMIN → NADMIN, free (and not refunded).
    Downgrade,
    /// NADMIN → ADMIN without the balance for it.
    InsufficientBalance,
}

/// The rule for a role change.
pub fn role_change(current: Role, balance: Money, requested: RequestedRole) -> RoleChange {
    match (current, requested) {
        (Role::Admin, RequestedRole::Admin) | (Role::Nadmin, RequestedRole::Nadmin) => {
            RoleChange::Unchanged
        }
        (_, RequestedRole::Admin) if balance < ADMIN_UPGRADE_PRICE => {
            RoleChange::InsufficientBalance
        }
        (_, RequestedRole::Admin) => RoleChange::PaidUpgrade,
        (_, RequestedRole::Nadmin) => RoleChange::Downgrade,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_between_1_and_100_characters() {
        assert_eq!(UserName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert!(UserName::parse("").is_err());
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"é".repeat(100)).is_ok());
        assert!(UserName::parse(&"é".repeat(101)).is_err());
        assert!(UserName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn lenient_names_are_cut_or_replaced() {
        assert_eq!(
            UserName::lenient(&"x".repeat(150), "User").as_str().len(),
            100
        );
        assert_eq!(UserName::lenient("  ", "User").as_str(), "User");
    }

    #[test]
    fn upgrading_costs_the_price_once_and_needs_the_balance() {
        let price = ADMIN_UPGRADE_PRICE;
        assert_eq!(
            role_change(Role::Nadmin, price, RequestedRole::Admin),
            RoleChange::PaidUpgrade
        );
        assert_eq!(
            role_change(
                Role::Nadmin,
                Money::from_cents(price.cents() - 1),
                RequestedRole::Admin
            ),
            RoleChange::InsufficientBalance
        );
        assert_eq!(
            role_change(Role::Admin, Money::ZERO, RequestedRole::Admin),
            RoleChange::Unchanged
        );
        assert_eq!(
            role_change(Role::Admin, Money::ZERO, RequestedRole::Nadmin),
            RoleChange::Downgrade
        );
        assert_eq!(
            role_change(Role::Nadmin, Money::ZERO, RequestedRole::Nadmin),
            RoleChange::Unchanged
        );
    }

    #[test]
    fn the_upgrade_message_amount_reads_like_the_contract() {
        assert_eq!(ADMIN_UPGRADE_PRICE.to_string(), "$160,000.00");
    }
}
