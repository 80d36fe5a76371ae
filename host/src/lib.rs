//! `reen-host`: a Spin-compatible local runtime. It reads the same `spin.toml` and
//! `runtime-config.toml` as the Spin CLI and runs the same spin-sdk 5.2 components
//! (`wasm32-wasip2`) on wasmtime with Spin's semantics. Start an app with [`RunningApp::start`].

pub mod allowed_hosts;
pub mod app;
mod bindings;
pub mod builder;
pub mod cli;
pub mod compose;
mod deny;
pub mod dev_secrets;
mod engine;
pub mod inherit;
pub mod key_value;
mod key_value_redis;
mod key_value_sqlite;
pub mod local_redis;
pub mod logs;
pub mod manifest;
pub mod outbound_http;
mod outbound_redis;
pub mod routes;
pub mod runtime_config;
pub mod sqlite;
mod sqlite_file;
mod sqlite_reuse;
mod state;
pub mod testing;
pub mod trigger_http;
pub mod trigger_redis;
pub mod variables;

pub use app::{AppOptions, RunningApp, StateDir};
pub use logs::LogSink;
