//! What a checkout holds while the buyer pays: the stock of every line (the catalog's
//! reservation, keyed by the checkout id, through `reen:catalog/catalog`) and the total on the
//! buyer's balance (auth's private hold endpoint, keyed by the checkout id, by service
//! chaining). Both are idempotent per key, so taking or releasing again is harmless, and a
//! release of a hold never taken voids its key at auth (a late hold request is refused).

use crate::domain::Checkout;
use crate::errors::CheckoutError;
use commerce_wit::checkout::reen::catalog::catalog;
use money::Money;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};

const HOLDS_URL: &str = "http://auth.spin.internal/internal/v1/holds";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HoldBody<'a> {
    user_id: &'a str,
    amount: Money,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

fn unavailable(what: impl std::fmt::Display) -> CheckoutError {
    CheckoutError::Unavailable(what.to_string())
}

/// Reserves the lines' stock until `until_ms`, then holds the total on the buyer's balance;
/// a refusal of either leaves nothing held. A product whose stock went while the buyer was
/// being priced is named in the 409.
pub async fn take(checkout: &Checkout, until_ms: i64) -> Result<(), CheckoutError> {
    reserve(checkout, until_ms)?;
    if let Err(e) = hold_balance(checkout).await {
        let _ = catalog::release(&checkout.id);
        return Err(e);
    }
    Ok(())
}

/// The stock reservation, also to pin it longer (a payment that takes days).
pub fn reserve(checkout: &Checkout, until_ms: i64) -> Result<(), CheckoutError> {
    let lines: Vec<catalog::Line> = checkout
        .lines
        .iter()
        .map(|l| catalog::Line {
            product_id: l.product_id.clone(),
            quantity: l.quantity,
        })
        .collect();
    let name_of = |id: &str| {
        checkout
            .lines
            .iter()
            .find(|l| l.product_id == id)
            .map_or_else(|| id.to_owned(), |l| l.name.clone())
    };
    match catalog::reserve(&checkout.id, &lines, until_ms) {
        Ok(()) => Ok(()),
        Err(
            catalog::ReserveError::InsufficientStock(id)
            | catalog::ReserveError::UnknownProduct(id),
        ) => Err(CheckoutError::OutOfStock(vec![name_of(&id)])),
        Err(catalog::ReserveError::Invalid(e) | catalog::ReserveError::Storage(e)) => Err(
            CheckoutError::Store(crate::errors::StoreError(format!("reserve: {e}"))),
        ),
    }
}

async fn hold_balance(checkout: &Checkout) -> Result<(), CheckoutError> {
    let body = serde_json::to_vec(&HoldBody {
        user_id: &checkout.buyer_id,
        amount: checkout.total,
    })
    .map_err(unavailable)?;
    let request = Request::builder()
        .method(Method::Put)
        .uri(format!("{HOLDS_URL}/{}", checkout.id))
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    match *response.status() {
        200 | 201 => Ok(()),
        400 => Err(CheckoutError::InsufficientBalance(
            serde_json::from_slice::<ErrorBody>(response.body())
                .map(|b| b.message)
                .unwrap_or_else(|_| "Insufficient balance".into()),
        )),
        // The key was released: a newer checkout of the buyer replaced this one meanwhile.
        409 => Err(CheckoutError::Replaced),
        status => Err(unavailable(format!(
            "auth answered {status} to hold {}",
            checkout.id
        ))),
    }
}

/// Gives the stock and the balance back; `Ok` once both are confirmed released (or were
/// never held). A hold the saga already captured is not released (auth answers 409).
pub async fn release(checkout_id: &str) -> Result<(), CheckoutError> {
    match catalog::release(checkout_id) {
        Ok(()) | Err(catalog::SettleError::UnknownReservation(_)) => {}
        // Committed: the saga turned it into a sale; nothing to give back.
        Err(catalog::SettleError::WrongState(_)) => {}
        Err(catalog::SettleError::Storage(e)) => return Err(unavailable(format!("release: {e}"))),
    }
    let request = Request::builder()
        .method(Method::Delete)
        .uri(format!("{HOLDS_URL}/{checkout_id}"))
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    match *response.status() {
        200 | 404 => Ok(()),
        status => Err(unavailable(format!(
            "auth answered {status} to releasing hold {checkout_id}"
        ))),
    }
}
