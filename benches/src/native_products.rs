//! The native baseline: a hyper server (like `src/native.rs`) answering
//! `GET /api/v1/products?page=P&limit=L` from the same `products.db` with the same SQL as the
//! products component and the same JSON, byte for byte (the bench compares bodies before it
//! measures).
//!
//! What a plain native server does differently is the point of the comparison: each worker
//! thread keeps one SQLite connection per file with its statements prepared (the component
//! gets a new connection per request, as Spin specifies), and the query runs right on the
//! worker thread. Seller names come from the same `identity` key-value file the component
//! reads, one look-up per seller per request as the component does. With `--cache` finished
//! bodies are kept in an in-process map keyed by the query string (nothing writes during a
//! run, so it is never invalidated). With `--open-per-request` every request opens its own
//! connections instead (and so reads every page again and prepares every statement again), as
//! the component's `Connection::open` does on Spin and reen-host.

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use money::Money;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use timestamp::Timestamp;
use tokio::net::TcpListener;

/// `SELECT` of `components/products/src/store.rs`, verbatim: every column and `available`
/// (on hand minus active holds); the first parameter is now.
const SELECT: &str = "SELECT id, name, description, price, quantity, image_urls, admin_id, \
    order_count, created_at, updated_at, \
    MAX(0, quantity - (SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l \
        WHERE l.product_id = p.id AND l.active = 1 AND l.expires_at > ?)) AS available \
    FROM products p";

/// What `list_products` builds for no filter, the default sort (`created_at` descending) and
/// a page: `{SELECT} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`.
fn list_sql() -> String {
    format!("{SELECT} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
}

/// `count_products` for no filter.
const COUNT_SQL: &str = "SELECT COUNT(*) AS n FROM products p";

/// `auth_guard::projection::user` on the `spin` key-value layout.
const IDENTITY_SQL: &str = "SELECT value FROM spin_key_value WHERE store = 'identity' AND key = ?";

/// The component's name for a seller the projection does not know.
const UNKNOWN_SELLER: &str = "Unknown";

/// `ProductView` of `components/products/src/domain.rs`: same fields, same serializers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductView {
    id: String,
    name: String,
    description: String,
    price: Money,
    quantity: i64,
    image_urls: Vec<String>,
    admin_id: String,
    admin: AdminView,
    order_count: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
}

#[derive(Serialize)]
struct AdminView {
    id: String,
    name: String,
}

/// `PageMeta` of the component.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    total: i64,
    page: u32,
    limit: u32,
    last_page: i64,
    has_next_page: bool,
    has_previous_page: bool,
}

impl PageMeta {
    fn new(total: i64, page: u32, limit: u32) -> Self {
        let l = i64::from(limit);
        let last_page = if total == 0 { 1 } else { (total + l - 1) / l };
        PageMeta {
            total,
            page,
            limit,
            last_page,
            has_next_page: i64::from(page) < last_page,
            has_previous_page: page > 1,
        }
    }
}

/// One worker thread's connections.
struct Db {
    products: Connection,
    identity: Connection,
}

struct Config {
    products: PathBuf,
    identity: PathBuf,
    cache: Option<Mutex<HashMap<String, Bytes>>>,
    open_per_request: bool,
}

thread_local! {
    static DB: RefCell<Option<Db>> = const { RefCell::new(None) };
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// `page`/`limit` as the component reads them (no page and no limit: the plain array).
fn page_request(query: Option<&str>) -> Result<Option<(u32, u32)>, String> {
    let (mut page, mut limit) = (None, None);
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = || value.parse::<u32>().map_err(|_| format!("bad {key}"));
        match key {
            "page" => page = Some(number()?),
            "limit" => limit = Some(number()?),
            other => return Err(format!("unsupported parameter {other}")),
        }
    }
    Ok(match (page, limit) {
        (None, None) => None,
        (page, limit) => Some((page.unwrap_or(1).max(1), limit.unwrap_or(10).clamp(1, 100))),
    })
}

fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ProductView, String)> {
    let admin_id: String = row.get("admin_id")?;
    let urls: String = row.get("image_urls")?;
    let view = ProductView {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        price: Money::from_cents(row.get("price")?),
        quantity: row.get("available")?,
        image_urls: serde_json::from_str(&urls).unwrap_or_default(),
        admin_id: admin_id.clone(),
        admin: AdminView {
            id: admin_id.clone(),
            name: String::new(),
        },
        order_count: row.get("order_count")?,
        created_at: Timestamp::from_millis(row.get("created_at")?),
        updated_at: Timestamp::from_millis(row.get("updated_at")?),
    };
    Ok((view, admin_id))
}

/// The list body, as the component builds it on a miss.
fn list_body(db: &Db, page: Option<(u32, u32)>) -> anyhow::Result<Vec<u8>> {
    let now = Timestamp::now().millis();
    let mut rows = match page {
        Some((page, limit)) => {
            let mut stmt = db.products.prepare_cached(&list_sql())?;
            let offset = i64::from(page - 1) * i64::from(limit);
            stmt.query_map(params![now, limit, offset], decode)?
                .collect::<Result<Vec<_>, _>>()?
        }
        None => {
            let sql = format!("{SELECT} ORDER BY created_at DESC, id DESC");
            let mut stmt = db.products.prepare_cached(&sql)?;
            stmt.query_map(params![now], decode)?
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    // Each seller looked up once per request.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut lookup = db.identity.prepare_cached(IDENTITY_SQL)?;
    let mut views = Vec::with_capacity(rows.len());
    for (mut view, admin_id) in rows.drain(..) {
        if !names.contains_key(&admin_id) {
            let record: Option<Vec<u8>> = lookup
                .query_row(params![format!("user:{admin_id}")], |r| r.get(0))
                .optional()?;
            let name = record
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(|v| v.get("name")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| UNKNOWN_SELLER.to_owned());
            names.insert(admin_id.clone(), name);
        }
        view.admin.name = names[&admin_id].clone();
        views.push(serde_json::to_value(&view)?);
    }
    Ok(match page {
        None => serde_json::to_vec(&views)?,
        Some((page, limit)) => {
            let total: i64 = db
                .products
                .prepare_cached(COUNT_SQL)?
                .query_row([], |r| r.get(0))?;
            let meta = PageMeta::new(total, page, limit);
            serde_json::to_vec(&json!({ "products": views, "meta": meta }))?
        }
    })
}

fn with_db<T>(config: &Config, f: impl FnOnce(&Db) -> anyhow::Result<T>) -> anyhow::Result<T> {
    if config.open_per_request {
        return f(&Db {
            products: open(&config.products)?,
            identity: open(&config.identity)?,
        });
    }
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Db {
                products: open(&config.products)?,
                identity: open(&config.identity)?,
            });
        }
        f(slot.as_ref().expect("just opened"))
    })
}

/// The component's strong `ETag`: FNV-1a 64 of the body.
fn etag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

fn respond(status: u16, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("etag", etag(&body))
        .header("cache-control", "no-cache")
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(body))
        .expect("static response parts are valid")
}

fn handle(config: &Config, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    if req.uri().path() != "/api/v1/products" {
        return respond(404, Bytes::new());
    }
    let page = match page_request(req.uri().query()) {
        Ok(page) => page,
        Err(message) => return respond(400, Bytes::from(message)),
    };
    let key = req.uri().query().unwrap_or_default();
    if let Some(cache) = &config.cache
        && let Some(body) = cache.lock().expect("cache lock").get(key)
    {
        return respond(200, body.clone());
    }
    match with_db(config, |db| list_body(db, page)) {
        Ok(body) => {
            let body = Bytes::from(body);
            if let Some(cache) = &config.cache {
                cache
                    .lock()
                    .expect("cache lock")
                    .insert(key.to_owned(), body.clone());
            }
            respond(200, body)
        }
        Err(e) => {
            eprintln!("native products: {e:#}");
            respond(500, Bytes::new())
        }
    }
}

/// Serves forever on `listen` with a multi-threaded runtime (one worker per core).
pub fn serve(
    listen: SocketAddr,
    products: PathBuf,
    identity: PathBuf,
    cache: bool,
    open_per_request: bool,
) -> anyhow::Result<()> {
    let config = Arc::new(Config {
        products,
        identity,
        cache: cache.then(Default::default),
        open_per_request,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(listen).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let config = config.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let response = handle(&config, &req);
                    async move { Ok::<_, Infallible>(response) }
                });
                // A client going away mid-request is not an error worth reporting here.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_and_limit_are_read_like_the_component() {
        assert_eq!(page_request(None), Ok(None));
        assert_eq!(page_request(Some("page=3&limit=20")), Ok(Some((3, 20))));
        assert_eq!(page_request(Some("limit=5")), Ok(Some((1, 5))));
        assert_eq!(page_request(Some("page=2")), Ok(Some((2, 10))));
        assert!(page_request(Some("name=mug")).is_err());
    }

    #[test]
    fn meta_counts_pages_like_the_component() {
        let meta = PageMeta::new(10_000, 500, 20);
        assert_eq!((meta.last_page, meta.has_next_page), (500, false));
        assert!(meta.has_previous_page);
        assert_eq!(PageMeta::new(0, 1, 20).last_page, 1);
    }
}
