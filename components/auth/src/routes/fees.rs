//! Product fees, charged by `products` through service chaining (no public route leads
//! here): `PUT /internal/v1/fees/{key}` charges once per key, `DELETE` refunds once.

use crate::domain::ledger::{FeeBody, FeeReceipt, FeeStatus, LedgerKey, fee_movement};
use crate::errors::{AuthError, StoreError};
use crate::store::ledger::{Applied, Reversed};
use crate::store::{self};
use http_kit::{json, parse_json};
use money::Money;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The ledger scope of fee keys.
const SCOPE: &str = "fee";

fn receipt(
    db: &Connection,
    key: &str,
    user_id: &str,
    amount: Money,
    status: FeeStatus,
) -> Result<FeeReceipt, StoreError> {
    let balance = store::users::balance(db, user_id)?.unwrap_or_default();
    Ok(FeeReceipt {
        key: key.to_owned(),
        user_id: user_id.to_owned(),
        amount,
        status,
        balance,
    })
}

/// PUT /internal/v1/fees/{key} — 201 charged now, 200 the same charge again, 400 balance too
/// low (nothing charged), 404 unknown user, 422 the key was used for another charge.
pub async fn charge(req: Request, key: &str) -> Result<Response, AuthError> {
    let scoped = super::path_key(LedgerKey::scoped(SCOPE, key))?;
    let body: FeeBody = parse_json(req.body())?;
    let movement = fee_movement(&body.user_id, body.amount);
    let db = store::open()?;
    let now = Timestamp::now();
    let applied = store::ledger::apply(&db, &scoped, std::slice::from_ref(&movement), now, |db| {
        receipt(
            db,
            key,
            &body.user_id,
            body.amount.money(),
            FeeStatus::Charged,
        )
    })?;
    match applied {
        Applied::Now(receipt) => Ok(json(201, &receipt)),
        Applied::Before(receipt) => Ok(json(200, &receipt)),
        Applied::KeyReused => Err(AuthError::LedgerKeyReused(key.to_owned())),
        Applied::InsufficientBalance { user_id } => Err(AuthError::InsufficientBalance {
            amount: body.amount.money(),
            balance: store::users::balance(&db, &user_id)?.unwrap_or_default(),
        }),
        Applied::UnknownUser { user_id } => Err(AuthError::UserNotFound(user_id)),
    }
}

/// DELETE /internal/v1/fees/{key} — refunds a charge once; 200 both times, 404 unknown key.
pub async fn refund(key: &str) -> Result<Response, AuthError> {
    let scoped = super::path_key(LedgerKey::scoped(SCOPE, key))?;
    let db = store::open()?;
    let reversed = store::ledger::reverse(&db, &scoped, Timestamp::now(), |db, movements| {
        let (user_id, amount) = movements
            .first()
            .map(|m| (m.user_id.clone(), m.amount_spent))
            .unwrap_or_default();
        receipt(db, key, &user_id, amount, FeeStatus::Refunded)
    })?;
    match reversed {
        Reversed::Now(receipt) | Reversed::Before(receipt) => Ok(json(200, &receipt)),
        Reversed::NotFound => Err(AuthError::FeeNotFound(key.to_owned())),
    }
}
