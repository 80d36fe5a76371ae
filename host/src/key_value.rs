//! `fermyon:spin/key-value@2.0.0`: labelled stores kept in SQLite files, as Spin's `spin`
//! provider does, or in Redis, as its `redis` provider does.
//!
//! Like Spin, every store file holds one table keyed by (store label, key) (the rows live in
//! [`crate::key_value_sqlite`]), labels sharing a file share its connections, a Redis store
//! keeps its keys as they are ([`crate::key_value_redis`]), and a label the component was not
//! granted answers `access-denied` (never a trap).

use crate::bindings::fermyon::spin2_0_0::key_value::{self, Error};
use crate::key_value_redis::RedisKv;
use crate::key_value_sqlite::KvBackend;
pub use crate::key_value_sqlite::KvLocation;
use crate::state::InstanceState;
use anyhow::Context as _;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::Resource;

/// Spin refuses to open more than this many stores in one instance (`store-table-full`).
const MAX_OPEN_STORES: usize = 256;

/// Where one store label's keys live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoreLocation {
    /// A SQLite file or memory (`type = "spin"`, and the built-in `default`).
    Sqlite(KvLocation),
    /// A Redis database (`type = "redis"`), by URL.
    Redis(String),
}

/// A store's backend; labels at one location share it.
#[derive(Clone)]
enum Backend {
    Sqlite(Arc<KvBackend>),
    Redis(Arc<RedisKv>),
}

impl Backend {
    fn open(location: &StoreLocation) -> anyhow::Result<Self> {
        Ok(match location {
            StoreLocation::Sqlite(location) => Self::Sqlite(Arc::new(KvBackend::open(location)?)),
            StoreLocation::Redis(url) => Self::Redis(Arc::new(RedisKv::open(url)?)),
        })
    }
}

/// Every store label the app defines, resolved to its backend (validated at start-up).
#[derive(Default)]
pub struct KeyValueStores {
    stores: HashMap<String, Backend>,
}

impl KeyValueStores {
    /// Opens each label's backend; labels sharing a file (or a Redis URL) share one backend.
    pub fn open(locations: &BTreeMap<String, StoreLocation>) -> anyhow::Result<Self> {
        let mut by_location: HashMap<&StoreLocation, Backend> = HashMap::new();
        let mut stores = HashMap::new();
        for (label, location) in locations {
            let backend = match by_location.get(location) {
                Some(backend) => backend.clone(),
                None => {
                    let backend = Backend::open(location)
                        .with_context(|| format!("key-value store `{label}`"))?;
                    by_location.insert(location, backend.clone());
                    backend
                }
            };
            stores.insert(label.clone(), backend);
        }
        Ok(Self { stores })
    }

    /// The subset of stores one component was granted by `key_value_stores`.
    pub fn grant(&self, labels: &[String]) -> KeyValueGrant {
        let stores = labels
            .iter()
            .filter_map(|l| Some((l.clone(), self.stores.get(l)?.clone())))
            .collect();
        KeyValueGrant { stores }
    }

    /// True when `label` is defined (built-in `default` or runtime config).
    pub fn contains(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }
}

/// The stores one component may open.
#[derive(Default)]
pub struct KeyValueGrant {
    stores: HashMap<String, Backend>,
}

/// Per-instance key-value state.
pub struct KeyValueInstance {
    grant: Arc<KeyValueGrant>,
    open_stores: usize,
}

impl KeyValueInstance {
    pub fn new(grant: Arc<KeyValueGrant>) -> Self {
        Self {
            grant,
            open_stores: 0,
        }
    }
}

/// An open store handle, as held in the instance's resource table.
pub struct KvStoreHandle {
    label: String,
    backend: Backend,
}

/// Runs a blocking SQLite operation off the async executor.
async fn blocking<T: Send + 'static>(
    backend: &Arc<KvBackend>,
    label: &str,
    f: impl FnOnce(&KvBackend, &str) -> Result<T, Error> + Send + 'static,
) -> wasmtime::Result<Result<T, Error>> {
    let backend = backend.clone();
    let label = label.to_owned();
    Ok(tokio::task::spawn_blocking(move || f(&backend, &label)).await?)
}

/// Runs `sqlite` on a SQLite store (off the executor) or `redis` on a Redis one.
macro_rules! on_backend {
    ($handle:expr, |$b:ident, $label:ident| $sqlite:expr, |$r:ident| $redis:expr) => {{
        let handle = $handle;
        match &handle.backend {
            Backend::Sqlite(backend) => {
                blocking(backend, &handle.label, move |$b, $label| $sqlite).await
            }
            Backend::Redis($r) => {
                let $r = $r.clone();
                Ok($redis.await)
            }
        }
    }};
}

impl InstanceState {
    fn kv_handle(&self, store: &Resource<KvStoreHandle>) -> wasmtime::Result<&KvStoreHandle> {
        Ok(self.table.get(store)?)
    }
}

impl key_value::Host for InstanceState {}

impl key_value::HostStore for InstanceState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<KvStoreHandle>, Error>> {
        let Some(backend) = self.key_value.grant.stores.get(&label).cloned() else {
            return Ok(Err(Error::AccessDenied));
        };
        if self.key_value.open_stores >= MAX_OPEN_STORES {
            return Ok(Err(Error::StoreTableFull));
        }
        self.key_value.open_stores += 1;
        Ok(Ok(self.table.push(KvStoreHandle { label, backend })?))
    }

    async fn get(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        on_backend!(
            self.kv_handle(&store)?,
            |b, label| b.get(label, &key),
            |redis| redis.get(key)
        )
    }

    async fn set(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        on_backend!(
            self.kv_handle(&store)?,
            |b, label| b.set(label, &key, &value),
            |redis| redis.set(key, value)
        )
    }

    async fn delete(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        on_backend!(
            self.kv_handle(&store)?,
            |b, label| b.delete(label, &key),
            |redis| redis.delete(key)
        )
    }

    async fn exists(
        &mut self,
        store: Resource<KvStoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        // Spin implements `exists` as a `get` for its `spin` provider and as `EXISTS` for
        // `redis`; so do we, so both agree on every edge case.
        on_backend!(
            self.kv_handle(&store)?,
            |b, label| b.get(label, &key).map(|v| v.is_some()),
            |redis| redis.exists(key)
        )
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        on_backend!(self.kv_handle(&store)?, |b, label| b.keys(label), |redis| {
            redis.keys()
        })
    }

    async fn drop(&mut self, store: Resource<KvStoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.key_value.open_stores = self.key_value.open_stores.saturating_sub(1);
        Ok(())
    }
}

/// The default store's file name in the state dir (Spin's name, so `.spin/` is interchangeable).
pub const DEFAULT_STORE_FILE: &str = "sqlite_key_value.db";

/// Where the built-in `default` store lives: `<state_dir>/sqlite_key_value.db`, or memory.
pub fn default_location(state_dir: Option<&Path>) -> StoreLocation {
    StoreLocation::Sqlite(match state_dir {
        Some(dir) => KvLocation::File(dir.join(DEFAULT_STORE_FILE)),
        None => KvLocation::InMemory,
    })
}
