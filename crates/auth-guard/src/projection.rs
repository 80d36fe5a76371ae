//! The `identity` key-value projection: what every guard needs to know about a user, kept by
//! the auth component (its only writer) so other components never call auth per request.
//!
//! Keys: `user:<user id>` → [`IdentityRecord`] as JSON; `clerk:<clerk id>` → the user id;
//! `names:stamp` → a token replaced whenever a display name appears, changes or goes, so a
//! reader that shows names (products' cached pages) checks one key instead of every name.

use crate::principal::Role;
use serde::{Deserialize, Serialize};
use spin_sdk::key_value::Store;
pub use sqlite_store::StoreError;

/// The key-value store label holding the projection.
pub const STORE: &str = "identity";

/// One user as the guards and other domains see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    /// The user id.
    pub user_id: String,
    /// The current role.
    pub role: Role,
    /// The linked Clerk user, if any.
    #[serde(default)]
    pub clerk_id: Option<String>,
    /// The public display name (products show it as `admin.name`).
    pub name: String,
    /// Unix ms: our access tokens issued at or before this are refused (set when a Clerk
    /// identity took over a password account). Absent in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<i64>,
}

const NAMES_STAMP: &str = "names:stamp";

fn user_key(user_id: &str) -> String {
    format!("user:{user_id}")
}

fn clerk_key(clerk_id: &str) -> String {
    format!("clerk:{clerk_id}")
}

/// A failure reading or writing the projection is a storage failure like any other: a server
/// fault whose text is logged, never sent (components map [`StoreError`] to 500 already).
fn kv_err(e: impl std::fmt::Debug) -> StoreError {
    StoreError(format!("identity projection: {e:?}"))
}

/// Opens the projection store (the component must be granted `identity`).
pub fn open() -> Result<Store, StoreError> {
    Store::open(STORE).map_err(kv_err)
}

/// The record of a user, if the user exists.
pub fn user(store: &Store, user_id: &str) -> Result<Option<IdentityRecord>, StoreError> {
    match store.get(&user_key(user_id)).map_err(kv_err)? {
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(kv_err),
        None => Ok(None),
    }
}

/// The user linked to a Clerk id, if known.
pub fn user_by_clerk_id(
    store: &Store,
    clerk_id: &str,
) -> Result<Option<IdentityRecord>, StoreError> {
    match store.get(&clerk_key(clerk_id)).map_err(kv_err)? {
        Some(id) => user(store, &String::from_utf8_lossy(&id)),
        None => Ok(None),
    }
}

/// The current names stamp (`None` until the first name is written). Read it *before* the
/// names it vouches for: a name written after the read then comes with a newer stamp.
pub fn names_stamp(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(store
        .get(NAMES_STAMP)
        .map_err(kv_err)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// Replaces the names stamp; written *after* the name change it announces.
fn renew_names_stamp(store: &Store) -> Result<(), StoreError> {
    store
        .set(NAMES_STAMP, ids::new_id().as_bytes())
        .map_err(kv_err)
}

/// Writes (or overwrites) a user's record and Clerk link. Auth only.
pub fn put(store: &Store, record: &IdentityRecord) -> Result<(), StoreError> {
    let renamed = user(store, &record.user_id)?.is_none_or(|before| before.name != record.name);
    let json = serde_json::to_vec(record).map_err(kv_err)?;
    store
        .set(&user_key(&record.user_id), &json)
        .map_err(kv_err)?;
    if let Some(clerk_id) = &record.clerk_id {
        store
            .set(&clerk_key(clerk_id), record.user_id.as_bytes())
            .map_err(kv_err)?;
    }
    if renamed {
        renew_names_stamp(store)?;
    }
    Ok(())
}

/// Removes a user and their Clerk link (account deleted). Auth only.
pub fn remove(store: &Store, record: &IdentityRecord) -> Result<(), StoreError> {
    if let Some(clerk_id) = &record.clerk_id {
        store.delete(&clerk_key(clerk_id)).map_err(kv_err)?;
    }
    store.delete(&user_key(&record.user_id)).map_err(kv_err)?;
    renew_names_stamp(store)
}
