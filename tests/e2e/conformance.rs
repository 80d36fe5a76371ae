//! Every response an end-to-end test receives from a documented route is checked against the
//! OpenAPI document the app serves: [`send`] is the one way the tests' helpers send requests
//! (`TestApp::send`, `get`, `call`, the signed-in users' calls). A response that breaks the
//! document fails the test that got it, whatever that test asserts itself.

use crate::documented::{Document, Verdict};
use reqwest::{RequestBuilder, Response};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Where the app serves its document.
pub const DOCUMENT_PATH: &str = "/api-gateway/documentation-json";

/// The document, fetched from the first app a test talks to: every app of one test binary is
/// built from the same components, so they all serve the same one.
static DOCUMENT: OnceCell<Arc<Document>> = OnceCell::const_new();

async fn document(client: &reqwest::Client, origin: &str) -> Arc<Document> {
    DOCUMENT
        .get_or_init(|| async {
            let url = format!("{origin}{DOCUMENT_PATH}");
            let res = client
                .get(&url)
                .send()
                .await
                .expect("the document is served");
            assert_eq!(res.status(), 200, "GET {url}");
            Arc::new(Document::new(
                res.json().await.expect("the document is JSON"),
            ))
        })
        .await
        .clone()
}

/// Sends `request`, fails the calling test if the response breaks the served OpenAPI
/// document (an undocumented status or content type, or a JSON body its schema refuses), and
/// hands the response back whole, its body read once and kept. Requests to routes the
/// document does not have (internal, operator-only, fixtures under `/e2e/`) pass unchecked.
pub async fn send(request: RequestBuilder) -> Response {
    let (client, request) = request.build_split();
    let request = request.expect("a well-formed request");
    let method = request.method().as_str().to_owned();
    let url = request.url().clone();
    let res = client
        .execute(request)
        .await
        .expect("request reaches the app");

    let status = res.status();
    let version = res.version();
    let headers = res.headers().clone();
    let body = res.bytes().await.expect("the response body arrives");
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let origin = url.origin().ascii_serialization();
    let verdict = document(&client, &origin).await.check(
        &method,
        url.path(),
        status.as_u16(),
        content_type,
        &body,
    );
    if let Verdict::Breaks(operation, errors) = verdict {
        let text = String::from_utf8_lossy(&body);
        let shown: String = text.chars().take(4000).collect();
        panic!(
            "the response to {method} {} breaks the API document ({operation}, status {status}, \
             content-type {content_type:?}):\n  - {}\nbody: {shown}",
            url.path(),
            errors.join("\n  - "),
        );
    }

    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Response::from(rebuilt)
}

/// The check does judge real answers: a product the app really serves breaks a copy of the
/// document whose Product schema lacks one of its fields (schemas are closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_answer_that_a_changed_document_does_not_describe_is_caught() {
    let app = crate::helpers::spawn_app_with_demo_catalog().await;
    let res = app.get("/api/v1/products?limit=1").await;
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let body = res.bytes().await.expect("the body");
    let mut document = crate::api_docs::served_document(&app).await;
    let product = &mut document["components"]["schemas"]["Product"]["properties"];
    product
        .as_object_mut()
        .expect("properties")
        .remove("orderCount");

    let verdict =
        Document::new(document).check("GET", "/api/v1/products", 200, Some(&content_type), &body);
    let Verdict::Breaks(operation, errors) = verdict else {
        panic!("a product with an undocumented field passed: {verdict:?}");
    };
    assert_eq!(operation, "GET /api/v1/products");
    assert!(
        errors.iter().any(|e| e.contains("orderCount")),
        "{errors:?}"
    );
}
