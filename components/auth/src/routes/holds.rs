//! Balance holds, taken by `checkout` through service chaining (no public route leads here):
//! `PUT /internal/v1/holds/{key}` holds a buyer's total under our checkout id once, `DELETE`
//! gives it back once.

use crate::domain::holds::HoldBody;
use crate::domain::ledger::LedgerKey;
use crate::errors::AuthError;
use crate::store::holds::{Released, Taken};
use crate::store::{self};
use http_kit::{json, parse_json};
use spin_sdk::http::{Request, Response};
use timestamp::Timestamp;

/// PUT /internal/v1/holds/{key} — 201 held now (the balance dropped), 200 the same hold again
/// (held or captured; nothing more held), 400 balance too low (nothing held), 404 unknown
/// user, 409 the key was released, 422 the key holds another user or amount.
pub async fn hold(req: Request, key: &str) -> Result<Response, AuthError> {
    let key = super::path_key(LedgerKey::parse(key))?;
    let body: HoldBody = parse_json(req.body())?;
    let db = store::open()?;
    let taken = store::holds::take(&db, &key, &body.user_id, body.amount, Timestamp::now())?;
    match taken {
        Taken::Now(receipt) => Ok(json(201, &receipt)),
        Taken::Before(receipt) => Ok(json(200, &receipt)),
        Taken::KeyReused => Err(AuthError::LedgerKeyReused(key.as_str().to_owned())),
        Taken::Released => Err(AuthError::HoldReleased(key.as_str().to_owned())),
        Taken::InsufficientBalance { balance } => Err(AuthError::InsufficientBalance {
            amount: body.amount.money(),
            balance,
        }),
        Taken::UnknownUser => Err(AuthError::UserNotFound(body.user_id)),
    }
}

/// DELETE /internal/v1/holds/{key} — 200 released (the amount is back) and 200 again with
/// nothing moved, 409 captured by an order, 404 never held (the key is void from now on).
pub async fn release(key: &str) -> Result<Response, AuthError> {
    let key = super::path_key(LedgerKey::parse(key))?;
    let db = store::open()?;
    match store::holds::release(&db, &key, Timestamp::now())? {
        Released::Now(receipt) | Released::Before(receipt) => Ok(json(200, &receipt)),
        Released::Captured => Err(AuthError::HoldCaptured(key.as_str().to_owned())),
        Released::NotFound => Err(AuthError::HoldNotFound(key.as_str().to_owned())),
    }
}
