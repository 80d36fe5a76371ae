//! Live product data for components that show products (cart lines, order lines): the
//! products component's private batch lookup by service chaining (no public route leads
//! there). `POST /internal/v1/products/batch {ids}` takes 1–100 ids and answers
//! `200 {products, retired}`: the Product JSON of each id that exists, as `GET /products/:id`
//! shows it, in the order asked, and the ids of those the ANONYMOUS user owns (kept only for
//! the orders that reference them). One request per 100 ids, however many lines a page has.
//!
//! The component must be allowed `http://products.spin.internal`.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};
use std::collections::HashSet;

const BATCH_URL: &str = "http://products.spin.internal/internal/v1/products/batch";

/// Most ids one batch request may carry.
pub const MAX_IDS: usize = 100;

/// The products component could not be reached or gave no usable answer; the text says how
/// (for the log, not for clients).
#[derive(Debug, thiserror::Error)]
#[error("product catalog: {0}")]
pub struct Unavailable(pub String);

impl Unavailable {
    /// What a client is told instead (the detail is only logged).
    pub const PUBLIC_MESSAGE: &str = "Product catalog is unavailable; try again shortly";
    /// `Retry-After` seconds: the catalog is usually back within moments (a redeploy, a
    /// restart).
    pub const RETRY_AFTER_SECS: &str = "1";
}

#[derive(Serialize)]
struct BatchRequest<'a> {
    ids: &'a [&'a str],
}

#[derive(Deserialize)]
struct BatchAnswer {
    products: Vec<Value>,
    retired: HashSet<String>,
}

/// A product as the catalog shows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The Product JSON, exactly as `GET /api/v1/products/:id` answers it.
    pub json: Value,
    /// Owned by the ANONYMOUS user: kept only for the orders that reference it, not for sale.
    pub retired: bool,
}

/// Each of `ids` that still exists, in the order asked. Ids should not repeat (products
/// answers each once).
pub async fn products(ids: &[&str]) -> Result<Vec<Listing>, Unavailable> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_IDS) {
        found.extend(batch(chunk).await?);
    }
    Ok(found)
}

async fn batch(ids: &[&str]) -> Result<Vec<Listing>, Unavailable> {
    let body = serde_json::to_vec(&BatchRequest { ids }).map_err(|e| Unavailable(e.to_string()))?;
    let request = Request::builder()
        .method(Method::Post)
        .uri(BATCH_URL)
        .header("content-type", "application/json")
        .body(body)
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| Unavailable(format!("{BATCH_URL}: {e:?}")))?;
    if *response.status() != 200 {
        return Err(Unavailable(format!(
            "{BATCH_URL} answered {}: {}",
            response.status(),
            String::from_utf8_lossy(response.body())
        )));
    }
    let answer: BatchAnswer = serde_json::from_slice(response.body())
        .map_err(|e| Unavailable(format!("{BATCH_URL}: unreadable answer: {e}")))?;
    Ok(answer
        .products
        .into_iter()
        .map(|json| {
            let retired = json["id"]
                .as_str()
                .is_some_and(|id| answer.retired.contains(id));
            Listing { json, retired }
        })
        .collect())
}
