//! The listing fee, charged to the seller by auth's private fee endpoint (service chaining; no
//! public route leads there): `PUT /internal/v1/fees/{key}` charges once per key (201 now, 200
//! the same charge again, 400 balance too low, nothing charged), `DELETE` refunds once.

use crate::errors::ProductError;
use money::Money;
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};

const FEES_URL: &str = "http://auth.spin.internal/internal/v1/fees";

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

/// A fee charged (or nothing, for a zero fee); refund it if the product write then fails.
#[derive(Debug, Clone)]
pub struct Charge {
    key: Option<String>,
}

/// A fee key part unique to this request attempt (`product-update:{id}:{attempt}`). Keys are
/// never shared between requests: two concurrent requests that read the same version would
/// otherwise share one charge, and the one that loses the optimistic-lock race would refund
/// the winner's fee. A retry is recognised by its `Idempotency-Key` (the answer is replayed,
/// nothing charged), not by its fee key.
pub fn attempt() -> String {
    ids::new_id()
}

/// Charges `amount` to `user_id` under `key` (unique to this request: see [`attempt`]). A zero
/// amount charges nothing.
pub async fn charge(key: &str, user_id: &str, amount: Money) -> Result<Charge, ProductError> {
    if amount <= Money::ZERO {
        return Ok(Charge { key: None });
    }
    let body = serde_json::to_vec(&FeeBody { user_id, amount })
        .map_err(|e| ProductError::FeeUnavailable(e.to_string()))?;
    let request = Request::builder()
        .method(Method::Put)
        .uri(format!("{FEES_URL}/{key}"))
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| ProductError::FeeUnavailable(format!("{e:?}")))?;
    match *response.status() {
        200 | 201 => Ok(Charge {
            key: Some(key.to_owned()),
        }),
        400 => {
            let message = serde_json::from_slice::<ErrorBody>(response.body())
                .map(|b| b.message)
                .unwrap_or_else(|_| "Insufficient balance".into());
            Err(ProductError::InsufficientBalance(message))
        }
        status => Err(ProductError::FeeUnavailable(format!(
            "auth answered {status} for fee {key}"
        ))),
    }
}

impl Charge {
    /// Gives the fee back (the product write it paid for failed). Best effort: a failure is
    /// logged, and the key stays refundable by a later `DELETE`.
    pub async fn refund(self) {
        let Some(key) = self.key else { return };
        let request = Request::builder()
            .method(Method::Delete)
            .uri(format!("{FEES_URL}/{key}"))
            .build();
        match spin_sdk::http::send::<_, Response>(request).await {
            Ok(response) if *response.status() == 200 => {}
            Ok(response) => eprintln!("refund of fee {key}: auth answered {}", response.status()),
            Err(e) => eprintln!("refund of fee {key}: {e:?}"),
        }
    }
}

/// Runs `write` after charging the fee, refunding it if `write` fails: a request refunds only
/// the charge it made itself.
pub async fn charged<T>(
    key: &str,
    user_id: &str,
    amount: Money,
    write: impl FnOnce() -> Result<T, ProductError>,
) -> Result<T, ProductError> {
    let charge = charge(key, user_id, amount).await?;
    match write() {
        Ok(value) => Ok(value),
        Err(err) => {
            charge.refund().await;
            Err(err)
        }
    }
}
