//! The load generator: N keep-alive HTTP/1.1 connections, each sending requests back to back.
//! What each request is comes from [`LoadConfig::requests`], asked once per request with the
//! connection's number: method, path, headers, body and the status that counts as success. Most
//! benches send GETs ([`gets`]: the path from [`Paths`] — `/` for the hello component, a
//! sequence of product pages for the products benchmark — and the same [`Headers`] every time,
//! e.g. a shopper's bearer token for the cart benchmark); the checkout benchmark sends POSTs,
//! each connection as its own buyer, and signed webhook events whose body differs per request.
//!
//! Every connection runs from the start of the warm-up to the end of the run; only requests that
//! *start* after the warm-up are recorded, so the measured window is exactly `duration` long and
//! requests still in flight when it closes are dropped rather than counted.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout_at};

/// The path of the next request; called once per request sent, from every connection.
pub type Paths = Arc<dyn Fn() -> String + Send + Sync>;

/// Every request to the same path.
pub fn fixed(path: &str) -> Paths {
    let path = path.to_owned();
    Arc::new(move || path.clone())
}

/// `paths`, counting the requests sent (warm-up, measured window and any cut off at the end).
pub fn counting(paths: Paths) -> (Paths, Arc<AtomicU64>) {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let counted: Paths = Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        paths()
    });
    (counted, sent)
}

/// Extra request headers, the same on every request.
pub type Headers = Arc<Vec<(HeaderName, HeaderValue)>>;

/// `authorization: Bearer <token>` as the only extra header.
pub fn bearer(token: &str) -> anyhow::Result<Headers> {
    let value = HeaderValue::try_from(format!("Bearer {token}"))?;
    Ok(Arc::new(vec![(header::AUTHORIZATION, value)]))
}

/// One request to send, and the status that counts as its success.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    pub path: String,
    /// Sent besides `host` (and `content-length`, which the body sets).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Empty for none.
    pub body: Bytes,
    /// The answer recorded as a success (its latency kept); any other is counted by status.
    pub expect: StatusCode,
}

impl Outgoing {
    /// `GET path`, no body, expecting 200.
    pub fn get(path: String) -> Self {
        Self {
            method: Method::GET,
            path,
            headers: Vec::new(),
            body: Bytes::new(),
            expect: StatusCode::OK,
        }
    }
}

/// The next request of connection `n` (`0..connections`, the same for the connection's whole
/// life, across reconnections); called once per request sent, from every connection.
pub type Requests = Arc<dyn Fn(usize) -> Outgoing + Send + Sync>;

/// GETs of `paths`, each with `headers`, expecting 200, whatever the connection.
pub fn gets(paths: Paths, headers: Headers) -> Requests {
    Arc::new(move |_connection| {
        let mut request = Outgoing::get(paths());
        request.headers = headers.as_ref().clone();
        request
    })
}

/// What to send, and for how long.
#[derive(Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// What each request is ([`gets`] for GETs).
    pub requests: Requests,
}

/// The outcome of one run: successful latencies (sorted, in microseconds), error count (of
/// which the answers other than the expected status, by status), and how many requests were
/// still in flight when the run ended (abandoned, not counted).
#[derive(Debug, Default)]
pub struct LoadReport {
    pub latencies_us: Vec<u64>,
    /// Requests of the measured window that did not answer their expected status (200 for
    /// GETs): other statuses, and transport failures (connection refused or reset, unreadable
    /// response).
    pub errors: u64,
    /// The answers of the measured window with a status other than the expected one, by status
    /// (also counted in `errors`).
    pub statuses: BTreeMap<u16, u64>,
    pub cut_off: u64,
    pub duration: Duration,
}

impl LoadReport {
    /// Successful responses (the expected status) per second over the measured window.
    pub fn requests_per_sec(&self) -> f64 {
        self.latencies_us.len() as f64 / self.duration.as_secs_f64()
    }

    /// Latency at percentile `p` (0–100), or `None` when nothing succeeded.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        percentile(&self.latencies_us, p).map(Duration::from_micros)
    }

    /// Answers other than the expected status (whatever it was) in the measured window.
    pub fn non_ok(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Requests of the measured window that got no answer at all.
    pub fn transport_errors(&self) -> u64 {
        self.errors - self.non_ok()
    }
}

/// A latency in milliseconds with two decimals, `-` for none.
pub fn millis(latency: Option<Duration>) -> String {
    match latency {
        Some(latency) => format!("{:.2} ms", latency.as_secs_f64() * 1000.0),
        None => "-".into(),
    }
}

/// Nearest-rank percentile of an ascending slice: the smallest value such that at least `p`
/// percent of the samples are less than or equal to it.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Runs the load described by `config` and gathers every connection's samples.
pub async fn run(config: LoadConfig) -> LoadReport {
    let measure_from = Instant::now() + config.warmup;
    let end = measure_from + config.duration;
    let workers: Vec<_> = (0..config.connections)
        .map(|n| {
            let requests = config.requests.clone();
            tokio::spawn(connection_loop(config.addr, n, requests, measure_from, end))
        })
        .collect();
    let mut report = LoadReport {
        duration: config.duration,
        ..LoadReport::default()
    };
    for worker in workers {
        let sample = worker.await.expect("load worker panicked");
        report.latencies_us.extend(sample.latencies_us);
        report.errors += sample.errors;
        for (status, count) in sample.statuses {
            *report.statuses.entry(status).or_default() += count;
        }
        report.cut_off += sample.cut_off;
    }
    report.latencies_us.sort_unstable();
    report
}

/// One GET `path` over a fresh connection: the readiness probe.
pub async fn probe(addr: SocketAddr, path: &str) -> anyhow::Result<StatusCode> {
    let mut sender = connect(addr).await?;
    send(&mut sender, addr, Outgoing::get(path.to_owned())).await
}

#[derive(Default)]
struct Sample {
    latencies_us: Vec<u64>,
    errors: u64,
    statuses: BTreeMap<u16, u64>,
    cut_off: u64,
}

async fn connection_loop(
    addr: SocketAddr,
    connection: usize,
    requests: Requests,
    measure_from: Instant,
    end: Instant,
) -> Sample {
    let mut sample = Sample::default();
    while Instant::now() < end {
        let mut sender = match timeout_at(end, connect(addr)).await {
            Err(_elapsed) => break,
            Ok(Ok(sender)) => sender,
            Ok(Err(_)) => {
                if Instant::now() >= measure_from {
                    sample.errors += 1;
                }
                sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        loop {
            let start = Instant::now();
            if start >= end {
                break;
            }
            // The server closed the connection (e.g. `connection: close`): not an error.
            if sender.ready().await.is_err() {
                break;
            }
            let request = requests(connection);
            let expect = request.expect;
            let outcome = match timeout_at(end, send(&mut sender, addr, request)).await {
                Err(_elapsed) => {
                    sample.cut_off += 1;
                    break;
                }
                Ok(outcome) => outcome,
            };
            let counted = start >= measure_from;
            match outcome {
                Ok(status) if status == expect => {
                    if counted {
                        sample.latencies_us.push(start.elapsed().as_micros() as u64);
                    }
                }
                Ok(other) => {
                    if counted {
                        sample.errors += 1;
                        *sample.statuses.entry(other.as_u16()).or_default() += 1;
                    }
                }
                Err(_) => {
                    if counted {
                        sample.errors += 1;
                    }
                    break;
                }
            }
        }
    }
    sample
}

async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    // Drives the socket; ends when `sender` is dropped or the server closes the connection.
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends `request` and reads the whole body, so the response is really complete.
async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    request: Outgoing,
) -> anyhow::Result<StatusCode> {
    let mut builder = Request::builder()
        .method(request.method)
        .uri(request.path)
        .header(header::HOST, addr.to_string());
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    let response = sender
        .send_request(builder.body(Full::new(request.body))?)
        .await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_of_nothing_is_none() {
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), Some(50));
        assert_eq!(percentile(&samples, 99.0), Some(99));
        assert_eq!(percentile(&samples, 99.5), Some(100));
        assert_eq!(percentile(&samples, 100.0), Some(100));
        assert_eq!(percentile(&samples, 0.0), Some(1));
    }

    #[test]
    fn percentile_of_small_samples() {
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 75.0), Some(3));
        assert_eq!(percentile(&[1, 2, 3, 4], 76.0), Some(4));
    }

    #[test]
    fn report_rates_and_percentiles() {
        let report = LoadReport {
            latencies_us: vec![1_000, 2_000, 3_000, 4_000],
            errors: 3,
            statuses: BTreeMap::from([(401, 1), (503, 1)]),
            cut_off: 0,
            duration: Duration::from_secs(2),
        };
        assert_eq!(report.requests_per_sec(), 2.0);
        assert_eq!(report.percentile(50.0), Some(Duration::from_millis(2)));
        assert_eq!(report.percentile(99.0), Some(Duration::from_millis(4)));
        assert_eq!(report.non_ok(), 2);
        assert_eq!(report.transport_errors(), 1);
    }

    #[test]
    fn millis_has_two_decimals() {
        assert_eq!(millis(Some(Duration::from_micros(1_234))), "1.23 ms");
        assert_eq!(millis(None), "-");
    }

    /// A loopback server answering 200 when the request carries `authorization: Bearer t`,
    /// 401 otherwise.
    async fn bearer_server() -> SocketAddr {
        use hyper::server::conn::http1 as server;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let ok = req.headers().get(header::AUTHORIZATION)
                        == Some(&HeaderValue::from_static("Bearer t"));
                    let status = if ok { 200 } else { 401 };
                    http::Response::builder()
                        .status(status)
                        .body(http_body_util::Full::new(Bytes::from_static(b"{}")))
                });
                tokio::spawn(
                    server::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_request_carries_the_headers_and_other_statuses_are_counted_by_status() {
        let addr = bearer_server().await;
        let config = |headers| LoadConfig {
            addr,
            connections: 2,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(200),
            requests: gets(fixed("/"), headers),
        };

        let with = run(config(bearer("t").unwrap())).await;
        assert!(!with.latencies_us.is_empty());
        assert_eq!((with.errors, with.non_ok()), (0, 0));

        let without = run(config(Headers::default())).await;
        assert!(without.latencies_us.is_empty());
        assert!(without.errors > 0);
        assert_eq!(without.statuses.keys().collect::<Vec<_>>(), [&401]);
        assert_eq!(without.non_ok(), without.errors);
        assert_eq!(without.transport_errors(), 0);
    }

    /// A loopback server answering 201 to `POST /things` whose body is `connection <n>` with
    /// `x-connection: <n>`, 400 to anything else.
    async fn post_server() -> SocketAddr {
        use hyper::server::conn::http1 as server;
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await?.to_bytes();
                    let n = parts.headers.get("x-connection").cloned();
                    let ok = parts.method == Method::POST
                        && parts.uri.path() == "/things"
                        && n.is_some_and(|n| body == format!("connection {}", n.to_str().unwrap()));
                    let status = if ok { 201 } else { 400 };
                    http::Response::builder()
                        .status(status)
                        .body(http_body_util::Full::new(Bytes::new()))
                        .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })
                });
                tokio::spawn(
                    server::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_connection_sends_its_own_requests_and_the_expected_status_counts() {
        let addr = post_server().await;
        let seen = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let recorder = seen.clone();
        let requests: Requests = Arc::new(move |n| {
            recorder.lock().unwrap().insert(n);
            Outgoing {
                method: Method::POST,
                path: "/things".into(),
                headers: vec![(
                    HeaderName::from_static("x-connection"),
                    HeaderValue::from(n),
                )],
                body: Bytes::from(format!("connection {n}")),
                expect: StatusCode::CREATED,
            }
        });
        let report = run(LoadConfig {
            addr,
            connections: 3,
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(200),
            requests,
        })
        .await;
        assert!(!report.latencies_us.is_empty());
        assert_eq!((report.errors, report.non_ok()), (0, 0));
        assert_eq!(*seen.lock().unwrap(), (0..3).collect());

        // A GET of the same path answers 400: not the expected 200, counted by status.
        let gets = run(LoadConfig {
            addr,
            connections: 1,
            warmup: Duration::ZERO,
            duration: Duration::from_millis(100),
            requests: gets(fixed("/things"), Headers::default()),
        })
        .await;
        assert!(gets.latencies_us.is_empty());
        assert_eq!(gets.statuses.keys().collect::<Vec<_>>(), [&400]);
    }

    #[test]
    fn counting_counts_every_path_asked_for() {
        let (paths, sent) = counting(fixed("/x"));
        assert_eq!(paths(), "/x");
        assert_eq!(paths(), "/x");
        assert_eq!(sent.load(Ordering::Relaxed), 2);
    }
}
