//! The host's answers to a dependency's denied imports (`denied-<interface>`, see
//! `inherit.rs`): what Spin's deny adapter answers, so a guest sees the same error values on
//! both hosts. A variable is `undefined(name)`, a database or key-value store
//! `access-denied`, a Redis connection `other("\"fermyon:spin/redis\" is not permitted")`, an
//! outbound request `internal-error(some("\"wasi:http/outgoing-handler\" is not permitted"))`,
//! and the environment is empty. Everything else in those interfaces is a method of a resource
//! that can never be created here, so calling it traps, as in Spin.
//!
//! The definitions are made per composed component, from the types it imports, in a copy of
//! the host's linker: only such components pay for them, and any version of an interface fits.

use crate::inherit;
use crate::state::InstanceState;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceAny, ResourceType, Val};
use wasmtime::error::{Context as _, bail};
use wasmtime::{Engine, StoreContextMut};
use wasmtime_wasi_http::RequestOptions;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};

/// Stands for every resource of a denied interface; none is ever created.
struct Denied;

/// Whether `component` imports any denied interface.
pub fn has_denied_imports(engine: &Engine, component: &Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| inherit::denied_interface(name).is_some())
}

/// Defines in `linker` every denied interface `component` imports.
pub fn define(
    linker: &mut Linker<InstanceState>,
    engine: &Engine,
    component: &Component,
) -> anyhow::Result<()> {
    for (import, item) in component.component_type().imports(engine) {
        let Some(interface) = inherit::denied_interface(import) else {
            continue;
        };
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            anyhow::bail!("denied import `{import}` is not an instance");
        };
        let mut definitions = linker.instance(import)?;
        for (name, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::Resource(_) => {
                    let ty = shared_resource(interface, name)
                        .unwrap_or_else(ResourceType::host::<Denied>);
                    definitions.resource(name, ty, |_, _| Ok(()))?;
                }
                ComponentItem::ComponentFunc(_) => {
                    let call = DeniedCall::new(interface, name);
                    definitions.func_new(name, move |store, _, params, results| {
                        call.answer(store, params, results)
                    })?;
                }
                // Types (records, variants, ...) need no definition.
                _ => {}
            }
        }
    }
    Ok(())
}

/// A resource a denied interface `use`s from an interface the host still provides, which must
/// stay the host's own type: only `wasi:http/outgoing-handler` has such (from `wasi:http/types`,
/// with the types wasmtime-wasi-http gives them).
fn shared_resource(interface: &str, resource: &str) -> Option<ResourceType> {
    if !interface.starts_with("wasi:http/outgoing-handler@") {
        return None;
    }
    match resource {
        "outgoing-request" => Some(ResourceType::host::<HostOutgoingRequest>()),
        "request-options" => Some(ResourceType::host::<RequestOptions>()),
        "future-incoming-response" => Some(ResourceType::host::<HostFutureIncomingResponse>()),
        _ => None,
    }
}

/// One function of a denied interface.
struct DeniedCall {
    /// `ns:pkg/iface`, without the version: the answers are the same for every version.
    interface: String,
    function: String,
}

impl DeniedCall {
    fn new(interface: &str, function: &str) -> Self {
        let unversioned = interface.split('@').next().unwrap_or(interface);
        Self {
            interface: unversioned.to_owned(),
            function: function.to_owned(),
        }
    }

    fn answer(
        &self,
        mut store: StoreContextMut<'_, InstanceState>,
        params: &[Val],
        results: &mut [Val],
    ) -> wasmtime::Result<()> {
        let answer = match (self.interface.as_str(), self.function.as_str()) {
            ("fermyon:spin/variables", "get") => {
                let name = params.first().cloned().context("get without a name")?;
                error(variant("undefined", Some(name)))
            }
            ("fermyon:spin/sqlite" | "spin:sqlite/sqlite", "[static]connection.open")
            | ("fermyon:spin/key-value", "[static]store.open") => {
                error(variant("access-denied", None))
            }
            ("fermyon:spin/redis", "[static]connection.open") => error(variant(
                "other",
                Some(Val::String(not_permitted("fermyon:spin/redis"))),
            )),
            ("wasi:http/outgoing-handler", "handle") => {
                // The request (and its options) were handed over; drop them as the call would.
                release_request(&mut store, params)?;
                let message = Val::String(not_permitted("wasi:http/outgoing-handler"));
                error(variant(
                    "internal-error",
                    Some(Val::Option(Some(Box::new(message)))),
                ))
            }
            ("wasi:cli/environment", "get-environment" | "get-arguments") => Val::List(Vec::new()),
            ("wasi:cli/environment", "initial-cwd") => Val::Option(None),
            (interface, function) => bail!(
                "`{interface}#{function}` was called although this dependency was denied \
                 `{interface}`"
            ),
        };
        let slot = results
            .first_mut()
            .context("a denied call without a result")?;
        *slot = answer;
        Ok(())
    }
}

/// Spin's deny adapter's message for an interface it refuses with a text.
fn not_permitted(interface: &str) -> String {
    format!("{interface:?} is not permitted")
}

fn error(payload: Val) -> Val {
    Val::Result(Err(Some(Box::new(payload))))
}

fn variant(case: &str, payload: Option<Val>) -> Val {
    Val::Variant(case.to_owned(), payload.map(Box::new))
}

/// Deletes the `outgoing-request` and optional `request-options` passed to `handle` from the
/// instance's resource table.
fn release_request(
    store: &mut StoreContextMut<'_, InstanceState>,
    params: &[Val],
) -> wasmtime::Result<()> {
    let owned = |val: &Val| match val {
        Val::Resource(resource) => Some(*resource),
        Val::Option(Some(inner)) => match **inner {
            Val::Resource(resource) => Some(resource),
            _ => None,
        },
        _ => None,
    };
    let (request, options): (Option<ResourceAny>, Option<ResourceAny>) = (
        params.first().and_then(owned),
        params.get(1).and_then(owned),
    );
    if let Some(request) = request {
        let request = request.try_into_resource::<HostOutgoingRequest>(&mut *store)?;
        store.data_mut().table.delete(request)?;
    }
    if let Some(options) = options {
        let options = options.try_into_resource::<RequestOptions>(&mut *store)?;
        store.data_mut().table.delete(options)?;
    }
    Ok(())
}
