//! The loopback HTTP/1 server under the benches' fakes of third parties (Stripe, the email API):
//! a free port on 127.0.0.1, `TCP_NODELAY` on every connection (a fake must not add Nagle's
//! delay to what is measured), each connection served on its own task, stopped when dropped.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running fake; the listener stops when this is dropped.
pub struct FakeServer {
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl FakeServer {
    /// Serves `answer` for every request; `accepted` is called once per new connection.
    pub async fn start<A, Fut>(
        answer: A,
        accepted: impl Fn() + Send + 'static,
    ) -> anyhow::Result<Self>
    where
        A: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                accepted();
                let answer = answer.clone();
                let service = service_fn(move |req| {
                    let reply = answer(req);
                    async move { Ok::<_, Infallible>(reply.await) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Ok(Self { addr, server })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}
