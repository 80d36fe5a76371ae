//! Live product data for cart lines, from products' private batch lookup (`catalog-client`):
//! one request per cart read, however many lines the cart has.

use crate::domain::CatalogProduct;
use crate::errors::CartError;
use std::collections::HashMap;

/// The products with these ids (no repeats) that still exist, by id. Unreachable, a non-200
/// answer or an unreadable one: [`CartError::CatalogUnavailable`].
pub async fn products(ids: &[&str]) -> Result<HashMap<String, CatalogProduct>, CartError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let unavailable = |detail: String| CartError::CatalogUnavailable(detail);
    catalog_client::products(ids)
        .await
        .map_err(|e| unavailable(e.0))?
        .into_iter()
        .map(|listing| {
            CatalogProduct::try_from(listing.json)
                .map(|mut product| {
                    product.retired = listing.retired;
                    (product.id.clone(), product)
                })
                .map_err(|e| unavailable(format!("unreadable product: {e}")))
        })
        .collect()
}

/// One product, if it still exists.
pub async fn product(id: &str) -> Result<Option<CatalogProduct>, CartError> {
    Ok(products(&[id]).await?.remove(id))
}
