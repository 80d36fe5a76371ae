//! The `reen:cart/cart` WIT export: a user's lines and idempotent removals, over the same
//! store functions as the HTTP routes. Composed into an orchestrator it runs with that
//! component's grants and uses only the `cart` sqlite label (no HTTP: there is no service
//! chaining outside an HTTP component), so it knows product ids, not products.

use crate::errors::StoreError;
use crate::store;
use commerce_wit::cart::exports::reen::cart::cart::{CartLine, Guest};

struct Cart;

fn fail(e: StoreError) -> String {
    e.0
}

impl Guest for Cart {
    fn items(user_id: String) -> Result<Vec<CartLine>, String> {
        let db = store::open().map_err(fail)?;
        let items = store::items_of(&db, &user_id).map_err(fail)?;
        Ok(items
            .into_iter()
            .map(|item| CartLine {
                id: item.id,
                product_id: item.product_id,
                quantity: item.quantity,
            })
            .collect())
    }

    fn remove_lines(user_id: String, product_ids: Vec<String>) -> Result<u32, String> {
        let db = store::open().map_err(fail)?;
        store::remove_lines(&db, &user_id, &product_ids).map_err(fail)
    }

    fn clear(user_id: String) -> Result<u32, String> {
        let db = store::open().map_err(fail)?;
        store::clear(&db, &user_id).map_err(fail)
    }

    fn remove_product(product_id: String) -> Result<u32, String> {
        let db = store::open().map_err(fail)?;
        store::remove_product(&db, &product_id).map_err(fail)
    }
}

commerce_wit::cart::export!(Cart);
