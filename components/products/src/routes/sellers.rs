//! Sellers' display names (`admin.name`) for the products a response shows.

use crate::cache;
use crate::domain::Product;
use crate::errors::{ProductError, StoreError};
use auth_guard::projection;

/// Name shown for a seller the identity projection does not know (yet).
const UNKNOWN_SELLER: &str = "Unknown";

/// Sellers' display names from the `identity` projection, each looked up once per request,
/// and the projection's names stamp, read first (see `cache.rs`).
pub struct SellerNames {
    store: spin_sdk::key_value::Store,
    pub stamp: Option<String>,
    pub names: cache::Sellers,
}

impl SellerNames {
    pub fn open() -> Result<Self, ProductError> {
        let store = projection::open()?;
        Ok(Self {
            stamp: projection::names_stamp(&store)?,
            store,
            names: cache::Sellers::new(),
        })
    }

    /// Starts over for a body about to be built: the stamp read again, no names remembered.
    pub fn restart(&mut self) -> Result<(), ProductError> {
        self.stamp = projection::names_stamp(&self.store)?;
        self.names.clear();
        Ok(())
    }

    fn name(&mut self, user_id: &str) -> Result<String, ProductError> {
        if let Some(name) = self.names.get(user_id) {
            return Ok(name.clone());
        }
        let name = projection::user(&self.store, user_id)?
            .map(|r| r.name)
            .unwrap_or_else(|| UNKNOWN_SELLER.to_owned());
        self.names.insert(user_id.to_owned(), name.clone());
        Ok(name)
    }

    /// Looks a seller's name up now, so that views of their products need no lookup later.
    pub fn remember(&mut self, user_id: &str) -> Result<(), ProductError> {
        self.name(user_id).map(drop)
    }

    /// Whether every seller still has the name a cached body shows: no name changed since
    /// its stamp, or else each of its sellers' names is the same.
    pub fn unchanged(&mut self, hit: &cache::Hit) -> Result<bool, ProductError> {
        if hit.names_stamp.is_some() && hit.names_stamp == self.stamp {
            return Ok(true);
        }
        for (id, name) in &hit.sellers {
            if self.name(id)? != *name {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn view(&mut self, product: &Product) -> Result<serde_json::Value, ProductError> {
        let name = self.name(&product.admin_id)?;
        serde_json::to_value(product.view(&name))
            .map_err(|e| ProductError::Store(StoreError(e.to_string())))
    }

    pub fn views(&mut self, products: &[Product]) -> Result<Vec<serde_json::Value>, ProductError> {
        products.iter().map(|p| self.view(p)).collect()
    }
}
