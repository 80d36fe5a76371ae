//! Outbound HTTP with deadlines. `spin_sdk::http::send` passes no request options, so a peer
//! that accepts the connection and never answers (a stalled payment provider) would hold the
//! caller's request open for as long as the host allows. This sends through
//! `wasi:http/outgoing-handler` with connect, first-byte and between-bytes timeouts that the
//! host enforces (Spin and reen-host both honour them), and answers the status and the whole
//! body.

use ::wasi::io as wasi_io;
use spin_sdk::wit::wasi::http0_2_0::{outgoing_handler, types as wasi};
use std::time::Duration;

/// A request to send: method, absolute `http(s)://` URL, headers and body.
pub struct Outbound<'a> {
    /// `POST`, `DELETE`, ...
    pub method: &'a str,
    /// An absolute URL.
    pub url: &'a str,
    /// Header names and values, in order.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (empty for none).
    pub body: &'a [u8],
}

/// What the peer answered.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Why nothing usable came back: the request may or may not have reached the peer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OutboundError(String);

fn failed(what: &str, detail: impl std::fmt::Debug) -> OutboundError {
    OutboundError(format!("{what}: {detail:?}"))
}

/// Sends `request`, waiting at most `timeout` to connect, then at most `timeout` for the
/// answer to start and between its chunks. Blocks this instance while it waits (the host's
/// other requests go on).
pub fn send(request: &Outbound<'_>, timeout: Duration) -> Result<Reply, OutboundError> {
    let (scheme, authority, path) = split_url(request.url)?;
    let fields: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_bytes().to_vec()))
        .collect();
    let headers = wasi::Fields::from_list(&fields).map_err(|e| failed("headers", e))?;
    let outgoing = wasi::OutgoingRequest::new(headers);
    let method = match request.method {
        "GET" => wasi::Method::Get,
        "POST" => wasi::Method::Post,
        "PUT" => wasi::Method::Put,
        "DELETE" => wasi::Method::Delete,
        "PATCH" => wasi::Method::Patch,
        other => wasi::Method::Other(other.to_owned()),
    };
    let refused = |what: &str| OutboundError(format!("the host refused the {what}"));
    outgoing
        .set_method(&method)
        .map_err(|()| refused("method"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(Some(authority))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(Some(path))
        .map_err(|()| refused("path"))?;
    let body = outgoing.body().map_err(|()| refused("body"))?;

    let options = wasi::RequestOptions::new();
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    // A host that does not support one of them says so; the others still apply.
    let _ = options.set_connect_timeout(Some(nanos));
    let _ = options.set_first_byte_timeout(Some(nanos));
    let _ = options.set_between_bytes_timeout(Some(nanos));
    let future =
        outgoing_handler::handle(outgoing, Some(options)).map_err(|e| failed("send", e))?;

    {
        let stream = body.write().map_err(|()| refused("body stream"))?;
        for chunk in request.body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| failed("writing the body", e))?;
        }
    }
    wasi::OutgoingBody::finish(body, None).map_err(|e| failed("finishing the body", e))?;

    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(failed("no answer", code)),
        Some(Err(())) | None => return Err(OutboundError("the answer was lost".into())),
    };
    let status = response.status();
    let incoming = response.consume().map_err(|()| refused("answer body"))?;
    let mut bytes = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| refused("answer stream"))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(wasi_io::streams::StreamError::Closed) => break,
                Err(e) => return Err(failed("reading the answer", e)),
            }
        }
    }
    Ok(Reply {
        status,
        body: bytes,
    })
}

/// `http://host:port/path?query` → (scheme, authority, path with query).
fn split_url(url: &str) -> Result<(wasi::Scheme, &str, &str), OutboundError> {
    let bad = || OutboundError(format!("not an absolute http(s) URL: {url}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = match scheme {
        "http" => wasi::Scheme::Http,
        "https" => wasi::Scheme::Https,
        _ => return Err(bad()),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(bad());
    }
    Ok((scheme, authority, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_splits_into_scheme_authority_and_path() {
        let (scheme, authority, path) = split_url("http://127.0.0.1:9/v1/refunds?x=1").unwrap();
        assert!(matches!(scheme, wasi::Scheme::Http));
        assert_eq!((authority, path), ("127.0.0.1:9", "/v1/refunds?x=1"));
        let (scheme, authority, path) = split_url("https://api.stripe.com").unwrap();
        assert!(matches!(scheme, wasi::Scheme::Https));
        assert_eq!((authority, path), ("api.stripe.com", "/"));
        assert!(split_url("ftp://x/").is_err());
        assert!(split_url("http:///path").is_err());
        assert!(split_url("api.stripe.com/v1").is_err());
    }
}
