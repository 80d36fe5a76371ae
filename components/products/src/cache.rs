//! Product reads cached in the Spin key-value store `cache`, invalidated by a generation token.
//!
//! Every cache key embeds the current generation (`products:<generation>:<what>`). A write
//! that changes what a read returns replaces the generation with a fresh unique value *after*
//! its database commit and *before* it answers, so a read that starts after the write has
//! answered never finds an entry made before it: entries are only ever stored under the
//! generation their reader saw before reading the database. The token is unique (not a
//! counter) so two concurrent writers can never set the same value back. Entries of old
//! generations are never read again; the write that retires them deletes them.
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

use crate::errors::StoreError;
use spin_sdk::http::{Request, Response};
use spin_sdk::key_value::Store;
use std::collections::BTreeMap;

/// Seller id → the display name a cached body shows.
pub type Sellers = BTreeMap<String, String>;

/// What an entry records before its body.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    sellers: Sellers,
    /// The identity projection's names stamp read before the names were.
    #[serde(default)]
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
const GENERATION: &str = "products:generation";

/// The cache as one request sees it: the store (if it opens) and the generation read once.
pub struct Cache {
    store: Option<Store>,
    generation: String,
}

impl Cache {
    /// Opens the cache. A cache that cannot be opened or read only costs speed: reads then go
    /// to the database. A generation that cannot be read disables the cache for this request
    /// (guessing one could serve entries of a retired generation).
    pub fn open() -> Self {
        let store = Store::open(STORE).ok();
        let generation = store.as_ref().map(|s| s.get(GENERATION));
        match generation {
            Some(Ok(generation)) => Self {
                generation: generation
                    .and_then(|g| String::from_utf8(g).ok())
                    .unwrap_or_else(|| "0".to_owned()),
                store,
            },
            Some(Err(e)) => {
                eprintln!("cache: generation unreadable, reading the database: {e:?}");
                Self::disabled()
            }
            None => Self::disabled(),
        }
    }

    fn disabled() -> Self {
        Self {
            store: None,
            generation: String::new(),
        }
    }

    fn key(&self, what: &str) -> String {
        format!("products:{}:{what}", self.generation)
    }

    /// The cached body of `what` and the seller names it shows, if any and still valid at
    /// `now_ms`.
    pub fn get(&self, what: &str, now_ms: i64) -> Option<Hit> {
        let mut entry = self.store.as_ref()?.get(&self.key(what)).ok().flatten()?;
        let split = entry.iter().position(|b| *b == b'\n')?;
        let header: Header = serde_json::from_slice(&entry[..split]).ok()?;
        if header.valid_until.is_some_and(|t| now_ms >= t) {
            return None;
        }
        let body = entry.split_off(split + 1);
        Some(Hit {
            body,
            sellers: header.sellers,
            names_stamp: header.names_stamp,
        })
    }

    /// Stores the body of `what`, with the seller names it shows (read under `names_stamp`)
    /// and the time it stops being true by itself (a hold expiring), under the generation read
    /// at [`Cache::open`].
    pub fn put(
        &self,
        what: &str,
        body: &[u8],
        sellers: &Sellers,
        names_stamp: Option<&str>,
        valid_until: Option<i64>,
    ) {
        let Some(store) = &self.store else { return };
        let header = Header {
            sellers: sellers.clone(),
            names_stamp: names_stamp.map(str::to_owned),
            valid_until,
        };
        let mut entry = serde_json::to_vec(&header).unwrap_or_else(|_| b"{}".to_vec());
        entry.push(b'\n');
        entry.extend_from_slice(body);
        if let Err(e) = store.set(&self.key(what), &entry) {
            eprintln!("cache: could not store {what}: {e:?}");
        }
    }
}

/// Makes every cached read stale. Call after the write committed and before answering.
pub fn invalidate() -> Result<(), StoreError> {
    let store = Store::open(STORE).map_err(|e| StoreError(format!("cache: {e:?}")))?;
    let generation = ids::new_id();
    store
        .set(GENERATION, generation.as_bytes())
        .map_err(|e| StoreError(format!("cache: {e:?}")))?;
    sweep(&store, &generation);
    Ok(())
}

/// Deletes the entries of every other generation: nothing reads them again, and Spin's
/// key-value store has no expiry, so they would stay forever. Best effort: what a failure (or
/// a reader still storing under the old generation) leaves behind goes with the next write.
fn sweep(store: &Store, current: &str) {
    let Ok(keys) = store.get_keys() else { return };
    let live = format!("products:{current}:");
    let stale = keys
        .iter()
        .filter(|k| k.starts_with("products:") && *k != GENERATION && !k.starts_with(&live));
    for key in stale {
        if let Err(e) = store.delete(key) {
            eprintln!("cache: could not delete a stale entry: {e:?}");
            return;
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
