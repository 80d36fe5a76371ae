//! The storefront's product list pages, cached in the Spin key-value store `cache` for one
//! generation of the catalogue.
//!
//! **Bounded.** Only the queries a [`CachedList`] names are ever stored: the plain list (no
//! parameter) and pages 1 to [`CachedList::MAX_PAGE`] of the default size, default sort and no
//! filter, which is what the storefront asks for. Each has one fixed key, so the store holds at
//! most `1 + MAX_PAGE` = 11 entries whatever anyone sends. Every other query (a name search,
//! another page size or sort, a deeper page) is one anyone can vary at will: it is answered
//! from SQLite and neither reads nor writes the store. A product by id is not cached either:
//! its one indexed row costs about what a hit costs.
//!
//! **The commit is the invalidation.** The generation is a random token in the products
//! database (`cache_generation`, `store.rs`), which triggers on `products` and
//! `reservation_lines` replace in the transaction of every change to what a read shows. So a
//! purge is global, costs one row write, and commits or rolls back with the change: no step
//! after the commit is left that could fail. (A generation kept in the key-value store and set
//! after the commit could fail after the change happened, leaving the write to answer an error
//! for it or readers to trust entries from before it; a marker set before the commit does not
//! help, since a concurrent writer's later set can replace it.) The price: a hit also reads
//! the token, one row of SQLite.
//!
//! Why a read never sees data from before a write that answered before it started: an entry
//! records the generation its reader read *before* reading the data, and is used only while
//! that generation is still the current one. A read that starts after a write has answered
//! reads the token that write's commit set, or a later one; an entry carrying that token holds
//! data read after the token was set, hence after the write. The token is random, never a
//! counter, so an old one never comes back (not even in a re-created database). An entry
//! stored late by a reader of an older generation only overwrites its key with something
//! nobody trusts.
//!
//! Entries of earlier versions of this component (keys `products:<generation>:...` and
//! `products:generation`) are never read again: no key of [`CachedList`] has that shape.
//! Nothing adds to them, and the store's file can be deleted to reclaim them (README).
//!
//! Reads show availability (on hand minus unexpired holds), which changes when a hold expires
//! without any write, so an entry also records when the next hold expires and is not used
//! from then on. Entries also record the seller names they show (`admin.name`, from auth's
//! `identity` projection, which auth writes without telling us) and the projection's names
//! stamp read before those names: while the stamp is unchanged no name changed, and a hit costs
//! one read; after a rename anywhere, a hit is checked name by name and is a miss if one of its
//! sellers was renamed.
//!
//! Reads carry a strong `ETag` (a hash of the body); `If-None-Match` with it answers 304.

use crate::domain::{ListFilter, PageRequest};
use crate::store;
use spin_sdk::http::{Request, Response};
use spin_sdk::key_value::Store;
use spin_sdk::sqlite3::Connection;
use std::collections::BTreeMap;

/// Seller id → the display name a cached body shows.
pub type Sellers = BTreeMap<String, String>;

/// A list query the cache may store, each under a fixed key: `1 + MAX_PAGE` keys in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedList {
    /// No parameter (or only defaults): every product, as a plain array.
    All,
    /// Page `n` (1 to [`CachedList::MAX_PAGE`]) of [`PageRequest::DEFAULT_LIMIT`] products,
    /// default sort, no filter.
    Page(u32),
}

impl CachedList {
    /// The deepest page cached. The storefront shows its catalogue as the plain list or in
    /// pages of the default size, newest first; ten pages are the newest 100 products, where
    /// browsing happens. A deeper page is rare, and the `created_at` index answers it.
    pub const MAX_PAGE: u32 = 10;

    /// The cached list `filter` asks for, if it is one. Decided on the validated filter, not
    /// the query text, so every spelling of a page (`?page=2`, `?page=2&limit=10`,
    /// `?limit=10&page=2&order=desc`) shares one entry.
    pub fn of(filter: &ListFilter) -> Option<Self> {
        let unfiltered = ListFilter {
            page: filter.page,
            ..ListFilter::default()
        };
        if *filter != unfiltered {
            return None;
        }
        match filter.page {
            None => Some(Self::All),
            Some(PageRequest { page, limit })
                if limit == PageRequest::DEFAULT_LIMIT && page <= Self::MAX_PAGE =>
            {
                Some(Self::Page(page))
            }
            Some(_) => None,
        }
    }

    fn key(self) -> String {
        match self {
            Self::All => "products:list:all".to_owned(),
            Self::Page(page) => format!("products:list:page:{page}"),
        }
    }
}

/// What an entry records before its body.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    /// The generation read before the data the body shows.
    generation: String,
    sellers: Sellers,
    /// The identity projection's names stamp read before the names were.
    names_stamp: Option<String>,
    /// Unix ms when the shown availability changes by itself (the next hold expiring).
    valid_until: Option<i64>,
}

/// A cached body and what it shows.
pub struct Hit {
    pub body: Vec<u8>,
    /// The seller names the body shows.
    pub sellers: Sellers,
    /// The names stamp they were read under.
    pub names_stamp: Option<String>,
}

/// The key-value store label.
pub const STORE: &str = "cache";

/// One list's entry as one request sees it: the store and the generation, read once.
pub struct Cache {
    key: String,
    /// `None` when the generation could not be read or the store not opened: the read then
    /// goes to the database and stores nothing (it would not know which generation it read).
    live: Option<(Store, String)>,
}

impl Cache {
    /// Opens the entry of `list`, reading the current generation from `db`: call it before
    /// reading anything the entry would show.
    pub fn open(db: &Connection, list: CachedList) -> Self {
        let live = store::cache_generation(db)
            .map_err(|e| e.to_string())
            .and_then(|generation| {
                let store = Store::open(STORE).map_err(|e| format!("{e:?}"))?;
                Ok((store, generation))
            });
        Self {
            key: list.key(),
            live: live
                .inspect_err(|e| eprintln!("cache: unusable, reading the database: {e}"))
                .ok(),
        }
    }

    /// The cached body and the seller names it shows, if stored for the current generation
    /// and still valid at `now_ms`.
    pub fn get(&self, now_ms: i64) -> Option<Hit> {
        let (store, generation) = self.live.as_ref()?;
        let mut entry = store.get(&self.key).ok().flatten()?;
        let split = entry.iter().position(|b| *b == b'\n')?;
        let header: Header = serde_json::from_slice(&entry[..split]).ok()?;
        if header.generation != *generation || header.valid_until.is_some_and(|t| now_ms >= t) {
            return None;
        }
        let body = entry.split_off(split + 1);
        Some(Hit {
            body,
            sellers: header.sellers,
            names_stamp: header.names_stamp,
        })
    }

    /// Stores `body` under the generation read at [`Cache::open`], with the seller names it
    /// shows (read under `names_stamp`) and the time it stops being true by itself (a hold
    /// expiring). Best effort: a failure only costs the next read a miss.
    pub fn put(
        &self,
        body: &[u8],
        sellers: &Sellers,
        names_stamp: Option<&str>,
        valid_until: Option<i64>,
    ) {
        let Some((store, generation)) = &self.live else {
            return;
        };
        let header = Header {
            generation: generation.clone(),
            sellers: sellers.clone(),
            names_stamp: names_stamp.map(str::to_owned),
            valid_until,
        };
        let mut entry = serde_json::to_vec(&header).unwrap_or_else(|_| b"{}".to_vec());
        entry.push(b'\n');
        entry.extend_from_slice(body);
        if let Err(e) = store.set(&self.key, &entry) {
            eprintln!("cache: could not store {}: {e:?}", self.key);
        }
    }
}

/// A strong entity tag of a body: FNV-1a 64 of its bytes.
pub fn etag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

/// Whether `If-None-Match` (a list of tags, or `*`) matches `tag` (weak comparison, RFC 9110).
pub fn none_match(header: &str, tag: &str) -> bool {
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

/// A 200 JSON answer of `body` with its `ETag`, or 304 when the client already has it.
pub fn read_response(req: &Request, body: Vec<u8>) -> Response {
    let tag = etag(&body);
    let fresh = req
        .header("if-none-match")
        .and_then(|v| v.as_str())
        .is_some_and(|h| none_match(h, &tag));
    let builder = &mut Response::builder();
    builder
        .header("etag", tag)
        .header("cache-control", "no-cache");
    if fresh {
        builder.status(304).body(Vec::new()).build()
    } else {
        builder
            .status(200)
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ListQuery;

    fn cached(query: &str) -> Option<CachedList> {
        let query: ListQuery = http_kit::parse_query(query).expect("a valid query");
        CachedList::of(&ListFilter::try_from(query).expect("a valid filter"))
    }

    #[test]
    fn the_plain_list_is_cached_as_all() {
        assert_eq!(cached(""), Some(CachedList::All));
        assert_eq!(cached("sortBy=createdAt&order=desc"), Some(CachedList::All));
        assert_eq!(
            cached("name="),
            Some(CachedList::All),
            "an empty name is no filter"
        );
    }

    #[test]
    fn every_spelling_of_a_default_page_is_one_entry() {
        for query in [
            "page=2",
            "page=2&limit=10",
            "limit=10&page=2",
            "page=2&sortBy=createdAt",
            "order=desc&limit=10&page=2",
        ] {
            assert_eq!(cached(query), Some(CachedList::Page(2)), "{query}");
        }
        assert_eq!(cached("limit=10"), Some(CachedList::Page(1)));
        assert_eq!(
            cached("page=1").map(CachedList::key),
            cached("limit=10").map(CachedList::key)
        );
    }

    #[test]
    fn pages_past_the_last_cached_one_are_not_cached() {
        assert_eq!(
            cached("page=10"),
            Some(CachedList::Page(CachedList::MAX_PAGE))
        );
        assert_eq!(cached("page=11"), None);
        assert_eq!(cached("page=4000000000"), None);
    }

    #[test]
    fn other_page_sizes_are_not_cached() {
        for query in ["limit=20", "page=1&limit=9", "page=2&limit=100", "limit=1"] {
            assert_eq!(cached(query), None, "{query}");
        }
    }

    #[test]
    fn filtered_or_resorted_lists_are_not_cached() {
        for query in [
            "name=mug",
            "name=mug&page=1",
            "minPrice=1",
            "maxPrice=10&page=1",
            "minQuantity=0",
            "maxQuantity=5",
            "adminId=someone",
            "sortBy=price",
            "sortBy=createdAt&order=asc",
            "order=asc&page=1",
        ] {
            assert_eq!(cached(query), None, "{query}");
        }
    }

    #[test]
    fn mixed_parameters_only_ever_yield_the_plain_list_and_default_pages() {
        let mut lists = Vec::new();
        for page in ["", "page=1", "page=2", "page=10", "page=11", "page=500"] {
            for limit in ["", "limit=1", "limit=10", "limit=20", "limit=100"] {
                for extra in [
                    "",
                    "name=a",
                    "name=b",
                    "sortBy=price",
                    "order=asc",
                    "order=desc",
                ] {
                    let query = [page, limit, extra]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join("&");
                    lists.extend(cached(&query));
                }
            }
        }
        lists.sort_by_key(|list| list.key());
        lists.dedup();
        let pages = [1, 10, 2].map(CachedList::Page);
        assert_eq!(lists, [&[CachedList::All][..], &pages].concat());
    }

    #[test]
    fn the_same_body_has_the_same_tag_and_another_body_another() {
        assert_eq!(etag(b"[1]"), etag(b"[1]"));
        assert_ne!(etag(b"[1]"), etag(b"[2]"));
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let tag = etag(b"x");
        assert!(none_match(&tag, &tag));
        assert!(none_match(&format!("\"other\", W/{tag}"), &tag));
        assert!(none_match("*", &tag));
        assert!(!none_match("\"other\"", &tag));
    }
}
