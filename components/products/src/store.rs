//! All SQL of the products component, on its own database (label `products`). Each request
//! opens one connection; the schema migrates itself on first use (Spin has no migration hook).

pub mod fee_intents;
pub mod reservations;
pub mod sales;

use crate::domain::{ListFilter, Product, ProductFields, SortBy};
use crate::errors::StoreError;
use money::Money;
use spin_sdk::sqlite3::{Connection, Row, Value};
use sqlite_store::Migrated;
use timestamp::Timestamp;

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "products";

/// Every schema version in order. Append; never edit a released one.
const MIGRATIONS: &[sqlite_store::Migration] = &[
    (
        1,
        &[
            "CREATE TABLE products (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            price INTEGER NOT NULL CHECK (price >= 0),
            quantity INTEGER NOT NULL CHECK (quantity >= 0),
            image_urls TEXT NOT NULL,
            admin_id TEXT NOT NULL,
            order_count INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            // One index per sort key (id breaks ties so pages are stable), and the seller's
            // listing: a filtered, sorted page stays an index walk at 100,000 products.
            "CREATE INDEX products_created ON products (created_at, id)",
            "CREATE INDEX products_updated ON products (updated_at, id)",
            "CREATE INDEX products_price ON products (price, id)",
            "CREATE INDEX products_quantity ON products (quantity, id)",
            "CREATE INDEX products_name ON products (name COLLATE NOCASE, id)",
            "CREATE INDEX products_admin_created ON products (admin_id, created_at, id)",
        ],
    ),
    (
        2,
        &[
            // Stock reservations (the catalog WIT export). `lines` is the canonical JSON of the
            // lines, so a repeated `reserve` can be told apart from a different one.
            "CREATE TABLE reservations (
            id TEXT PRIMARY KEY,
            lines TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released')),
            expires_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL)",
            // A line counts against availability while `active = 1` and `expires_at` is in the
            // future: expiry needs no background job.
            "CREATE TABLE reservation_lines (
            reservation_id TEXT NOT NULL,
            product_id TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            expires_at INTEGER NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (reservation_id, product_id))",
            "CREATE INDEX reservation_lines_held ON reservation_lines (product_id, expires_at)
            WHERE active = 1",
        ],
    ),
    (
        3,
        &[
            // When the next hold expires: cached reads showing availability are good until then.
            "CREATE INDEX reservation_lines_expiry ON reservation_lines (expires_at)
            WHERE active = 1",
            // Domain events written in the transaction of the change they report (the
            // `outbox` crate publishes them to the events channel).
            outbox::SCHEMA[0],
            outbox::SCHEMA[1],
        ],
    ),
    (
        4,
        &[
            // A listing fee recorded before auth is asked to charge it (`fees.rs`): `pending`
            // until the write it pays for commits (which deletes the row in its transaction),
            // `refund_due` once that write was given up, deleted when auth confirms the refund.
            "CREATE TABLE fee_intents (
            key TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            amount INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'refund_due')),
            created_at INTEGER NOT NULL)",
            "CREATE INDEX fee_intents_open ON fee_intents (state, created_at)",
        ],
    ),
    (
        5,
        &[
            // The read cache's generation (`cache.rs`): a random token that the triggers below
            // replace in the transaction of every change to what a read shows, so a commit is
            // its own invalidation and nothing after it can fail to invalidate.
            "CREATE TABLE cache_generation (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            token TEXT NOT NULL)",
            "INSERT INTO cache_generation (id, token) VALUES (1, hex(randomblob(16)))",
            "CREATE TRIGGER cache_generation_product_insert AFTER INSERT ON products
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
            "CREATE TRIGGER cache_generation_product_update AFTER UPDATE ON products
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
            "CREATE TRIGGER cache_generation_product_delete AFTER DELETE ON products
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
            // Holds: availability (what reads show) is on hand minus active holds.
            "CREATE TRIGGER cache_generation_hold_insert AFTER INSERT ON reservation_lines
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
            "CREATE TRIGGER cache_generation_hold_update AFTER UPDATE ON reservation_lines
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
            "CREATE TRIGGER cache_generation_hold_delete AFTER DELETE ON reservation_lines
            BEGIN UPDATE cache_generation SET token = hex(randomblob(16)); END",
        ],
    ),
    (
        6,
        &[
            // A committed reservation can be restocked (the order saga's compensation,
            // `domain/reservation.rs`). SQLite cannot change a CHECK in place, so the table is
            // rebuilt under the migration's transaction; nothing else refers to it.
            "CREATE TABLE reservations_v6 (
            id TEXT PRIMARY KEY,
            lines TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released', 'restocked')),
            expires_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL)",
            "INSERT INTO reservations_v6 (id, lines, state, expires_at, created_at)
            SELECT id, lines, state, expires_at, created_at FROM reservations",
            "DROP TABLE reservations",
            "ALTER TABLE reservations_v6 RENAME TO reservations",
        ],
    ),
    (
        7,
        &[
            // The name search (`?name=`, a case-insensitive substring): every product's name
            // trigrams, lowercased as LIKE folds case (ASCII only), so a search reads the
            // products holding its text's trigrams instead of every product (at 100,000
            // products a scan takes tens of milliseconds, and anyone can send a new text).
            // A plain table rather than FTS5: on Spin every request opens a new connection,
            // which parses the whole schema first, and an FTS5 index adds five tables to it.
            "CREATE TABLE product_trigrams (
            trigram TEXT NOT NULL,
            product_id TEXT NOT NULL,
            PRIMARY KEY (trigram, product_id)) WITHOUT ROWID",
            // Positions 1 to 198, the trigrams of a name of at most 200 characters, for the
            // triggers to split names with.
            "CREATE TABLE trigram_positions (k INTEGER PRIMARY KEY)",
            "INSERT INTO trigram_positions (k) WITH RECURSIVE n (k) AS
            (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 198) SELECT k FROM n",
            "INSERT INTO product_trigrams (trigram, product_id)
            SELECT DISTINCT lower(substr(p.name, t.k, 3)), p.id FROM products p
            JOIN trigram_positions t ON t.k <= length(p.name) - 2",
            // How many products there are, so an unfiltered page's `meta.total` reads one row
            // instead of counting them all.
            "CREATE TABLE product_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
            "INSERT INTO product_count (id, n) SELECT 1, COUNT(*) FROM products",
            // One trigger per change to `products`, doing in its transaction all it implies:
            // a new cache generation (migration 5), the name's trigrams, the count. (One
            // trigger rather than three: fewer schema entries to parse per connection.) Ids
            // never change; a name may.
            "DROP TRIGGER cache_generation_product_insert",
            "DROP TRIGGER cache_generation_product_update",
            "DROP TRIGGER cache_generation_product_delete",
            "CREATE TRIGGER products_insert AFTER INSERT ON products BEGIN
            UPDATE cache_generation SET token = hex(randomblob(16));
            INSERT OR IGNORE INTO product_trigrams (trigram, product_id)
            SELECT lower(substr(new.name, k, 3)), new.id FROM trigram_positions
            WHERE k <= length(new.name) - 2;
            UPDATE product_count SET n = n + 1;
            END",
            "CREATE TRIGGER products_update AFTER UPDATE ON products BEGIN
            UPDATE cache_generation SET token = hex(randomblob(16));
            DELETE FROM product_trigrams WHERE new.name IS NOT old.name
            AND product_id = old.id AND trigram IN (SELECT lower(substr(old.name, k, 3))
            FROM trigram_positions WHERE k <= length(old.name) - 2);
            INSERT OR IGNORE INTO product_trigrams (trigram, product_id)
            SELECT lower(substr(new.name, k, 3)), new.id FROM trigram_positions
            WHERE new.name IS NOT old.name AND k <= length(new.name) - 2;
            END",
            "CREATE TRIGGER products_delete AFTER DELETE ON products BEGIN
            UPDATE cache_generation SET token = hex(randomblob(16));
            DELETE FROM product_trigrams WHERE product_id = old.id
            AND trigram IN (SELECT lower(substr(old.name, k, 3))
            FROM trigram_positions WHERE k <= length(old.name) - 2);
            UPDATE product_count SET n = n - 1;
            END",
        ],
    ),
];

/// Opens the database, bringing its schema up to date first (idempotent).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    migrate(&db)?;
    Ok(db)
}

fn migrate(db: &Connection) -> Result<(), StoreError> {
    if sqlite_store::migrate(db, MIGRATIONS)? == Migrated::Created && seed_requested() {
        transaction(db, seed_demo_catalog)?;
    }
    Ok(())
}

/// The owner of the demo catalog: not a real user, so its products show the unknown-seller
/// name and nobody can change them.
pub const DEMO_SELLER: &str = "demo-seller";

/// Whether the `seed_demo_catalog` variable asks for the demo catalog (absent: no).
fn seed_requested() -> bool {
    spin_sdk::variables::get("seed_demo_catalog").is_ok_and(|v| v.trim() == "true")
}

/// A small demo catalog for a fresh database, so the storefront has something to show.
fn seed_demo_catalog(db: &Connection) -> Result<(), StoreError> {
    const DEMO: &[(&str, &str, i64, i64)] = &[
        (
            "Ceramic mug",
            "Stoneware, 350 ml, dishwasher safe",
            1250,
            40,
        ),
        ("Cast iron teapot", "Enamelled inside, 0.9 l", 4500, 12),
        (
            "Linen napkins (4)",
            "Stonewashed linen, 45 × 45 cm",
            2200,
            30,
        ),
        ("Oak serving board", "Solid oak, oiled, 40 × 25 cm", 3800, 8),
        ("Espresso cups (2)", "Porcelain with saucers", 1800, 25),
        ("Bread knife", "Serrated stainless steel, 21 cm", 2900, 15),
    ];
    let now = Timestamp::now();
    for (i, (name, description, cents, quantity)) in DEMO.iter().enumerate() {
        let fields = ProductFields {
            name: (*name).to_owned(),
            description: (*description).to_owned(),
            price: Money::from_cents(*cents),
            quantity: *quantity,
            image_urls: Vec::new(),
        };
        insert_product(
            db,
            &ids::new_id(),
            DEMO_SELLER,
            &fields,
            now.plus_millis(i as i64),
        )?;
    }
    Ok(())
}

pub use sqlite_store::transaction;

use sqlite_store::{int, text};

/// Units of product `p` held by active, unexpired reservations. One parameter: now (Unix ms).
pub(crate) const HELD: &str = "(SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l \
    WHERE l.product_id = p.id AND l.active = 1 AND l.expires_at > ?)";

/// Every column, and `available`: on hand minus active holds. The first parameter is now.
fn select() -> String {
    format!(
        "SELECT id, name, description, price, quantity, image_urls, admin_id, order_count, \
         created_at, updated_at, MAX(0, quantity - {HELD}) AS available FROM products p"
    )
}

/// How a listing reads the stock it filters and sorts by: what the JSON shows, available
/// units. While no hold is active that equals on-hand stock, and the indexed column answers;
/// otherwise every candidate row's holds are summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    /// No active hold: `quantity` is the available stock.
    OnHand,
    /// Some holds are active: available = on hand − held.
    LessHolds { now: Timestamp },
}

fn decode(row: &Row<'_>) -> Result<Product, StoreError> {
    let bad = |what: &str| StoreError(format!("products row has a bad {what}"));
    let text_col = |name: &str| row.get::<&str>(name).ok_or_else(|| bad(name));
    let int_col = |name: &str| row.get::<i64>(name).ok_or_else(|| bad(name));
    Ok(Product {
        id: text_col("id")?.to_owned(),
        name: text_col("name")?.to_owned(),
        description: text_col("description")?.to_owned(),
        price: Money::from_cents(int_col("price")?),
        quantity: int_col("quantity")?,
        available: int_col("available")?,
        image_urls: serde_json::from_str(text_col("image_urls")?).map_err(|_| bad("image_urls"))?,
        admin_id: text_col("admin_id")?.to_owned(),
        order_count: int_col("order_count")?,
        created_at: Timestamp::from_millis(int_col("created_at")?),
        updated_at: Timestamp::from_millis(int_col("updated_at")?),
    })
}

fn urls_json(urls: &[String]) -> String {
    serde_json::to_string(urls).unwrap_or_else(|_| "[]".into())
}

/// One product by id.
pub fn find_product(db: &Connection, id: &str) -> Result<Option<Product>, StoreError> {
    let sql = format!("{} WHERE id = ?", select());
    let result = db.execute(&sql, &[int(Timestamp::now().millis()), text(id)])?;
    result.rows().next().map(|row| decode(&row)).transpose()
}

/// The products with these ids, in the order asked; unknown ids are left out. One query.
pub fn find_products(db: &Connection, ids: &[String]) -> Result<Vec<Product>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!("{} WHERE id IN ({marks})", select());
    let mut params = vec![int(Timestamp::now().millis())];
    params.extend(ids.iter().map(|id| text(id)));
    let result = db.execute(&sql, &params)?;
    let mut found = result
        .rows()
        .map(|row| decode(&row).map(|p| (p.id.clone(), p)))
        .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Inserts a new product owned by `admin_id`.
pub fn insert_product(
    db: &Connection,
    id: &str,
    admin_id: &str,
    fields: &ProductFields,
    now: Timestamp,
) -> Result<Product, StoreError> {
    db.execute(
        "INSERT INTO products (id, name, description, price, quantity, image_urls, admin_id,
            order_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        &[
            text(id),
            text(&fields.name),
            text(&fields.description),
            int(fields.price.cents()),
            int(fields.quantity),
            text(&urls_json(&fields.image_urls)),
            text(admin_id),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    find_product(db, id)?.ok_or_else(|| StoreError(format!("product {id} vanished")))
}

/// Replaces the seller fields of `before`, only if nobody changed it since it was read
/// (`None`: it was changed or deleted concurrently). Call inside a transaction, so the product
/// answered is the one this update wrote.
pub fn update_product(
    db: &Connection,
    before: &Product,
    fields: &ProductFields,
    now: Timestamp,
) -> Result<Option<Product>, StoreError> {
    // Never move `updated_at` backwards or keep it equal: it is the optimistic-lock version.
    let now = now.millis().max(before.updated_at.millis() + 1);
    // Success is the row this statement changed (`RETURNING`), not the version re-read: two
    // updates from the same version in the same millisecond write the same `updated_at`, and
    // the loser would otherwise take the winner's row for its own.
    let changed = db.execute(
        "UPDATE products SET name = ?, description = ?, price = ?, quantity = ?, image_urls = ?,
            updated_at = ? WHERE id = ? AND updated_at = ? RETURNING id",
        &[
            text(&fields.name),
            text(&fields.description),
            int(fields.price.cents()),
            int(fields.quantity),
            text(&urls_json(&fields.image_urls)),
            int(now),
            text(&before.id),
            int(before.updated_at.millis()),
        ],
    )?;
    if changed.rows().next().is_none() {
        return Ok(None);
    }
    find_product(db, &before.id)
}

/// Deletes a product and records `product.removed` (call inside a transaction).
pub fn delete_product(db: &Connection, id: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute("DELETE FROM products WHERE id = ?", &[text(id)])?;
    record_removed(db, id, "deleted", now)
}

/// Records the `product.removed` domain event in the outbox, so carts can drop the product
/// (`reason`: `deleted`, or `anonymized` — the product still exists because orders reference
/// it, but it belongs to the ANONYMOUS user and is no longer for sale):
///
/// ```json
/// {"type": "product.removed", "id": "<event id>", "productId": "<product id>",
///  "reason": "deleted", "occurredAt": "2026-05-01T12:00:00.000Z"}
/// ```
fn record_removed(
    db: &Connection,
    product_id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let fields = [("productId", product_id.into()), ("reason", reason.into())];
    outbox::record(db, "product.removed", &fields, now)?;
    Ok(())
}

/// Re-assigns a product to `owner` (the ANONYMOUS user) instead of deleting it.
pub fn reassign_product(
    db: &Connection,
    id: &str,
    owner: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE products SET admin_id = ?, updated_at = MAX(updated_at + 1, ?) WHERE id = ?",
        &[text(owner), int(now.millis()), text(id)],
    )?;
    record_removed(db, id, "anonymized", now)
}

/// Every product `seller_id` owns, oldest first.
pub fn products_of(db: &Connection, seller_id: &str) -> Result<Vec<Product>, StoreError> {
    let sql = format!("{} WHERE admin_id = ? ORDER BY created_at, id", select());
    let result = db.execute(&sql, &[int(Timestamp::now().millis()), text(seller_id)])?;
    result.rows().map(|row| decode(&row)).collect()
}

/// The `WHERE` clause and its parameters for `filter`.
fn conditions(filter: &ListFilter, stock: Stock) -> (String, Vec<Value>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut params = Vec::new();
    if let Some(name) = &filter.name {
        // The trigram index narrows the search to the products holding some of the text's
        // trigrams (migration 7); LIKE decides. Any of them will do: a product whose name
        // holds the text holds them all, so a few spread over the text keep the query small
        // however long the text is.
        for trigram in search_trigrams(name) {
            clauses
                .push("p.id IN (SELECT product_id FROM product_trigrams WHERE trigram = ?)".into());
            params.push(text(&trigram));
        }
        // Escape LIKE's wildcards in the user's text.
        let escaped = name
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        clauses.push("name LIKE ? ESCAPE '\\'".into());
        params.push(text(&format!("%{escaped}%")));
    }
    if let Some(min) = filter.min_price {
        clauses.push("price >= ?".into());
        params.push(int(min.cents()));
    }
    if let Some(max) = filter.max_price {
        clauses.push("price <= ?".into());
        params.push(int(max.cents()));
    }
    // Available never exceeds on hand, so `quantity >= min` is exact while no hold is active
    // and an indexable pre-filter otherwise.
    if let Some(min) = filter.min_quantity {
        clauses.push("quantity >= ?".into());
        params.push(int(min));
    }
    let mut available = |op: &str, bound: i64| match stock {
        Stock::OnHand => {
            clauses.push(format!("quantity {op} ?"));
            params.push(int(bound));
        }
        Stock::LessHolds { now } => {
            clauses.push(format!("quantity - {HELD} {op} ?"));
            params.push(int(now.millis()));
            params.push(int(bound));
        }
    };
    if let (Some(min), Stock::LessHolds { .. }) = (filter.min_quantity, stock) {
        available(">=", min);
    }
    if let Some(max) = filter.max_quantity {
        available("<=", max);
    }
    if let Some(admin) = &filter.admin_id {
        clauses.push("admin_id = ?".into());
        params.push(text(admin));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// Most trigrams a name search looks up.
const SEARCH_TRIGRAMS: usize = 4;

/// Up to [`SEARCH_TRIGRAMS`] distinct trigrams of `text` folded as LIKE folds case (ASCII
/// only, as SQLite's `lower` does in migration 7), spread from its start to its end; none for
/// a text of fewer than three characters.
fn search_trigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let Some(last) = chars.len().checked_sub(3) else {
        return Vec::new();
    };
    let mut trigrams: Vec<String> = (0..SEARCH_TRIGRAMS)
        .map(|i| last * i / (SEARCH_TRIGRAMS - 1))
        .map(|start| chars[start..start + 3].iter().collect())
        .collect();
    trigrams.sort_unstable();
    trigrams.dedup();
    trigrams
}

/// The products matching `filter`, sorted, and the page of it when one is asked for.
pub fn list_products(
    db: &Connection,
    filter: &ListFilter,
    stock: Stock,
) -> Result<Vec<Product>, StoreError> {
    let (where_sql, conditions_params) = conditions(filter, stock);
    let mut params = vec![int(Timestamp::now().millis())];
    params.extend(conditions_params);
    let dir = filter.order.sql();
    let column = match (filter.sort_by, stock) {
        // The result column: SQLite lets ORDER BY name it.
        (SortBy::Quantity, Stock::LessHolds { .. }) => "available",
        (sort_by, _) => sort_by.column(),
    };
    let mut sql = format!("{}{where_sql} ORDER BY {column} {dir}, id {dir}", select());
    if let Some(page) = filter.page {
        sql.push_str(" LIMIT ? OFFSET ?");
        params.push(int(i64::from(page.limit)));
        params.push(int(page.offset()));
    }
    let result = db.execute(&sql, &params)?;
    result.rows().map(|row| decode(&row)).collect()
}

/// How many products match `filter`: without a condition, the kept total (migration 7).
pub fn count_products(
    db: &Connection,
    filter: &ListFilter,
    stock: Stock,
) -> Result<i64, StoreError> {
    let (where_sql, params) = conditions(filter, stock);
    let sql = if where_sql.is_empty() {
        "SELECT n FROM product_count".to_owned()
    } else {
        format!("SELECT COUNT(*) AS n FROM products p{where_sql}")
    };
    let result = db.execute(&sql, &params)?;
    Ok(result
        .rows()
        .next()
        .and_then(|r| r.get::<i64>("n"))
        .unwrap_or(0))
}

/// The read cache's current generation (`cache.rs`), which every commit that changes what a
/// read shows replaces.
pub fn cache_generation(db: &Connection) -> Result<String, StoreError> {
    let result = db.execute("SELECT token FROM cache_generation", &[])?;
    result
        .rows()
        .next()
        .and_then(|r| r.get::<&str>("token").map(str::to_owned))
        .ok_or_else(|| StoreError("cache_generation has no row".to_owned()))
}

/// When the earliest active hold expires (Unix ms), if any: availability shown by a read
/// changes then without any write.
pub fn next_expiry(db: &Connection, now: Timestamp) -> Result<Option<i64>, StoreError> {
    let result = db.execute(
        "SELECT MIN(expires_at) AS t FROM reservation_lines WHERE active = 1 AND expires_at > ?",
        &[int(now.millis())],
    )?;
    Ok(result.rows().next().and_then(|r| r.get::<i64>("t")))
}

#[cfg(test)]
mod tests {
    use super::search_trigrams;

    #[test]
    fn a_search_looks_up_a_few_trigrams_spread_over_its_text_folded_as_like_folds() {
        assert!(search_trigrams("").is_empty());
        assert!(
            search_trigrams("Mu").is_empty(),
            "fewer than three characters: a scan"
        );
        assert_eq!(search_trigrams("MUG"), ["mug"]);
        assert_eq!(search_trigrams("Blue Mug"), ["blu", "e m", "lue", "mug"]);
        assert_eq!(
            search_trigrams("CAFÉ"),
            ["afÉ", "caf"],
            "ASCII only, as SQLite's lower"
        );
        let long = "x".repeat(10_000) + "yz";
        assert_eq!(search_trigrams(&long), ["xxx", "xyz"]);
    }
}
