//! Sellers' display names (`admin.name`) for the products a response shows.

use crate::cache;
use crate::domain::Product;
use crate::errors::{ProductError, StoreError};
use auth_guard::{Role, projection};
use std::collections::BTreeSet;

/// Name shown for a seller the identity projection does not know (yet).
const UNKNOWN_SELLER: &str = "Unknown";

/// Sellers' display names from the `identity` projection, each looked up once per request,
/// and, for a cached body, the projection's names stamp read first (see `cache.rs`). Nothing is
/// read until needed: on Spin opening the store and each read are blocking host calls, and a
/// list with no products, or a read the cache does not keep, needs no store or no stamp.
#[derive(Default)]
pub struct SellerNames {
    store: Option<spin_sdk::key_value::Store>,
    pub stamp: Option<String>,
    pub names: cache::Sellers,
    /// Sellers the projection records as the ANONYMOUS user.
    anonymous: BTreeSet<String>,
}

impl SellerNames {
    /// Names for a body nobody caches: the stamp is never read.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names for a body the cache may keep: the stamp is read now, before any name.
    pub fn stamped() -> Result<Self, ProductError> {
        let mut names = Self::new();
        names.restart()?;
        Ok(names)
    }

    fn store(&mut self) -> Result<&spin_sdk::key_value::Store, ProductError> {
        match self.store {
            Some(ref store) => Ok(store),
            None => Ok(self.store.insert(projection::open()?)),
        }
    }

    /// Starts over for a body about to be built: the stamp read again, no names remembered.
    pub fn restart(&mut self) -> Result<(), ProductError> {
        self.stamp = projection::names_stamp(self.store()?)?;
        self.names.clear();
        self.anonymous.clear();
        Ok(())
    }

    fn name(&mut self, user_id: &str) -> Result<String, ProductError> {
        if let Some(name) = self.names.get(user_id) {
            return Ok(name.clone());
        }
        let record = projection::user(self.store()?, user_id)?;
        if record.as_ref().is_some_and(|r| r.role == Role::Anonymous) {
            self.anonymous.insert(user_id.to_owned());
        }
        let name = record.map_or_else(|| UNKNOWN_SELLER.to_owned(), |r| r.name);
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

    /// Whether `product`'s seller, looked up by an earlier view, is the ANONYMOUS user: the
    /// product is kept only for the orders that reference it and is no longer for sale.
    pub fn retired(&self, product: &Product) -> bool {
        self.anonymous.contains(&product.admin_id)
    }

    pub fn views(&mut self, products: &[Product]) -> Result<Vec<serde_json::Value>, ProductError> {
        products.iter().map(|p| self.view(p)).collect()
    }
}
