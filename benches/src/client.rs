//! A minimal HTTP/1.1 keep-alive client for seeding and checking the real app (sign-up,
//! sign-in, JSON requests with a bearer token), and the auth benchmark's protected-route load.

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::Value;
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

    /// Sends `request` (the load generator's kind, with its own headers): the status.
    pub async fn send_outgoing(&mut self, request: &crate::load::Outgoing) -> anyhow::Result<u16> {
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(request.path.as_str())
            .header(header::HOST, self.addr.to_string());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = builder.body(Full::new(request.body.clone()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(built).await?;
        let status = response.status().as_u16();
        response.into_body().collect().await?;
        Ok(status)
    }

    pub async fn get(&mut self, path: &str, token: Option<&str>) -> anyhow::Result<(u16, String)> {
        self.send("GET", path, None, token).await
    }

    /// `POST path` without a body (`POST /api/v1/checkout`).
    pub async fn post_empty(
        &mut self,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        self.send("POST", path, None, token).await
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        body: &str,
        token: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        self.send("POST", path, Some(body), token).await
    }

    /// `GET path` that must answer 200 with JSON: the parsed body.
    pub async fn get_ok(&mut self, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
        let (status, body) = self.get(path, token).await?;
        anyhow::ensure!(status == 200, "GET {path} answered {status}: {body}");
        serde_json::from_str(&body).with_context(|| format!("GET {path}: not JSON: {body}"))
    }

    /// `POST path` with a JSON body that must answer `expect`: the parsed answer.
    pub async fn post_expect(
        &mut self,
        path: &str,
        body: &Value,
        token: Option<&str>,
        expect: u16,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.post_json(path, &body.to_string(), token).await?;
        anyhow::ensure!(
            status == expect,
            "POST {path} answered {status} (expected {expect}): {answer}"
        );
        serde_json::from_str(&answer).with_context(|| format!("POST {path}: not JSON: {answer}"))
    }
}

/// A user signed up or in through the auth component: id and access token.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// `POST /api/v1/auth/sign-up` (one Argon2id hash in the component): the new account.
pub async fn sign_up(
    client: &mut Client,
    name: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<Account> {
    let body = serde_json::json!({ "name": name, "email": email, "password": password });
    let answer = client
        .post_expect("/api/v1/auth/sign-up", &body, None, 201)
        .await?;
    let (Some(id), Some(token)) = (
        answer["user"]["id"].as_str(),
        answer["accessToken"].as_str(),
    ) else {
        anyhow::bail!("sign-up answer without user.id or accessToken: {answer}");
    };
    Ok(Account {
        id: id.to_owned(),
        email: email.to_owned(),
        token: token.to_owned(),
    })
}

/// `POST /api/v1/auth/sign-in`: a new access token for `email`.
pub async fn sign_in(client: &mut Client, email: &str, password: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "email": email, "password": password });
    let answer = client
        .post_expect("/api/v1/auth/sign-in", &body, None, 200)
        .await?;
    answer["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("sign-in answer without accessToken: {answer}"))
}

/// The `exp` claim (seconds since the Unix epoch) of a JWT, read without verifying it.
pub fn token_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&base64url(payload)?).ok()?;
    claims["exp"].as_i64()
}

/// Decodes unpadded base64url (a JWT segment).
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_decodes_unpadded_segments() {
        assert_eq!(base64url("").unwrap(), b"");
        assert_eq!(base64url("Zg").unwrap(), b"f");
        assert_eq!(base64url("Zm8").unwrap(), b"fo");
        assert_eq!(base64url("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64url("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url("a+b"), None);
    }

    #[test]
    fn the_expiry_of_a_jwt_is_its_exp_claim() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"u1","exp":1767225600} . (signature not checked)
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
                     eyJzdWIiOiJ1MSIsImV4cCI6MTc2NzIyNTYwMH0.c2ln";
        assert_eq!(token_expiry(token), Some(1_767_225_600));
        assert_eq!(token_expiry("not-a-jwt"), None);
    }
}
