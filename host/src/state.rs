//! The store data of every instance (one field per capability) and the per-component runtime
//! settings it is built from.

use crate::allowed_hosts::AllowedHosts;
use crate::key_value::{KeyValueGrant, KeyValueInstance};
use crate::logs::{ComponentOutput, LogSink, Stream};
use crate::outbound_http::{HttpCallContext, OutboundHttp};
use crate::sqlite::{SqliteGrant, SqliteInstance};
use crate::variables::ComponentVariables;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Everything one component was granted, resolved once at start-up.
pub struct ComponentRuntime {
    pub id: Arc<str>,
    pub key_value: Arc<KeyValueGrant>,
    pub sqlite: Arc<SqliteGrant>,
    pub variables: Arc<ComponentVariables>,
    pub allowed_hosts: Arc<AllowedHosts>,
    pub environment: Vec<(String, String)>,
    pub log_sink: LogSink,
}

impl ComponentRuntime {
    /// Fresh state for one instance. `http_context` is `Some` only for HTTP-triggered
    /// instances: only they can chain to other components or call their own app.
    pub fn instance_state(&self, http_context: Option<HttpCallContext>) -> InstanceState {
        let wasi = WasiCtx::builder()
            .envs(&self.environment)
            .stdout(ComponentOutput::new(
                &self.id,
                Stream::Stdout,
                self.log_sink.clone(),
            ))
            .stderr(ComponentOutput::new(
                &self.id,
                Stream::Stderr,
                self.log_sink.clone(),
            ))
            .build();
        InstanceState {
            component_id: self.id.clone(),
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            outbound_http: OutboundHttp::new(
                self.id.clone(),
                self.allowed_hosts.clone(),
                http_context,
            ),
            allowed_hosts: self.allowed_hosts.clone(),
            key_value: KeyValueInstance::new(self.key_value.clone()),
            sqlite: SqliteInstance::new(self.sqlite.clone()),
            variables: self.variables.clone(),
        }
    }
}

/// The `T` of every `Store<T>`: one field per capability.
pub struct InstanceState {
    pub(crate) component_id: Arc<str>,
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) outbound_http: OutboundHttp,
    pub(crate) allowed_hosts: Arc<AllowedHosts>,
    pub(crate) key_value: KeyValueInstance,
    pub(crate) sqlite: SqliteInstance,
    pub(crate) variables: Arc<ComponentVariables>,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
