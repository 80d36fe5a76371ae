//! Host-side bindings for the Spin WIT in `host/wit/` (the interfaces spin-sdk 5.2 guests import).

wasmtime::component::bindgen!({
    path: "wit",
    world: "spin-host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::key_value::KvStoreHandle,
        "fermyon:spin/sqlite.connection": crate::sqlite::SqliteConnection,
        "spin:sqlite/sqlite.connection": crate::sqlite::SqliteConnection,
        "fermyon:spin/redis.connection": crate::outbound_redis::RedisConnection,
    },
});

/// The Redis-trigger entry point (`fermyon:spin/inbound-redis`), exported by Redis components.
pub mod redis_handler {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "redis-handler",
        exports: { default: async },
    });
}
