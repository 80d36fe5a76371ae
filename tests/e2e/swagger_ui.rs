//! Swagger UI at `/api-gateway/documentation`: served by the app with the vendored
//! swagger-ui-dist files, byte for byte (no CDN), and rendering every documented tag and
//! operation in a real browser (headless Chromium, Debian package `chromium`).

use crate::api_docs::served_document;
use crate::helpers::{TestApp, repo_root, spawn_app};
use e2e::tools::{target_dir, tool};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const VENDOR: &str = "components/docs/vendor/swagger-ui-dist-5.36.0";

/// The `src` and `href` attribute values of an HTML page.
fn linked_urls(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// `SHA256SUMS` of the vendored release: file name → hex digest.
fn vendored_digests() -> Vec<(String, String)> {
    let sums = std::fs::read_to_string(repo_root().join(VENDOR).join("SHA256SUMS"))
        .expect("SHA256SUMS of the vendored files");
    sums.lines()
        .filter_map(|line| line.split_once("  "))
        .map(|(digest, name)| (name.to_owned(), digest.to_owned()))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn fetch(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("a body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_is_served_by_the_app_with_the_vendored_files_unchanged() {
    let app = spawn_app().await;
    let (status, headers, page) = fetch(&app, "/api-gateway/documentation").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let page = String::from_utf8(page).expect("UTF-8 HTML");

    // Every file the page loads is the app's own.
    let urls = linked_urls(&page);
    assert_eq!(urls.len(), 3, "{urls:?}");
    for url in &urls {
        assert!(url.starts_with("/api-gateway/documentation/"), "{url}");
        let (status, headers, _) = fetch(&app, url).await;
        assert_eq!(status, 200, "{url}");
        let expected = if url.contains(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert_eq!(
            headers["content-type"],
            format!("{expected}; charset=utf-8"),
            "{url}"
        );
        assert_eq!(headers["cache-control"], "public, max-age=86400", "{url}");
    }

    // The vendored files are served byte for byte as npm shipped them (SHA256SUMS was taken
    // from the unpacked tarball; package.json is kept for reference, not served).
    for (name, digest) in vendored_digests() {
        if name == "package.json" {
            continue;
        }
        let (status, _, body) = fetch(&app, &format!("/api-gateway/documentation/{name}")).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(hex(&Sha256::digest(&body)), digest, "{name} differs");
    }

    let (status, _, body) = fetch(&app, "/api-gateway/documentation/index.html").await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_slice(&body).expect("the error shape");
    assert_eq!(body["statusCode"], 404);
}

/// Runs Chromium headless on `url` with `args`, giving the page 20 s of (virtual) time to load
/// and render; its standard output, or `Err` with its errors when it fails or hangs past a
/// minute. Output goes through files: a DOM larger than a pipe's buffer would block Chromium
/// until it is read.
fn chromium(program: &Path, profile: &Path, url: &str, args: &[String]) -> Result<String, String> {
    let stdout = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let stderr = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut child = Command::new(program)
        .args([
            "--headless",
            // Root in a container has no user namespace sandbox to use.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(stdout.reopen().map_err(|e| e.to_string())?)
        .stderr(stderr.reopen().map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("chromium does not start: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().map_err(|e| e.to_string())?;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read =
        |file: &tempfile::NamedTempFile| std::fs::read_to_string(file.path()).unwrap_or_default();
    if status.success() {
        Ok(read(&stdout))
    } else {
        Err(format!("chromium failed ({status}): {}", read(&stderr)))
    }
}

/// What Swagger UI must have rendered for `document`: the id of each tag's section and each
/// operation's block, and each operation's `data-path` with its method class.
fn expected_elements(document: &Value) -> Vec<String> {
    let mut wanted = Vec::new();
    for tag in document["tags"].as_array().expect("tags") {
        let name = tag["name"].as_str().expect("a tag name");
        wanted.push(format!("id=\"operations-tag-{name}\""));
    }
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            let tag = operation["tags"][0]
                .as_str()
                .expect("each operation has a tag");
            wanted.push(format!("opblock-{method}\" id=\"operations-{tag}-{id}\""));
            wanted.push(format!("data-path=\"{path}\""));
        }
    }
    wanted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_renders_every_documented_tag_and_operation_in_chromium() {
    let test = "swagger_ui_renders_every_documented_tag_and_operation_in_chromium";
    let Some(program) = tool(test, "chromium", "chromium") else {
        return;
    };
    let app = spawn_app().await;
    let document = served_document(&app).await;
    let url = app.url("/api-gateway/documentation");
    let out_dir: PathBuf = target_dir().join("e2e");
    std::fs::create_dir_all(&out_dir).expect("target/e2e");
    let screenshot = out_dir.join("swagger-ui.png");
    let _ = std::fs::remove_file(&screenshot);

    let profile = tempfile::tempdir().expect("a browser profile directory");
    let (dom, shot) = tokio::task::spawn_blocking({
        let (program, profile, url, screenshot) = (
            program.clone(),
            profile.path().to_owned(),
            url.clone(),
            screenshot.clone(),
        );
        move || {
            let dom = chromium(&program, &profile, &url, &["--dump-dom".into()]);
            let shot = chromium(
                &program,
                &profile,
                &url,
                &[
                    format!("--screenshot={}", screenshot.display()),
                    "--window-size=1280,2600".into(),
                ],
            );
            (dom, shot)
        }
    })
    .await
    .expect("the browser thread");
    let dom = dom.unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out_dir.join("swagger-ui.html"), &dom).expect("keep the DOM");

    let missing: Vec<String> = expected_elements(&document)
        .into_iter()
        .filter(|element| !dom.contains(element.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "Swagger UI did not render (DOM in target/e2e/swagger-ui.html): {missing:#?}"
    );
    shot.unwrap_or_else(|e| panic!("{e}"));
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}
