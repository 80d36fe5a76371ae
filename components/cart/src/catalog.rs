//! Live product data from the products component's private batch lookup (service chaining;
//! no public route leads there): `POST /internal/v1/products/batch {ids}` (1–100 ids) answers
//! `200 {products}`, the Product JSON of each id that exists, in the order asked. One request
//! per cart read, however many lines the cart has.

use crate::domain::{CatalogProduct, MAX_ITEMS};
use crate::errors::CartError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};
use std::collections::HashMap;

const BATCH_URL: &str = "http://products.spin.internal/internal/v1/products/batch";

#[derive(Serialize)]
struct BatchRequest<'a> {
    ids: &'a [&'a str],
}

#[derive(Deserialize)]
struct BatchAnswer {
    products: Vec<Value>,
}

fn unavailable(detail: impl Into<String>) -> CartError {
    CartError::CatalogUnavailable(detail.into())
}

/// The products with these ids (at most [`MAX_ITEMS`], no repeats) that still exist, by id.
/// Unreachable, a non-200 answer or an unreadable one: [`CartError::CatalogUnavailable`].
pub async fn products(ids: &[&str]) -> Result<HashMap<String, CatalogProduct>, CartError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    if ids.len() > MAX_ITEMS {
        // The cart caps its lines at the batch size, so this is a bug, not a client error.
        return Err(CartError::Store(crate::errors::StoreError(format!(
            "{} product ids in one batch (at most {MAX_ITEMS})",
            ids.len()
        ))));
    }
    let body = serde_json::to_vec(&BatchRequest { ids }).map_err(|e| unavailable(e.to_string()))?;
    let request = Request::builder()
        .method(Method::Post)
        .uri(BATCH_URL)
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{BATCH_URL}: {e:?}")))?;
    if *response.status() != 200 {
        return Err(unavailable(format!(
            "{BATCH_URL} answered {}: {}",
            response.status(),
            String::from_utf8_lossy(response.body())
        )));
    }
    let answer: BatchAnswer = serde_json::from_slice(response.body())
        .map_err(|e| unavailable(format!("{BATCH_URL}: unreadable answer: {e}")))?;
    answer
        .products
        .into_iter()
        .map(|json| {
            CatalogProduct::try_from(json)
                .map(|p| (p.id.clone(), p))
                .map_err(|e| unavailable(format!("{BATCH_URL}: {e}")))
        })
        .collect()
}

/// One product, if it still exists.
pub async fn product(id: &str) -> Result<Option<CatalogProduct>, CartError> {
    Ok(products(&[id]).await?.remove(id))
}
