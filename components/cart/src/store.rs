//! All SQL of the cart component, on its own database (label `cart`). Each request (or WIT
//! call) opens one connection; the schema migrates itself on first use (Spin has no migration
//! hook). The `Idempotency-Key` table lives here too, created by the idempotency crate.

use crate::domain::{CartItem, ProductId, Quantity};
use crate::errors::StoreError;
use spin_sdk::sqlite3::{Connection, Row, Value};
use timestamp::Timestamp;

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "cart";

/// Every schema version in order. Append; never edit a released one.
const MIGRATIONS: &[sqlite_store::Migration] = &[(
    1,
    &[
        "CREATE TABLE cart_items (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            product_id TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
        // One line per product in a cart: concurrent adds of the same product end with one
        // line whatever the timing. Also the index of a user's cart.
        "CREATE UNIQUE INDEX cart_items_user_product ON cart_items (user_id, product_id)",
        // Removing a product from every cart (`remove-product`).
        "CREATE INDEX cart_items_product ON cart_items (product_id)",
    ],
)];

/// Opens the database, bringing its schema up to date first (idempotent).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    sqlite_store::migrate(&db, MIGRATIONS)?;
    Ok(db)
}

pub use sqlite_store::transaction;

use sqlite_store::{int, text};

const COLUMNS: &str = "id, user_id, product_id, quantity, created_at, updated_at";

fn decode(row: &Row<'_>) -> Result<CartItem, StoreError> {
    let bad = |what: &str| StoreError(format!("cart_items row has a bad {what}"));
    let text_col = |name: &str| row.get::<&str>(name).ok_or_else(|| bad(name));
    let int_col = |name: &str| row.get::<i64>(name).ok_or_else(|| bad(name));
    Ok(CartItem {
        id: text_col("id")?.to_owned(),
        user_id: text_col("user_id")?.to_owned(),
        product_id: text_col("product_id")?.to_owned(),
        quantity: u32::try_from(int_col("quantity")?).map_err(|_| bad("quantity"))?,
        created_at: Timestamp::from_millis(int_col("created_at")?),
        updated_at: Timestamp::from_millis(int_col("updated_at")?),
    })
}

/// The user's cart, oldest line first.
pub fn items_of(db: &Connection, user_id: &str) -> Result<Vec<CartItem>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM cart_items WHERE user_id = ? ORDER BY created_at, id");
    let result = db.execute(&sql, &[text(user_id)])?;
    result.rows().map(|row| decode(&row)).collect()
}

/// One line of the user's cart (another user's line is as absent as a missing one).
pub fn find_item(db: &Connection, user_id: &str, id: &str) -> Result<Option<CartItem>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM cart_items WHERE user_id = ? AND id = ?");
    let result = db.execute(&sql, &[text(user_id), text(id)])?;
    result.rows().next().map(|row| decode(&row)).transpose()
}

/// How many lines the user's cart holds.
pub fn count_items(db: &Connection, user_id: &str) -> Result<usize, StoreError> {
    let result = db.execute(
        "SELECT COUNT(*) AS n FROM cart_items WHERE user_id = ?",
        &[text(user_id)],
    )?;
    let n = result.rows().next().and_then(|r| r.get::<i64>("n"));
    Ok(usize::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Adds a line, unless the cart already has one for this product (`None`): the unique index
/// decides, so two concurrent adds cannot both succeed.
pub fn insert_item(
    db: &Connection,
    user_id: &str,
    product_id: &ProductId,
    quantity: Quantity,
    now: Timestamp,
) -> Result<Option<CartItem>, StoreError> {
    let item = CartItem {
        id: ids::new_id(),
        user_id: user_id.to_owned(),
        product_id: product_id.as_str().to_owned(),
        quantity: quantity.get(),
        created_at: now,
        updated_at: now,
    };
    db.execute(
        "INSERT INTO cart_items (id, user_id, product_id, quantity, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, product_id) DO NOTHING",
        &[
            text(&item.id),
            text(&item.user_id),
            text(&item.product_id),
            int(i64::from(item.quantity)),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    Ok((db.changes() == 1).then_some(item))
}

/// Sets the quantity of the user's line (`None`: it is gone).
pub fn set_quantity(
    db: &Connection,
    item: &CartItem,
    quantity: Quantity,
    now: Timestamp,
) -> Result<Option<CartItem>, StoreError> {
    db.execute(
        "UPDATE cart_items SET quantity = ?, updated_at = ? WHERE user_id = ? AND id = ?",
        &[
            int(i64::from(quantity.get())),
            int(now.millis()),
            text(&item.user_id),
            text(&item.id),
        ],
    )?;
    find_item(db, &item.user_id, &item.id)
}

fn removed(db: &Connection) -> u32 {
    u32::try_from(db.changes()).unwrap_or(u32::MAX)
}

/// Deletes the user's line; whether it was there.
pub fn delete_item(db: &Connection, user_id: &str, id: &str) -> Result<bool, StoreError> {
    db.execute(
        "DELETE FROM cart_items WHERE user_id = ? AND id = ?",
        &[text(user_id), text(id)],
    )?;
    Ok(removed(db) == 1)
}

/// Deletes these lines (by line id: a line added again since has a new id and stays).
pub fn delete_lines(db: &Connection, items: &[&CartItem]) -> Result<u32, StoreError> {
    if items.is_empty() {
        return Ok(0);
    }
    let marks = vec!["?"; items.len()].join(", ");
    let params: Vec<Value> = items.iter().map(|i| text(&i.id)).collect();
    db.execute(
        &format!("DELETE FROM cart_items WHERE id IN ({marks})"),
        &params,
    )?;
    Ok(removed(db))
}

/// Deletes the user's lines for these products; how many there were.
pub fn remove_lines(
    db: &Connection,
    user_id: &str,
    product_ids: &[String],
) -> Result<u32, StoreError> {
    // A WIT caller may pass any number of ids: stay well below SQLite's parameter limit.
    transaction(db, |db| {
        let mut total = 0u32;
        for chunk in product_ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut params = vec![text(user_id)];
            params.extend(chunk.iter().map(|id| text(id)));
            db.execute(
                &format!("DELETE FROM cart_items WHERE user_id = ? AND product_id IN ({marks})"),
                &params,
            )?;
            total = total.saturating_add(removed(db));
        }
        Ok(total)
    })
}

/// Empties the user's cart; how many lines it had.
pub fn clear(db: &Connection, user_id: &str) -> Result<u32, StoreError> {
    db.execute("DELETE FROM cart_items WHERE user_id = ?", &[text(user_id)])?;
    Ok(removed(db))
}

/// Removes a product from every cart; how many lines named it.
pub fn remove_product(db: &Connection, product_id: &str) -> Result<u32, StoreError> {
    db.execute(
        "DELETE FROM cart_items WHERE product_id = ?",
        &[text(product_id)],
    )?;
    Ok(removed(db))
}
