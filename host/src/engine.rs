//! The process-wide wasmtime engine, its linker with every host API, and component compilation.
//!
//! One engine serves every app in the process (the test harness starts many), so the pooling
//! allocator's address-space reservation is made once and a component compiled for one app is
//! reused by the next.

use crate::bindings;
use crate::deny;
use crate::state::InstanceState;
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Largest linear memory a guest may grow to. Spin sets no limit by default; hosted platforms
/// allow 128 MiB, so this is generous while keeping each pool slot's reservation bounded.
const MAX_GUEST_MEMORY: usize = 512 << 20;

/// Bytes of each linear memory / table reset in place (not decommitted) between instances.
const KEEP_RESIDENT_MEMORY: usize = 16 << 20;
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// Instances that may be alive at once across all apps in the process (concurrent requests,
/// chained calls and Redis messages each hold one).
const POOL_INSTANCES: u32 = 1000;

struct Runtime {
    engine: Engine,
    linker: Linker<InstanceState>,
    compiled: Mutex<HashMap<[u8; 32], Component>>,
}

fn runtime() -> anyhow::Result<&'static Runtime> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let engine = new_engine()?;
    let linker = new_linker(&engine)?;
    Ok(RUNTIME.get_or_init(|| Runtime {
        engine,
        linker,
        compiled: Mutex::new(HashMap::new()),
    }))
}

fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 8)
        .total_memories(POOL_INSTANCES * 2)
        .total_tables(POOL_INSTANCES * 4)
        .total_stacks(POOL_INSTANCES)
        .max_memory_size(MAX_GUEST_MEMORY)
        .max_core_instances_per_component(50)
        .max_memories_per_component(10)
        .max_tables_per_component(20);
    // A fresh instance per request means a linear memory is handed back to the pool for every
    // request. By default the pool `madvise`s it away, and the next instance faults every page
    // back in: profiled under load, ~45% of the host's time was kernel page faults and the TLB
    // shootdowns of those `madvise` calls, against ~5% running guest code. Resetting the first
    // 16 MiB with `memset` instead raised hello-benchmark throughput 1.2-2x (README).
    // The price is RSS: up to that much per warm slot a guest actually touched.
    pool.linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE);
    let mut pooled = config.clone();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // The pool reserves address space up front; where that is refused (tight ulimit -v, some
    // sandboxes) fall back to on-demand allocation rather than not running at all.
    match Engine::new(&pooled) {
        Ok(engine) => Ok(engine),
        Err(err) => {
            tracing::warn!("pooling allocator unavailable ({err}); using on-demand allocation");
            Ok(Engine::new(&config)?)
        }
    }
}

fn new_linker(engine: &Engine) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    bindings::SpinHost::add_to_linker::<_, HasSelf<InstanceState>>(&mut linker, |s| s)?;
    // Type-only interface that Redis components import alongside their export.
    linker.instance("fermyon:spin/redis-types")?;
    Ok(linker)
}

/// The component's instance template, linked against WASI, wasi:http and the Spin APIs. A
/// composition whose dependencies are denied some capabilities also imports those denials
/// (`deny.rs`); it is linked against a copy of the linker that defines them as well.
pub fn instantiate_pre(component: &Component) -> anyhow::Result<InstancePre<InstanceState>> {
    let rt = runtime()?;
    if !deny::has_denied_imports(&rt.engine, component) {
        return Ok(rt.linker.instantiate_pre(component)?);
    }
    let mut linker = rt.linker.clone();
    deny::define(&mut linker, &rt.engine, component)?;
    Ok(linker.instantiate_pre(component)?)
}

/// Compiles a component file, reusing an earlier compilation of identical bytes.
pub fn load_component(path: &Path) -> anyhow::Result<Component> {
    let rt = runtime()?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    load_component_bytes(rt, &bytes).with_context(|| format!("loading {}", path.display()))
}

/// Compiles a component from bytes (a composition), reusing an earlier compilation of
/// identical bytes.
pub fn load_component_from_bytes(bytes: &[u8]) -> anyhow::Result<Component> {
    load_component_bytes(runtime()?, bytes)
}

fn load_component_bytes(rt: &Runtime, bytes: &[u8]) -> anyhow::Result<Component> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    if let Some(component) = rt.compiled.lock().expect("compile cache lock").get(&digest) {
        return Ok(component.clone());
    }
    if is_core_module(bytes) {
        anyhow::bail!(
            "this is a core wasm module, not a component: build it with `--target wasm32-wasip2`"
        );
    }
    let component = Component::new(&rt.engine, bytes)?;
    rt.compiled
        .lock()
        .expect("compile cache lock")
        .insert(digest, component.clone());
    Ok(component)
}

/// A core module's preamble has version 1; a component's has layer 1 and version 0x0d.
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[0..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}
