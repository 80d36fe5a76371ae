use crate::helpers::TestApp;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A plain HTTP server on loopback that records each request's method and path and answers
/// `201 upstream saw <path>`; dropping it stops it.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let line = format!("{} {}", req.method(), req.uri());
                            recorder.lock().unwrap().push(line);
                            async move {
                                let body = format!("upstream saw {}", req.uri().path());
                                Ok::<_, std::convert::Infallible>(
                                    hyper::Response::builder()
                                        .status(201)
                                        .header("x-upstream", "yes")
                                        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream { addr, seen, task }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "outbound"

[variables]
upstream_port = { required = true }

[[trigger.http]]
route = "/caller/..."
component = "caller"

[[trigger.http]]
route = "/target/..."
component = "target"

[component.caller]
source = "{probe}"
allowed_outbound_hosts = ["http://127.0.0.1:{{ upstream_port }}", "http://self"]

[component.target]
source = "{probe}"
environment = { COMPONENT = "target" }
"#;

async fn fetch(app: &TestApp, url: &str) -> Value {
    app.post_json("/caller/x?op=fetch", json!({ "url": url }).to_string())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_host_is_reached_over_the_network() {
    let upstream = Upstream::start().await;
    let port = upstream.addr.port().to_string();
    let app = TestApp::start_with(MANIFEST, None, &[("upstream_port", &port)]).await;
    let report = fetch(&app, &format!("http://127.0.0.1:{port}/hello?x=1")).await;
    assert_eq!(report["status"], 201, "{report}");
    assert_eq!(report["body"], "upstream saw /hello");
    assert_eq!(report["headers"]["x-upstream"], "yes");
    assert_eq!(upstream.seen(), vec!["GET /hello?x=1".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_outside_allowed_outbound_hosts_is_denied_and_never_contacted() {
    let allowed = Upstream::start().await;
    let other = Upstream::start().await;
    let port = allowed.addr.port().to_string();
    let app = TestApp::start_with(MANIFEST, None, &[("upstream_port", &port)]).await;
    let report = fetch(
        &app,
        &format!("http://127.0.0.1:{}/secret", other.addr.port()),
    )
    .await;
    assert!(
        report["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HttpRequestDenied"),
        "{report}"
    );
    assert!(other.seen().is_empty());
    let report = fetch(&app, &format!("https://127.0.0.1:{port}/wrong-scheme")).await;
    assert!(
        report["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HttpRequestDenied"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_urls_go_to_the_apps_own_public_routes() {
    let upstream = Upstream::start().await;
    let port = upstream.addr.port().to_string();
    let app = TestApp::start_with(MANIFEST, None, &[("upstream_port", &port)]).await;
    let report = fetch(&app, "/target/through-self").await;
    assert_eq!(report["status"], 200, "{report}");
    let echo: Value = serde_json::from_str(report["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["component"], "target");
    assert_eq!(echo["headers"]["spin-path-info"], "/through-self");
}
