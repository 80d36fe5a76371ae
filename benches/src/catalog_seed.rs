//! The 10,000-product catalogue: sellers signed up through auth (so the `identity` projection
//! knows their names), products written straight into the products component's own table.
//!
//! The rows go in with plain SQL because the schema is the component's (it creates it on its
//! first request, and the bench checks the columns are exactly the ones written here); going
//! through `POST /products/bulk` would need an ADMIN with a balance for the 4% fee and would
//! measure nothing more. The data is deterministic (a fixed pseudo-random sequence), so every
//! run lists the same pages.

use anyhow::{Context as _, bail};
use rusqlite::{Connection, params};
use std::path::Path;

/// Display names of the sellers signed up through auth before seeding (the first `n` are
/// used), so `admin.name` shows real names from the `identity` projection.
pub const SELLER_NAMES: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
];

/// The component's `products` columns, in table order (`store.rs` MIGRATIONS, version 1).
const COLUMNS: &[&str] = &[
    "id",
    "name",
    "description",
    "price",
    "quantity",
    "image_urls",
    "admin_id",
    "order_count",
    "created_at",
    "updated_at",
];

const ADJECTIVES: &[&str] = &[
    "Classic", "Handmade", "Vintage", "Minimal", "Rustic", "Compact", "Deluxe", "Everyday",
    "Organic", "Nordic", "Large", "Small", "Travel", "Heritage", "Modern", "Soft",
];
const MATERIALS: &[&str] = &[
    "oak",
    "ceramic",
    "linen",
    "cotton",
    "steel",
    "walnut",
    "glass",
    "leather",
    "wool",
    "bamboo",
    "stoneware",
    "copper",
    "cast iron",
    "porcelain",
    "canvas",
    "cork",
];
const NOUNS: &[&str] = &[
    "mug",
    "teapot",
    "serving board",
    "napkin set",
    "espresso cup",
    "bread knife",
    "lamp",
    "vase",
    "throw blanket",
    "backpack",
    "notebook",
    "candle holder",
    "planter",
    "bowl",
    "tray",
    "apron",
    "salad servers",
    "coaster set",
    "wall clock",
    "picture frame",
];
const CLAIMS: &[&str] = &[
    "Made in a small workshop and finished by hand.",
    "Dishwasher safe and built to last for years.",
    "Each piece is slightly different, by design.",
    "Ships in recycled packaging within two working days.",
    "A favourite of our customers since the first batch.",
    "Designed for everyday use in busy kitchens.",
    "Tested for durability; covered by a two-year warranty.",
    "Pairs well with the rest of the collection.",
];
const COLOURS: &[&str] = &[
    "natural",
    "charcoal",
    "sand",
    "forest green",
    "ocean blue",
    "terracotta",
    "white",
    "black",
];

/// SplitMix64: a fixed, dependency-free pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// One generated product row.
struct Row {
    id: String,
    name: String,
    description: String,
    price_cents: i64,
    quantity: i64,
    image_urls: String,
    admin_id: String,
    order_count: i64,
    created_at: i64,
    updated_at: i64,
}

const DAY_MS: i64 = 86_400_000;

fn product(rng: &mut Rng, sellers: &[String], now_ms: i64) -> Row {
    // Listed over the last year; some edited since.
    let created_at = now_ms - rng.below(365 * DAY_MS as u64) as i64;
    let updated_at = if rng.below(3) == 0 {
        (created_at + rng.below(60 * DAY_MS as u64) as i64).min(now_ms)
    } else {
        created_at
    };
    let mut random = [0u8; 10];
    random.copy_from_slice(&rng.next().to_le_bytes().repeat(2)[..10]);
    let id = uuid::Builder::from_unix_timestamp_millis(created_at as u64, &random)
        .into_uuid()
        .to_string();
    let noun = rng.pick(NOUNS);
    let material = rng.pick(MATERIALS);
    let name = format!(
        "{} {material} {noun} No. {}",
        rng.pick(ADJECTIVES),
        1 + rng.below(99)
    );
    let description = format!(
        "A {} {material} {noun} in {}. {} {}",
        rng.pick(ADJECTIVES).to_lowercase(),
        rng.pick(COLOURS),
        rng.pick(CLAIMS),
        rng.pick(CLAIMS)
    );
    // $2.99–$499.99, a fifth of them whole dollars.
    let mut price_cents = 299 + rng.below(49_701) as i64;
    if rng.below(5) == 0 {
        price_cents -= price_cents % 100;
    }
    let quantity = if rng.below(20) == 0 {
        0
    } else {
        1 + rng.below(250) as i64
    };
    let images: Vec<String> = (0..rng.below(4))
        .map(|i| format!("https://cdn.example.com/products/{id}/{i}.jpg"))
        .collect();
    let order_count = if rng.below(3) == 0 {
        rng.below(40) as i64
    } else {
        0
    };
    Row {
        image_urls: serde_json::to_string(&images).expect("strings serialize"),
        admin_id: sellers[rng.below(sellers.len() as u64) as usize].clone(),
        id,
        name,
        description,
        price_cents,
        quantity,
        order_count,
        created_at,
        updated_at,
    }
}

/// Checks that `products.db` has the component's schema (created by its first request) with
/// exactly the columns this seeder writes, and answers the schema version.
pub fn check_schema(db: &Connection) -> anyhow::Result<i64> {
    let version: i64 = db
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .context("the products component did not create its schema")?;
    let mut stmt = db.prepare("SELECT name FROM pragma_table_info('products') ORDER BY cid")?;
    let columns = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if columns != COLUMNS {
        bail!(
            "the products table changed: columns are {columns:?}, the seeder writes {COLUMNS:?}; \
             update benches/src/products_bench/seed.rs (and native.rs) to the new schema"
        );
    }
    Ok(version)
}

/// Inserts `count` products spread over the sellers (user ids) into the component's
/// `products.db`, in one transaction, and answers the schema version found.
pub fn insert(path: &Path, sellers: &[String], count: usize, now_ms: i64) -> anyhow::Result<i64> {
    let mut db = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    let version = check_schema(&db)?;
    let existing: i64 = db.query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))?;
    if existing != 0 {
        bail!("{} already holds {existing} products", path.display());
    }
    let mut rng = Rng(0x5eed_2026);
    let tx = db.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO products (id, name, description, price, quantity, image_urls, admin_id,
                order_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?;
        for _ in 0..count {
            let row = product(&mut rng, sellers, now_ms);
            stmt.execute(params![
                row.id,
                row.name,
                row.description,
                row.price_cents,
                row.quantity,
                row.image_urls,
                row.admin_id,
                row.order_count,
                row.created_at,
                row.updated_at
            ])?;
        }
    }
    tx.commit()?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_products_pass_the_component_rules() {
        let sellers = vec!["a".to_owned(), "b".to_owned()];
        let now = 1_777_636_800_000;
        let mut rng = Rng(1);
        for _ in 0..1000 {
            let row = product(&mut rng, &sellers, now);
            assert!((1..=200).contains(&row.name.chars().count()));
            assert!((1..=5000).contains(&row.description.chars().count()));
            assert!((0..=99_999_999).contains(&row.price_cents));
            assert!((0..=1_000_000).contains(&row.quantity));
            let urls: Vec<String> = serde_json::from_str(&row.image_urls).unwrap();
            assert!(urls.len() <= 10 && urls.iter().all(|u| u.starts_with("https://")));
            assert!(row.created_at <= row.updated_at && row.updated_at <= now);
            assert!(uuid::Uuid::parse_str(&row.id).is_ok());
        }
    }

    #[test]
    fn the_catalogue_is_the_same_every_run() {
        let sellers = vec!["a".to_owned()];
        let first = product(&mut Rng(0x5eed_2026), &sellers, 0);
        let again = product(&mut Rng(0x5eed_2026), &sellers, 0);
        assert_eq!((first.id, first.name), (again.id, again.name));
    }
}
