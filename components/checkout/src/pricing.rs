//! The buyer's cart priced from the catalog, never from the client: the cart's lines
//! (`reen:cart/cart`), each product's current price, stock and seller (`reen:catalog/catalog`),
//! and whether the seller is the ANONYMOUS user (the `identity` projection). Lines the cart
//! read drops — the product gone, or handed to ANONYMOUS — are dropped here too and never
//! charged.

use crate::domain::Line;
use crate::errors::{CheckoutError, StoreError};
use auth_guard::Role;
use auth_guard::projection;
use commerce_wit::checkout::reen::cart::cart;
use commerce_wit::checkout::reen::catalog::catalog;
use std::collections::HashMap;

fn storage(what: &str, e: impl std::fmt::Display) -> CheckoutError {
    CheckoutError::Store(StoreError(format!("{what}: {e}")))
}

/// The buyer's lines, priced; 400 for an empty cart. Stock is checked by [`check_stock`] once
/// the buyer's previous checkout has given its units back.
pub fn price(buyer_id: &str) -> Result<Vec<Line>, CheckoutError> {
    let items = cart::items(buyer_id).map_err(|e| storage("cart", e))?;
    if items.is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    let ids: Vec<String> = items.iter().map(|i| i.product_id.clone()).collect();
    let products: HashMap<String, catalog::ProductSummary> = catalog::get_many(&ids)
        .map_err(|e| storage("catalog", e))?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let identities = projection::open()?;
    let mut anonymous: HashMap<String, bool> = HashMap::new();
    let mut lines = Vec::new();
    for item in items {
        let Some(product) = products.get(&item.product_id) else {
            continue;
        };
        let seller = &product.seller_id;
        if !anonymous.contains_key(seller) {
            let role = projection::user(&identities, seller)?.map(|r| r.role);
            anonymous.insert(seller.clone(), role == Some(Role::Anonymous));
        }
        if anonymous[seller] || seller == buyer_id {
            continue;
        }
        lines.push(Line {
            product_id: product.id.clone(),
            seller_id: seller.clone(),
            name: product.name.clone(),
            image_urls: product.image_urls.clone(),
            quantity: item.quantity,
            unit_price_cents: i64::try_from(product.price_cents)
                .map_err(|_| storage("catalog", "a price out of range"))?,
        });
    }
    if lines.is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    Ok(lines)
}

/// 409 naming every line whose available stock is below its quantity now (a product gone
/// since pricing counts as none left). The reservation after it is what guarantees the stock;
/// this names all short lines at once, where the reservation stops at the first.
pub fn check_stock(lines: &[Line]) -> Result<(), CheckoutError> {
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    let available: HashMap<String, u32> = catalog::get_many(&ids)
        .map_err(|e| storage("catalog", e))?
        .into_iter()
        .map(|p| (p.id, p.available))
        .collect();
    let short: Vec<String> = lines
        .iter()
        .filter(|l| available.get(&l.product_id).copied().unwrap_or(0) < l.quantity)
        .map(|l| l.name.clone())
        .collect();
    if short.is_empty() {
        Ok(())
    } else {
        Err(CheckoutError::OutOfStock(short))
    }
}
