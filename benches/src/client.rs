//! A minimal HTTP/1.1 keep-alive client for the auth benchmark.

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// One keep-alive connection.
pub struct Client {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { addr, sender })
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string());
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default().to_owned())))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    pub async fn get(&mut self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, String)> {
        self.send("GET", path, None, token).await
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        body: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        self.send("POST", path, Some(body), token).await
    }
}

/// The string value of a top-level field in a flat JSON object (enough for `accessToken`).
pub fn json_field(body: &str, field: &str) -> Option<String> {
    let start = body.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_owned())
}

/// Polls the health route until the app answers.
pub async fn wait_ready(addr: SocketAddr, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(mut c) = Client::connect(addr).await
            && let Ok((200, _)) = c.get("/api/v1/health", None).await
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the app did not become ready (see app.log)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `connections` loops sending GET `path` with the token for `duration`; req/s and latency.
pub async fn load(
    addr: SocketAddr,
    connections: usize,
    duration: Duration,
    path: &str,
    token: &str,
) -> anyhow::Result<String> {
    let end = Instant::now() + duration;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (path, token) = (path.to_owned(), token.to_owned());
        workers.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let (mut ok, mut failed, mut latencies) = (0u64, 0u64, Vec::new());
            while Instant::now() < end {
                let started = Instant::now();
                match client.get(&path, Some(&token)).await {
                    Ok((200, _)) => {
                        ok += 1;
                        latencies.push(started.elapsed().as_micros() as u64);
                    }
                    _ => failed += 1,
                }
            }
            anyhow::Ok((ok, failed, latencies))
        }));
    }
    let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
    for worker in workers {
        let (o, f, l) = worker.await.context("load worker")??;
        ok += o;
        failed += f;
        latencies.extend(l);
    }
    anyhow::ensure!(!latencies.is_empty(), "no request succeeded");
    latencies.sort_unstable();
    let pick = |p: f64| {
        latencies
            [(((p / 100.0) * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1]
            as f64
            / 1000.0
    };
    Ok(format!(
        "{:.0} req/s   p50 {:.2} ms   p99 {:.2} ms   ({ok} ok, {failed} failed)",
        ok as f64 / duration.as_secs_f64(),
        pick(50.0),
        pick(99.0)
    ))
}
