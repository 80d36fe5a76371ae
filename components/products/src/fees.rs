//! The listing fee, charged to the seller by auth's private fee endpoint (service chaining; no
//! public route leads there): `PUT /internal/v1/fees/{key}` charges once per key (201 now, 200
//! the same charge again, 400 balance too low, nothing charged), `DELETE` refunds once (and a
//! key never charged is voided: a charge under it arriving later is refused).
//!
//! The database and auth share no transaction, so every fee follows one protocol, which keeps
//! "fees charged = writes applied" through failed calls, failed writes and a host killed at
//! any instruction:
//! 1. the intent is recorded (`fee_intents`, `pending`) and committed *before* auth is called;
//! 2. auth charges under the request's own key;
//! 3. the write and the deletion of the pending intent commit in one transaction;
//! 4. anything else — the charge's outcome unknown, the write refused, the intent reclaimed —
//!    marks the fee owed back and refunds it; a refund that cannot reach auth stays owed.
//!
//! Owed refunds, and intents left pending by a request that died, are given back by
//! [`reconcile`], which every seller write runs first. A pending intent counts as abandoned
//! after [`ABANDONED_AFTER_MILLIS`]; reclaiming it makes step 3 of a request still alive fail,
//! so a slow request can never keep a write whose fee was given back.

use crate::errors::ProductError;
use crate::store::{self, fee_intents};
use money::Money;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

const FEES_URL: &str = "http://auth.spin.internal/internal/v1/fees";

/// How long a pending intent may wait for its write before it counts as abandoned: far more
/// than a charge and a write take, even queued behind SQLite's 5 s busy timeout.
pub const ABANDONED_AFTER_MILLIS: i64 = 60_000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeeBody<'a> {
    user_id: &'a str,
    amount: Money,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// A fee key part unique to this request attempt (`product-update:{id}:{attempt}`). Keys are
/// never shared between requests: two concurrent requests that read the same version would
/// otherwise share one charge, and the one that loses the optimistic-lock race would refund
/// the winner's fee. A retry is recognised by its `Idempotency-Key` (the answer is replayed,
/// nothing charged), not by its fee key.
pub fn attempt() -> String {
    ids::new_id()
}

/// The fee `amount` owed by `user_id` for a write, under `key` (unique to the request: see
/// [`attempt`]).
pub struct Fee<'a> {
    pub key: &'a str,
    pub user_id: &'a str,
    pub amount: Money,
}

/// Charges the fee, then runs `write` in a transaction that also settles it; a fee whose write
/// does not commit is given back. A zero fee charges nothing and just runs the transaction.
pub async fn charged<T>(
    db: &Connection,
    fee: Fee<'_>,
    write: impl FnOnce(&Connection) -> Result<T, ProductError>,
) -> Result<T, ProductError> {
    if fee.amount <= Money::ZERO {
        return store::transaction(db, write);
    }
    fee_intents::record(db, fee.key, fee.user_id, fee.amount, Timestamp::now())?;
    match charge(&fee).await {
        Ok(()) => {}
        // Auth refused and charged nothing.
        Err(err @ ProductError::InsufficientBalance(_)) => {
            fee_intents::forget(db, fee.key)?;
            return Err(err);
        }
        // Charged or not, nobody knows: refunding settles it either way (a refund of a key
        // never charged voids it, so a charge still on its way is refused when it arrives).
        Err(err) => {
            give_back(db, &fee).await;
            return Err(err);
        }
    }
    let written = store::transaction(db, |db| {
        let value = write(db)?;
        if !fee_intents::settle(db, fee.key)? {
            return Err(ProductError::FeeUnavailable(format!(
                "fee {} was given back while its write waited",
                fee.key
            )));
        }
        Ok(value)
    });
    if written.is_err() {
        give_back(db, &fee).await;
    }
    written
}

/// Gives back the fees owed: refunds that failed before, and fees of requests that died
/// between charging and writing. Best effort and bounded (a batch per call): what fails stays
/// owed for the next call.
pub async fn reconcile(db: &Connection) {
    let abandoned_before =
        Timestamp::from_millis(Timestamp::now().millis() - ABANDONED_AFTER_MILLIS);
    let keys = match fee_intents::due(db, abandoned_before) {
        Ok(keys) => keys,
        Err(e) => return eprintln!("fees: owed refunds unreadable: {e}"),
    };
    for key in keys {
        if !refund(&key).await {
            return; // auth is unreachable: the rest wait too.
        }
        if let Err(e) = fee_intents::forget(db, &key) {
            eprintln!(
                "fees: refund of {key} done but not recorded (it is repeated harmlessly): {e}"
            );
        }
    }
}

/// Asks auth to charge the fee.
async fn charge(fee: &Fee<'_>) -> Result<(), ProductError> {
    let body = serde_json::to_vec(&FeeBody {
        user_id: fee.user_id,
        amount: fee.amount,
    })
    .map_err(|e| ProductError::FeeUnavailable(e.to_string()))?;
    let request = Request::builder()
        .method(Method::Put)
        .uri(format!("{FEES_URL}/{}", fee.key))
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| ProductError::FeeUnavailable(format!("{e:?}")))?;
    match *response.status() {
        200 | 201 => Ok(()),
        400 => {
            let message = serde_json::from_slice::<ErrorBody>(response.body())
                .map(|b| b.message)
                .unwrap_or_else(|_| "Insufficient balance".into());
            Err(ProductError::InsufficientBalance(message))
        }
        status => Err(ProductError::FeeUnavailable(format!(
            "auth answered {status} for fee {}",
            fee.key
        ))),
    }
}

/// Records the fee as owed back, then refunds it; if auth cannot be reached the record stays
/// for [`reconcile`]. If even the record fails, the pending intent is still there and is
/// reclaimed as abandoned.
async fn give_back(db: &Connection, fee: &Fee<'_>) {
    if let Err(e) = fee_intents::owe_back(db, fee.key, fee.user_id, fee.amount, Timestamp::now()) {
        eprintln!("fees: fee {} owed back but not recorded yet: {e}", fee.key);
        return;
    }
    if refund(fee.key).await
        && let Err(e) = fee_intents::forget(db, fee.key)
    {
        eprintln!(
            "fees: refund of {} done but not recorded (it is repeated harmlessly): {e}",
            fee.key
        );
    }
}

/// Refunds the fee under `key`; `true` once auth confirms (refunded now or before, or never
/// charged and now void).
async fn refund(key: &str) -> bool {
    let request = Request::builder()
        .method(Method::Delete)
        .uri(format!("{FEES_URL}/{key}"))
        .build();
    match spin_sdk::http::send::<_, Response>(request).await {
        Ok(response) if matches!(*response.status(), 200 | 404) => true,
        Ok(response) => {
            eprintln!("fees: refund of {key}: auth answered {}", response.status());
            false
        }
        Err(e) => {
            eprintln!("fees: refund of {key}: {e:?}");
            false
        }
    }
}
