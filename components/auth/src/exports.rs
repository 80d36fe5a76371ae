//! The `reen:identity/identity` WIT export: user look-ups, money movements applied once per
//! key, checkout's balance holds captured or released, and account deletions completed, over
//! the same domain and store functions as the HTTP routes. Composed into an orchestrator it
//! runs with that component's grants (the `auth` sqlite label, the `identity` store).

use crate::domain::holds::Hold;
use crate::domain::ledger::{Balances, LedgerKey, Movement, users_of};
use crate::domain::user::User;
use crate::errors::StoreError;
use crate::store::deletions::Completion;
use crate::store::holds::{Captured, Released};
use crate::store::ledger::{Applied, Reversed};
use crate::store::{self};
use auth_guard::Role;
use commerce_wit::auth::exports::reen::identity::identity::{
    self as wit, ApplyError, Guest, HoldError, StorageError,
};
use money::Money;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The ledger scope of `apply` keys (fees have their own).
const SCOPE: &str = "apply";

struct Identity;

fn storage(e: StoreError) -> StorageError {
    e.0
}

fn role(role: Role) -> wit::Role {
    match role {
        Role::Admin => wit::Role::Admin,
        Role::Nadmin => wit::Role::Nadmin,
        Role::Anonymous => wit::Role::Anonymous,
    }
}

fn user(u: User) -> wit::User {
    wit::User {
        email: u.email.map(|e| e.as_str().to_owned()),
        name: u.name.as_str().to_owned(),
        clerk_id: u.clerk_id,
        role: role(u.role),
        balance_cents: u.balance.cents(),
        sales_count: u.sales_count,
        purchases_count: u.purchases_count,
        amount_gained_cents: u.amount_gained.cents(),
        amount_spent_cents: u.amount_spent.cents(),
        id: u.id,
    }
}

fn movement(m: wit::Movement) -> Movement {
    Movement {
        user_id: m.user_id,
        balance: Money::from_cents(m.balance_cents),
        amount_spent: Money::from_cents(m.amount_spent_cents),
        amount_gained: Money::from_cents(m.amount_gained_cents),
        sales_count: m.sales_count,
        purchases_count: m.purchases_count,
    }
}

fn applied(b: Balances) -> wit::Applied {
    wit::Applied {
        key: b.key,
        balances: b
            .balances
            .into_iter()
            .map(|(user_id, balance)| wit::Balance {
                user_id,
                balance_cents: balance.cents(),
            })
            .collect(),
    }
}

fn hold(h: Hold) -> wit::Hold {
    wit::Hold {
        key: h.key,
        user_id: h.user_id,
        amount_cents: h.amount.cents(),
    }
}

/// A hold key as checkout's `/internal/v1/holds/{key}` takes it (unscoped: the same hold). A
/// key that route refuses was never held.
fn hold_key(key: &str) -> Result<LedgerKey, HoldError> {
    LedgerKey::parse(key).ok_or(HoldError::NotFound)
}

/// The balances of `users` now, as the stored result of `raw_key`.
fn balances(db: &Connection, raw_key: &str, users: &[&str]) -> Result<Balances, StoreError> {
    let mut balances = Vec::new();
    for id in users {
        let balance = store::users::balance(db, id)?.unwrap_or_default();
        balances.push(((*id).to_owned(), balance));
    }
    Ok(Balances {
        key: raw_key.to_owned(),
        balances,
    })
}

impl Guest for Identity {
    fn get_user(id: String) -> Result<Option<wit::User>, StorageError> {
        let db = store::open().map_err(storage)?;
        Ok(store::users::find_live(&db, &id)
            .map_err(storage)?
            .map(user))
    }

    fn get_users(ids: Vec<String>) -> Result<Vec<wit::User>, StorageError> {
        let db = store::open().map_err(storage)?;
        let mut users = Vec::new();
        for id in ids {
            if let Some(u) = store::users::find_live(&db, &id).map_err(storage)? {
                users.push(user(u));
            }
        }
        Ok(users)
    }

    fn get_user_by_clerk_id(clerk_id: String) -> Result<Option<wit::User>, StorageError> {
        let db = store::open().map_err(storage)?;
        match store::users::find_by_clerk_id(&db, &clerk_id).map_err(storage)? {
            store::users::ClerkLookup::Live(u) => Ok(Some(user(u))),
            _ => Ok(None),
        }
    }

    fn anonymous_user_id() -> Result<String, StorageError> {
        let db = store::open().map_err(storage)?;
        let anonymous = store::users::ensure_anonymous(&db, Timestamp::now()).map_err(storage)?;
        store::projection::publish(&db, &anonymous).map_err(storage)?;
        Ok(anonymous.id)
    }

    fn complete_deletion(user_id: String) -> Result<wit::Deletion, StorageError> {
        let db = store::open().map_err(storage)?;
        match store::deletions::complete(&db, &user_id, Timestamp::now()).map_err(storage)? {
            Completion::Now(user) => {
                // Withdrawn when the deletion was requested; again here, in case that write
                // was lost (it is idempotent).
                store::projection::withdraw(&user).map_err(storage)?;
                Ok(wit::Deletion::Completed)
            }
            Completion::Before => Ok(wit::Deletion::AlreadyCompleted),
            Completion::NotRequested => Ok(wit::Deletion::NotRequested),
        }
    }

    fn capture_hold(key: String) -> Result<wit::Hold, HoldError> {
        let key = hold_key(&key)?;
        let db = store::open().map_err(|e| HoldError::Storage(e.0))?;
        match store::holds::capture(&db, &key, Timestamp::now())
            .map_err(|e| HoldError::Storage(e.0))?
        {
            Captured::Now(h) | Captured::Before(h) => Ok(hold(h)),
            Captured::Released => Err(HoldError::Released),
            Captured::NotFound => Err(HoldError::NotFound),
            Captured::UnknownUser(user_id) => Err(HoldError::UnknownUser(user_id)),
        }
    }

    /// The same operation as checkout's `DELETE /internal/v1/holds/{key}`.
    fn release_hold(key: String) -> Result<(), HoldError> {
        let key = hold_key(&key)?;
        let db = store::open().map_err(|e| HoldError::Storage(e.0))?;
        match store::holds::release(&db, &key, Timestamp::now())
            .map_err(|e| HoldError::Storage(e.0))?
        {
            Released::Now(_) | Released::Before(_) => Ok(()),
            Released::Captured => Err(HoldError::Captured),
            Released::NotFound => Err(HoldError::NotFound),
        }
    }

    fn apply(key: String, movements: Vec<wit::Movement>) -> Result<wit::Applied, ApplyError> {
        let scoped = LedgerKey::scoped(SCOPE, &key).ok_or(ApplyError::InvalidKey)?;
        let movements: Vec<Movement> = movements.into_iter().map(movement).collect();
        let db = store::open().map_err(|e| ApplyError::Storage(e.0))?;
        let users = users_of(&movements);
        let outcome = store::ledger::apply(&db, &scoped, &movements, Timestamp::now(), |db| {
            balances(db, &key, &users)
        })
        .map_err(|e| ApplyError::Storage(e.0))?;
        match outcome {
            Applied::Now(b) | Applied::Before(b) => Ok(applied(b)),
            Applied::KeyReused => Err(ApplyError::KeyReused),
            Applied::InsufficientBalance { user_id } => {
                Err(ApplyError::InsufficientBalance(user_id))
            }
            Applied::UnknownUser { user_id } => Err(ApplyError::UnknownUser(user_id)),
        }
    }

    fn revert(key: String) -> Result<wit::Applied, ApplyError> {
        let scoped = LedgerKey::scoped(SCOPE, &key).ok_or(ApplyError::InvalidKey)?;
        let db = store::open().map_err(|e| ApplyError::Storage(e.0))?;
        let outcome = store::ledger::reverse(&db, &scoped, Timestamp::now(), |db, movements| {
            balances(db, &key, &users_of(movements))
        })
        .map_err(|e| ApplyError::Storage(e.0))?;
        match outcome {
            Reversed::Now(b) | Reversed::Before(b) => Ok(applied(b)),
            Reversed::NotFound => Err(ApplyError::UnknownKey),
        }
    }
}

commerce_wit::auth::export!(Identity);
