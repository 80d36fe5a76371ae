//! HTTP plumbing shared by every REEN Commerce HTTP component: the error body and the one
//! status mapping, strict JSON and query parsing, CORS, request ids and the per-request log
//! line. A component's `#[http_component]` calls [`serve`] with its router; handlers return
//! `Result<Response, E>` where `E: ApiError`.
#![deny(missing_docs)]

mod body;
mod cors;
mod error;
mod log;
pub mod outbound;
mod paging;
mod proxies;
mod query;
mod response;
mod service;

pub use body::{MAX_BODY_BYTES, parse_json};
pub use cors::Cors;
pub use error::{ApiError, FieldError, RequestError, error_response, reason_phrase};
pub use paging::{PageMeta, PageRequest};
pub use proxies::TrustedProxies;
pub use query::parse_query;
pub use response::{empty, json};
pub use service::{RequestContext, segments, serve};
