//! All SQL of the orders component, on its own database (label `orders`). Each request opens
//! one connection; the schema migrates itself on first use (Spin has no migration hook).

use crate::domain::{Line, NewOrder, Order, Status};
use http_kit::PageRequest;
use money::Money;
use spin_sdk::sqlite3::{Connection, Row, Value};
use sqlite_store::{int, text};
use timestamp::Timestamp;

pub use sqlite_store::{StoreError, transaction};

/// The component's database label (`runtime-config.toml`).
pub const DATABASE: &str = "orders";

/// Every schema version in order. Append; never edit a released one.
const MIGRATIONS: &[sqlite_store::Migration] = &[
    (
        1,
        &[
            // One order per checkout: the unique checkout id makes placing idempotent.
            "CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            checkout_id TEXT NOT NULL UNIQUE,
            checkout_session_id TEXT NOT NULL,
            buyer_id TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('PROCESSING', 'COMPLETED', 'REFUNDED')),
            total INTEGER NOT NULL CHECK (total >= 0),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)",
            // The buyer's history, newest first, is an index walk.
            "CREATE INDEX orders_buyer ON orders (buyer_id, created_at, id)",
            // What was bought, frozen: name, image URLs (a JSON array), unit price and the seller.
            "CREATE TABLE order_lines (
            id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders (id),
            position INTEGER NOT NULL,
            product_id TEXT NOT NULL,
            seller_id TEXT NOT NULL,
            name TEXT NOT NULL,
            image_urls TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            UNIQUE (order_id, position))",
            // A seller's sales.
            "CREATE INDEX order_lines_seller ON order_lines (seller_id, order_id)",
        ],
    ),
    (
        2,
        &[
            // Sellers the saga could not credit (deleted before the money moved): a JSON array.
            "ALTER TABLE orders ADD COLUMN uncredited_sellers TEXT NOT NULL DEFAULT '[]'",
        ],
    ),
];

/// Opens the database, bringing its schema up to date first (idempotent).
pub fn open() -> Result<Connection, StoreError> {
    let db = Connection::open(DATABASE)?;
    sqlite_store::migrate(&db, MIGRATIONS)?;
    Ok(db)
}

const ORDER_COLUMNS: &str = "o.id, o.checkout_id, o.checkout_session_id, o.buyer_id, o.status, \
                             o.total, o.uncredited_sellers, o.created_at, o.updated_at";

fn bad(what: &str) -> StoreError {
    StoreError(format!("orders row has a bad {what}"))
}

/// An order row without its lines.
fn decode_order(row: &Row<'_>) -> Result<Order, StoreError> {
    let text_col = |name: &str| {
        row.get::<&str>(name)
            .map(str::to_owned)
            .ok_or_else(|| bad(name))
    };
    let int_col = |name: &str| row.get::<i64>(name).ok_or_else(|| bad(name));
    Ok(Order {
        id: text_col("id")?,
        checkout_id: text_col("checkout_id")?,
        checkout_session_id: text_col("checkout_session_id")?,
        buyer_id: text_col("buyer_id")?,
        status: Status::parse(&text_col("status")?).ok_or_else(|| bad("status"))?,
        total: Money::from_cents(int_col("total")?),
        lines: Vec::new(),
        uncredited_sellers: serde_json::from_str(&text_col("uncredited_sellers")?)
            .map_err(|_| bad("uncredited_sellers"))?,
        created_at: Timestamp::from_millis(int_col("created_at")?),
        updated_at: Timestamp::from_millis(int_col("updated_at")?),
    })
}

fn decode_line(row: &Row<'_>) -> Result<(String, String, Line), StoreError> {
    let text_col = |name: &str| {
        row.get::<&str>(name)
            .map(str::to_owned)
            .ok_or_else(|| bad(name))
    };
    let int_col = |name: &str| row.get::<i64>(name).ok_or_else(|| bad(name));
    let image_urls =
        serde_json::from_str(&text_col("image_urls")?).map_err(|_| bad("image_urls"))?;
    let line = Line {
        product_id: text_col("product_id")?,
        seller_id: text_col("seller_id")?,
        name: text_col("name")?,
        image_urls,
        quantity: u32::try_from(int_col("quantity")?).map_err(|_| bad("quantity"))?,
        unit_price: Money::from_cents(int_col("unit_price")?),
    };
    Ok((text_col("order_id")?, text_col("id")?, line))
}

/// Fills in the lines of `orders`, in one query.
fn with_lines(db: &Connection, mut orders: Vec<Order>) -> Result<Vec<Order>, StoreError> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let marks = vec!["?"; orders.len()].join(", ");
    let sql = format!(
        "SELECT id, order_id, product_id, seller_id, name, image_urls, quantity, unit_price
         FROM order_lines WHERE order_id IN ({marks}) ORDER BY order_id, position"
    );
    let params: Vec<Value> = orders.iter().map(|o| text(&o.id)).collect();
    let result = db.execute(&sql, &params)?;
    for row in result.rows() {
        let (order_id, id, line) = decode_line(&row)?;
        if let Some(order) = orders.iter_mut().find(|o| o.id == order_id) {
            order.lines.push((id, line));
        }
    }
    Ok(orders)
}

fn orders_where(db: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Order>, StoreError> {
    let result = db.execute(sql, params)?;
    let orders = result
        .rows()
        .map(|row| decode_order(&row))
        .collect::<Result<_, _>>()?;
    with_lines(db, orders)
}

fn one(db: &Connection, condition: &str, value: &str) -> Result<Option<Order>, StoreError> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders o WHERE {condition}");
    Ok(orders_where(db, &sql, &[text(value)])?.pop())
}

/// The order with this id.
pub fn find(db: &Connection, id: &str) -> Result<Option<Order>, StoreError> {
    one(db, "o.id = ?", id)
}

/// The order placed for this checkout.
pub fn find_by_checkout(db: &Connection, checkout_id: &str) -> Result<Option<Order>, StoreError> {
    one(db, "o.checkout_id = ?", checkout_id)
}

/// Places `order` unless its checkout already has one, which is returned instead: one
/// `BEGIN IMMEDIATE` transaction, so concurrent calls queue and the later ones find the first.
pub fn place(db: &Connection, order: &NewOrder, now: Timestamp) -> Result<Order, StoreError> {
    transaction(db, |db| {
        if let Some(existing) = find_by_checkout(db, &order.checkout_id)? {
            return Ok(existing);
        }
        let id = ids::new_id();
        db.execute(
            "INSERT INTO orders (id, checkout_id, checkout_session_id, buyer_id, status, total,
                created_at, updated_at)
             VALUES (?, ?, ?, ?, 'PROCESSING', ?, ?, ?)",
            &[
                text(&id),
                text(&order.checkout_id),
                text(&order.checkout_session_id),
                text(&order.buyer_id),
                int(order.total.cents()),
                int(now.millis()),
                int(now.millis()),
            ],
        )?;
        for (position, line) in order.lines.iter().enumerate() {
            let urls =
                serde_json::to_string(&line.image_urls).map_err(|e| StoreError(e.to_string()))?;
            db.execute(
                "INSERT INTO order_lines (id, order_id, position, product_id, seller_id, name,
                    image_urls, quantity, unit_price)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &[
                    text(&ids::new_id()),
                    text(&id),
                    int(position as i64),
                    text(&line.product_id),
                    text(&line.seller_id),
                    text(&line.name),
                    text(&urls),
                    int(i64::from(line.quantity)),
                    int(line.unit_price.cents()),
                ],
            )?;
        }
        find(db, &id)?.ok_or_else(|| StoreError("the new order vanished".into()))
    })
}

/// Sets the status of an order whose status is `from` now (compare-and-set: a concurrent move
/// makes this one change nothing); `false` when it was not.
pub fn set_status(
    db: &Connection,
    id: &str,
    from: Status,
    to: Status,
    now: Timestamp,
) -> Result<bool, StoreError> {
    db.execute(
        "UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
        &[
            text(to.as_str()),
            int(now.millis()),
            text(id),
            text(from.as_str()),
        ],
    )?;
    Ok(db.changes() == 1)
}

/// Replaces the order's uncredited sellers with `sellers` (the caller merged them).
pub fn set_uncredited(db: &Connection, id: &str, sellers: &[String]) -> Result<(), StoreError> {
    let json = serde_json::to_string(sellers).map_err(|e| StoreError(e.to_string()))?;
    db.execute(
        "UPDATE orders SET uncredited_sellers = ? WHERE id = ?",
        &[text(&json), text(id)],
    )?;
    Ok(())
}

fn limit_offset(page: Option<PageRequest>) -> (i64, i64) {
    page.map_or((-1, 0), |p| (i64::from(p.limit), p.offset()))
}

/// `sql` names its one result `n`.
fn count(db: &Connection, sql: &str, id: &str) -> Result<i64, StoreError> {
    let result = db.execute(sql, &[text(id)])?;
    Ok(result
        .rows()
        .next()
        .and_then(|r| r.get::<i64>("n"))
        .unwrap_or(0))
}

/// A buyer's orders, newest first: one page, or all of them.
pub fn of_buyer(
    db: &Connection,
    buyer_id: &str,
    page: Option<PageRequest>,
) -> Result<Vec<Order>, StoreError> {
    let (limit, offset) = limit_offset(page);
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE o.buyer_id = ?
         ORDER BY o.created_at DESC, o.id DESC LIMIT ? OFFSET ?"
    );
    orders_where(db, &sql, &[text(buyer_id), int(limit), int(offset)])
}

/// How many orders a buyer has.
pub fn count_of_buyer(db: &Connection, buyer_id: &str) -> Result<i64, StoreError> {
    count(
        db,
        "SELECT count(*) AS n FROM orders WHERE buyer_id = ?",
        buyer_id,
    )
}

/// The orders with at least one line sold by `seller_id`, newest first (with all their
/// lines: the view keeps the seller's).
pub fn of_seller(
    db: &Connection,
    seller_id: &str,
    page: Option<PageRequest>,
) -> Result<Vec<Order>, StoreError> {
    let (limit, offset) = limit_offset(page);
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders o
         WHERE o.id IN (SELECT order_id FROM order_lines WHERE seller_id = ?)
         ORDER BY o.created_at DESC, o.id DESC LIMIT ? OFFSET ?"
    );
    orders_where(db, &sql, &[text(seller_id), int(limit), int(offset)])
}

/// How many orders have a line sold by `seller_id`.
pub fn count_of_seller(db: &Connection, seller_id: &str) -> Result<i64, StoreError> {
    count(
        db,
        "SELECT count(DISTINCT order_id) AS n FROM order_lines WHERE seller_id = ?",
        seller_id,
    )
}
