//! Outbound `wasi:http`: the `allowed_outbound_hosts` policy, Spin's service chaining to
//! `http://<component>.spin.internal` (dispatched in-process, never over the network) and
//! self requests (relative URLs or `self.alt`, sent to this app's own listener).

use crate::allowed_hosts::{AllowedHosts, service_chaining_target};
use crate::trigger_http::HttpDispatcher;
use http_body_util::BodyExt as _;
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// What only HTTP-triggered instances may do (Spin installs these from the HTTP trigger).
#[derive(Clone)]
pub struct HttpCallContext {
    /// Runs chained requests against the app's other HTTP components.
    pub dispatcher: Arc<HttpDispatcher>,
    /// `http://ip:port` of the app's own listener, for self requests.
    pub self_origin: String,
    /// Raised when the guest must stop as if it had trapped (see [`Fault`]).
    pub fault: Arc<Fault>,
}

/// A failure Spin turns into a trap of the calling guest rather than an error code it could
/// handle: a chained request to `http://<id>.spin.internal` when the app has no component
/// `<id>` ("unknown routing destination"). The hooks cannot trap, so the request never
/// completes and the HTTP trigger, woken by [`Fault::raised`], stops the guest and answers an
/// empty 500 as for a trap; the guest runs no further code, as on Spin.
#[derive(Default)]
pub struct Fault {
    message: std::sync::OnceLock<String>,
    raised: tokio::sync::Notify,
}

impl Fault {
    fn raise(&self, message: String) {
        if self.message.set(message).is_ok() {
            self.raised.notify_one();
        }
    }

    /// Resolves with the message once a fault has been raised.
    pub async fn raised(&self) -> String {
        loop {
            if let Some(message) = self.message.get() {
                return message.clone();
            }
            self.raised.notified().await;
        }
    }
}

/// The per-instance outbound HTTP policy; it is the instance's `WasiHttpHooks`.
pub struct OutboundHttp {
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
    http_context: Option<HttpCallContext>,
}

impl OutboundHttp {
    pub fn new(
        component_id: Arc<str>,
        allowed: Arc<AllowedHosts>,
        http_context: Option<HttpCallContext>,
    ) -> Self {
        Self {
            component_id,
            allowed,
            http_context,
        }
    }

    fn deny(&self, target: &str) -> Error {
        tracing::warn!(
            component = %self.component_id,
            "outbound request to `{target}` denied: add it to `allowed_outbound_hosts` of component `{}` in spin.toml",
            self.component_id
        );
        Error::HttpRequestDenied
    }

    fn allows(&self, uri: &http::Uri) -> bool {
        url::Url::parse(&uri.to_string()).is_ok_and(|url| self.allowed.allows(&url))
    }

    /// Decides where a request goes; errors are what the guest sees.
    fn route(&self, request: &http::Request<WasiBody>) -> Result<Destination, Error> {
        let uri = request.uri();
        let host = uri.host().unwrap_or_default();
        // The SDK fills an empty authority for relative URLs; Spin treats an empty host as self.
        if host.is_empty() || host == "self.alt" {
            if !self.allowed.allows_self() {
                return Err(self.deny(&uri.to_string()));
            }
            let Some(ctx) = &self.http_context else {
                // Only the HTTP trigger knows its own address (spin-platform.md §4.4).
                return Err(Error::HttpRequestUriInvalid);
            };
            return Ok(Destination::SelfOrigin(ctx.self_origin.clone()));
        }
        if !self.allows(uri) {
            return Err(self.deny(&uri.to_string()));
        }
        if let Some(component) = service_chaining_target(host) {
            return match &self.http_context {
                Some(ctx) if ctx.dispatcher.has_component(component) => Ok(Destination::Chained {
                    dispatcher: ctx.dispatcher.clone(),
                    component: component.to_owned(),
                }),
                Some(ctx) => {
                    ctx.fault
                        .raise(format!("unknown routing destination '{component}'"));
                    Ok(Destination::Stopped)
                }
                // Outside the HTTP trigger there is no interceptor: the name does not resolve.
                None => Err(Error::DnsError {
                    rcode: Some("NXDOMAIN".into()),
                    info_code: None,
                }),
            };
        }
        Ok(Destination::Network)
    }
}

enum Destination {
    Network,
    /// Never answered: the guest is being stopped (a [`Fault`] was raised).
    Stopped,
    SelfOrigin(String),
    Chained {
        dispatcher: Arc<HttpDispatcher>,
        component: String,
    },
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// Sends over the network with wasmtime's default client.
async fn send_network(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
> {
    let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((
        response.map(|body| body.boxed_unsync()),
        Box::new(io) as Box<dyn Future<Output = _> + Send>,
    ))
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let destination = self.route(&request);
        Box::new(async move {
            match destination? {
                Destination::Network => send_network(request, options).await,
                Destination::Stopped => std::future::pending().await,
                Destination::SelfOrigin(origin) => {
                    let path = request
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/");
                    *request.uri_mut() = format!("{origin}{path}")
                        .parse()
                        .map_err(|_| Error::HttpRequestUriInvalid)?;
                    request.headers_mut().remove(http::header::HOST);
                    send_network(request, options).await
                }
                Destination::Chained {
                    dispatcher,
                    component,
                } => {
                    // Spin drops the `*.spin.internal` Host header before dispatching.
                    request.headers_mut().remove(http::header::HOST);
                    let response = dispatcher.handle_chained(&component, request).await?;
                    Ok((
                        response,
                        Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
                    ))
                }
            }
        })
    }
}
