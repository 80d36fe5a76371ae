//! The HTTP trigger: Spin's routing, `spin-*` headers, reserved paths and empty 404/500s, a fresh
//! instance per request from a pre-instantiated component, and in-process service chaining.

use crate::manifest::Application;
use crate::outbound_http::{Fault, HttpCallContext};
use crate::routes::{CHAINED_CLIENT_ADDR, RouteMatch, Router, is_reserved_path};
use crate::state::{ComponentRuntime, InstanceState};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;
use wasmtime::Store;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiBody, WasiHttpView as _};

/// A component that serves HTTP, pre-instantiated once at start-up.
pub struct HttpComponent {
    pub runtime: Arc<ComponentRuntime>,
    pub pre: ProxyPre<InstanceState>,
}

/// A `static_response` trigger (Spin ≥ 3.5): answered by the host without any component.
#[derive(Clone, Debug)]
pub struct StaticResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// What a route points at.
pub enum RouteTarget {
    Component(HttpComponent),
    Static(StaticResponse),
}

/// Routes and runs requests, inbound and chained.
pub struct HttpDispatcher {
    /// The body of `/.well-known/spin/info`: the app's name and version, as Spin reports them.
    app_info: String,
    router: Router,
    targets: HashMap<String, RouteTarget>,
    self_origin: OnceLock<String>,
    log_requests: bool,
}

fn empty(status: StatusCode) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}

impl HttpDispatcher {
    pub fn new(
        app: &Application,
        router: Router,
        targets: HashMap<String, RouteTarget>,
        log_requests: bool,
    ) -> Self {
        let info = serde_json::json!({ "name": app.name, "version": app.version });
        Self {
            app_info: serde_json::to_string_pretty(&info).unwrap_or_default(),
            router,
            targets,
            self_origin: OnceLock::new(),
            log_requests,
        }
    }

    /// True when `id` names a component that can receive chained requests.
    pub fn has_component(&self, id: &str) -> bool {
        self.router.has_component(id)
            && matches!(self.targets.get(id), Some(RouteTarget::Component(_)))
    }

    /// Answers one request from the network.
    async fn handle_inbound(
        self: Arc<Self>,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let (response, target) = self.route_inbound(req, client).await;
        if self.log_requests {
            tracing::info!(
                "{method} {path} -> {} {} in {:.2?}",
                target.as_deref().unwrap_or("-"),
                response.status().as_u16(),
                started.elapsed()
            );
        }
        response
    }

    async fn route_inbound(
        self: &Arc<Self>,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> (Response<HyperOutgoingBody>, Option<String>) {
        let path = req.uri().path();
        if path == "/.well-known/spin/health" {
            return (text(StatusCode::OK, "OK"), None);
        }
        if path == "/.well-known/spin/info" {
            return (text(StatusCode::OK, self.app_info.clone()), None);
        }
        if is_reserved_path(path) {
            return (empty(StatusCode::NOT_FOUND), None);
        }
        let Some(matched) = self.router.route(path) else {
            return (empty(StatusCode::NOT_FOUND), None);
        };
        let target = matched.component.clone();
        let response = match self.targets.get(&matched.component) {
            Some(RouteTarget::Static(response)) => static_response(response),
            Some(RouteTarget::Component(component)) => {
                let req = prepare_request(req, &matched, &client.to_string());
                match req {
                    Ok(req) => self.invoke(component, req).await,
                    Err(e) => {
                        tracing::warn!(component = %target, "bad request URI: {e:#}");
                        empty(StatusCode::BAD_REQUEST)
                    }
                }
            }
            None => empty(StatusCode::NOT_FOUND),
        };
        (response, Some(target))
    }

    /// Runs a service-chained request (`http://<id>.spin.internal/...`) in-process.
    pub async fn handle_chained(
        self: Arc<Self>,
        component_id: &str,
        req: Request<WasiBody>,
    ) -> Result<Response<WasiBody>, wasmtime_wasi_http::Error> {
        let Some(RouteTarget::Component(component)) = self.targets.get(component_id) else {
            return Err(wasmtime_wasi_http::Error::DestinationNotFound);
        };
        let path = req.uri().path().to_owned();
        let matched = RouteMatch::chained(component_id, &path);
        let req = prepare_request(req, &matched, CHAINED_CLIENT_ADDR)
            .map_err(|_| wasmtime_wasi_http::Error::HttpRequestUriInvalid)?;
        Ok(Box::pin(self.invoke(component, req)).await)
    }

    /// A fresh instance handles the request; a trap or a missing response is an empty 500.
    async fn invoke<B>(
        self: &Arc<Self>,
        component: &HttpComponent,
        req: Request<B>,
    ) -> Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let id = component.runtime.id.clone();
        match self.run_guest(component, req).await {
            Ok(response) => response,
            Err(err) => {
                tracing::error!(component = %id, "handler failed: {err:?}");
                empty(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    async fn run_guest<B>(
        self: &Arc<Self>,
        component: &HttpComponent,
        req: Request<B>,
    ) -> anyhow::Result<Response<HyperOutgoingBody>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let fault = Arc::new(Fault::default());
        let context = HttpCallContext {
            dispatcher: self.clone(),
            self_origin: self.self_origin.get().cloned().unwrap_or_default(),
            fault: fault.clone(),
        };
        let state = component.runtime.instance_state(Some(context));
        let mut store = Store::new(component.pre.engine(), state);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = component.pre.clone();
        // The guest may keep streaming the body after it has sent the head, so it runs in
        // its own task and outlives this function.
        let mut task = tokio::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        });
        let answer = tokio::select! {
            answer = receiver => answer,
            message = fault.raised() => {
                task.abort();
                anyhow::bail!("guest stopped: {message}");
            }
        };
        match answer {
            Ok(Ok(response)) => {
                // The guest may still be streaming the body: a fault raised now stops it too.
                let id = component.runtime.id.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        message = fault.raised() => {
                            task.abort();
                            tracing::error!(component = %id, "guest stopped: {message}");
                        }
                        _ = &mut task => {}
                    }
                });
                Ok(response)
            }
            Ok(Err(code)) => anyhow::bail!("guest returned error code {code:?}"),
            Err(_) => match task.await? {
                Ok(()) => anyhow::bail!("guest returned without sending a response"),
                Err(trap) => Err(anyhow::Error::from(trap)),
            },
        }
    }

    /// Serves on `listener` until `shutdown` flips to true.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let addr = listener.local_addr().ok();
        if let Some(addr) = addr {
            let _ = self.self_origin.set(format!("http://{addr}"));
        }
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                },
                _ = shutdown.changed() => break,
            };
            // Nagle's algorithm would hold small responses back ~40 ms waiting for ACKs.
            let _ = stream.set_nodelay(true);
            let dispatcher = self.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let dispatcher = dispatcher.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            dispatcher.handle_inbound(req, client).await,
                        )
                    }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!("connection from {client} ended: {e}");
                }
            });
            // Reap finished connections so the set does not grow without bound.
            while connections.try_join_next().is_some() {}
        }
        connections.shutdown().await;
    }
}

fn static_response(response: &StaticResponse) -> Response<HyperOutgoingBody> {
    let mut out = text(
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK),
        response.body.clone().unwrap_or_default(),
    );
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

/// Prepares a request as Spin does before calling the guest: an absolute URI (the original
/// one for chained calls, `http://<Host header>/...` for inbound ones), no `Connection`
/// header, and the `spin-*` headers for this match appended after the client's own (a
/// client-sent `spin-*` header is not removed, so the guest sees it first, as on Spin).
/// `spin-full-url` takes its host from the `Host` header, falling back to `localhost`.
fn prepare_request<B>(
    req: Request<B>,
    matched: &RouteMatch,
    client_addr: &str,
) -> anyhow::Result<Request<B>> {
    let (mut parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    if parts.uri.authority().is_none() {
        parts.uri = format!("http://{host}{path_and_query}").parse()?;
    }
    let full_url = format!("http://{host}{path_and_query}");
    parts.headers.remove(http::header::CONNECTION);
    for (name, value) in matched.spin_headers(&full_url, client_addr) {
        // Spin skips a header it cannot represent rather than failing the request.
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            parts.headers.append(name, value);
        }
    }
    Ok(Request::from_parts(parts, body))
}
