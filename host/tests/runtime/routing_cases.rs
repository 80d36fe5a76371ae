//! Routing and header cases from spin-platform.md §4.1–4.2, written once and checked against
//! reen-host (always) and the real Spin CLI (when `../shared/tools/spin` is present).

use serde_json::Value;

/// One manifest exercising every routing rule; every component is the echoing probe fixture,
/// told its own id through the `COMPONENT` environment variable.
pub const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "routing"
version = "1.0.0"

[[trigger.http]]
route = "/users/:userid/cart/..."
component = "cart"

[[trigger.http]]
route = "/users/:id"
component = "user"

[[trigger.http]]
route = "/users/..."
component = "users"

[[trigger.http]]
route = "/one/..."
component = "one"

[[trigger.http]]
route = "/one/two/three/..."
component = "three"

[[trigger.http]]
route = "/exact"
component = "exact"

[[trigger.http]]
route = "/dup"
component = "first"

[[trigger.http]]
route = "/dup"
component = "second"

[[trigger.http]]
route = "/orders/:order_id"
component = "orders"

[[trigger.http]]
route = { private = true }
component = "hidden"

[[trigger.http]]
route = "/chain"
component = "chainer"

[component.cart]
source = "{probe}"
environment = { COMPONENT = "cart" }

[component.user]
source = "{probe}"
environment = { COMPONENT = "user" }

[component.users]
source = "{probe}"
environment = { COMPONENT = "users" }

[component.one]
source = "{probe}"
environment = { COMPONENT = "one" }

[component.three]
source = "{probe}"
environment = { COMPONENT = "three" }

[component.exact]
source = "{probe}"
environment = { COMPONENT = "exact" }

[component.first]
source = "{probe}"
environment = { COMPONENT = "first" }

[component.second]
source = "{probe}"
environment = { COMPONENT = "second" }

[component.orders]
source = "{probe}"
environment = { COMPONENT = "orders" }

[component.hidden]
source = "{probe}"
environment = { COMPONENT = "hidden" }

[component.chainer]
source = "{probe}"
environment = { COMPONENT = "chainer" }
allowed_outbound_hosts = ["http://hidden.spin.internal", "http://users.spin.internal", "http://nowhere.spin.internal"]
"#;

/// What a request should reach.
pub enum Expect {
    /// The named component, with these `spin-*` header values.
    Component {
        id: &'static str,
        path_info: &'static str,
        matched_route: &'static str,
        component_route: &'static str,
        named: &'static [(&'static str, &'static str)],
    },
    /// 404 with an empty body.
    NotFound,
}

pub struct Case {
    pub path: &'static str,
    pub expect: Expect,
}

const fn reach(
    path: &'static str,
    id: &'static str,
    path_info: &'static str,
    matched_route: &'static str,
    component_route: &'static str,
    named: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        path,
        expect: Expect::Component {
            id,
            path_info,
            matched_route,
            component_route,
            named,
        },
    }
}

pub const CASES: &[Case] = &[
    // A named segment beats the trailing wildcard for a single segment.
    reach(
        "/users/42",
        "user",
        "",
        "/users/:id",
        "/users/:id",
        &[("spin-path-match-id", "42")],
    ),
    // Two segments no longer fit `:id`: the wildcard takes it, path-info relative to the prefix.
    reach("/users/42/x", "users", "/42/x", "/users/...", "/users", &[]),
    // The wildcard matches its bare prefix, with and without a trailing slash.
    reach("/users", "users", "", "/users/...", "/users", &[]),
    reach("/users/", "users", "/", "/users/...", "/users", &[]),
    // Named segment plus wildcard; the query is not part of path-info.
    reach(
        "/users/1/cart/items/3?x=y",
        "cart",
        "/items/3",
        "/users/:userid/cart/...",
        "/users/:userid/cart",
        &[("spin-path-match-userid", "1")],
    ),
    // A trailing slash inside the wildcard part is kept.
    reach(
        "/users/1/cart/items/",
        "cart",
        "/items/",
        "/users/:userid/cart/...",
        "/users/:userid/cart",
        &[("spin-path-match-userid", "1")],
    ),
    // The longest wildcard prefix wins regardless of declaration order.
    reach(
        "/one/two/three/four",
        "three",
        "/four",
        "/one/two/three/...",
        "/one/two/three",
        &[],
    ),
    reach("/one/two", "one", "/two", "/one/...", "/one", &[]),
    // Exact routes tolerate a trailing slash.
    reach("/exact", "exact", "", "/exact", "/exact", &[]),
    reach("/exact/", "exact", "", "/exact", "/exact", &[]),
    // Duplicate routes: the last declaration wins.
    reach("/dup", "second", "", "/dup", "/dup", &[]),
    // `_` in a capture name becomes `-` in the header name.
    reach(
        "/orders/42",
        "orders",
        "",
        "/orders/:order_id",
        "/orders/:order_id",
        &[("spin-path-match-order-id", "42")],
    ),
    // Matching is case-sensitive, exact routes do not match below themselves, no catch-all.
    Case {
        path: "/Exact",
        expect: Expect::NotFound,
    },
    Case {
        path: "/exact/more",
        expect: Expect::NotFound,
    },
    Case {
        path: "/nowhere",
        expect: Expect::NotFound,
    },
    // A private component has no public route.
    Case {
        path: "/hidden",
        expect: Expect::NotFound,
    },
    // Reserved paths other than health/info are 404.
    Case {
        path: "/.well-known/spin/nothing",
        expect: Expect::NotFound,
    },
];

/// Checks one case against a running app at `base` (`http://127.0.0.1:port`).
pub async fn check(client: &reqwest::Client, base: &str, case: &Case) {
    let res = client
        .get(format!("{base}{}", case.path))
        .header("connection", "keep-alive")
        .header("x-custom", "kept")
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let body = res.text().await.expect("body");
    match &case.expect {
        Expect::NotFound => {
            assert_eq!(
                status, 404,
                "{}: expected 404, got {status} {body}",
                case.path
            );
            assert_eq!(body, "", "{}: 404 body must be empty", case.path);
        }
        Expect::Component {
            id,
            path_info,
            matched_route,
            component_route,
            named,
        } => {
            assert_eq!(status, 200, "{}: {body}", case.path);
            let echo: Value = serde_json::from_str(&body).expect("probe echo");
            let header = |name: &str| echo["headers"][name].as_str().map(str::to_owned);
            assert_eq!(echo["component"], *id, "{}: wrong component", case.path);
            assert_eq!(
                header("spin-path-info").as_deref(),
                Some(*path_info),
                "{}: spin-path-info",
                case.path
            );
            assert_eq!(
                header("spin-matched-route").as_deref(),
                Some(*matched_route),
                "{}: spin-matched-route",
                case.path
            );
            assert_eq!(
                header("spin-raw-component-route").as_deref(),
                Some(*matched_route),
                "{}: spin-raw-component-route",
                case.path
            );
            assert_eq!(
                header("spin-component-route").as_deref(),
                Some(*component_route),
                "{}: spin-component-route",
                case.path
            );
            assert_eq!(
                header("spin-base-path").as_deref(),
                Some("/"),
                "{}: spin-base-path",
                case.path
            );
            assert_eq!(
                header("spin-full-url"),
                Some(format!("{base}{}", case.path)),
                "{}: spin-full-url",
                case.path
            );
            let client_addr = header("spin-client-addr").unwrap_or_default();
            assert!(
                client_addr.starts_with("127.0.0.1:"),
                "{}: spin-client-addr {client_addr}",
                case.path
            );
            for (name, value) in *named {
                assert_eq!(
                    header(name).as_deref(),
                    Some(*value),
                    "{}: {name}",
                    case.path
                );
            }
            // The guest sees the full original path, the client's own headers, and neither
            // `connection` nor `host`.
            let path_only = case.path.split('?').next().unwrap_or_default();
            assert_eq!(echo["path"], path_only, "{}: guest path", case.path);
            assert_eq!(header("x-custom").as_deref(), Some("kept"), "{}", case.path);
            assert_eq!(
                header("connection"),
                None,
                "{}: connection header leaked",
                case.path
            );
            assert_eq!(header("host"), None, "{}: host header leaked", case.path);
        }
    }
}

/// Chaining: a private component is reachable through `http://<id>.spin.internal` and sees
/// Spin's synthetic match; a component not in `allowed_outbound_hosts` is denied.
pub async fn check_chaining(client: &reqwest::Client, base: &str) {
    let fetch = |url: &str| {
        client
            .post(format!("{base}/chain?op=fetch"))
            .body(serde_json::json!({ "url": url }).to_string())
            .send()
    };
    let report: Value = fetch("http://hidden.spin.internal/some/path?q=1")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(report["status"], 200, "chained call: {report}");
    let echo: Value =
        serde_json::from_str(report["body"].as_str().unwrap_or_default()).expect("echo");
    assert_eq!(echo["component"], "hidden");
    assert_eq!(echo["path"], "/some/path");
    let headers = &echo["headers"];
    assert_eq!(headers["spin-path-info"], "/some/path");
    assert_eq!(headers["spin-matched-route"], "/...");
    assert_eq!(headers["spin-raw-component-route"], "/...");
    assert_eq!(headers["spin-component-route"], "");
    assert_eq!(headers["spin-client-addr"], "0.0.0.0:0");
    // Spin drops the `*.spin.internal` Host header, so the full URL falls back to `localhost`.
    assert_eq!(headers["spin-full-url"], "http://localhost/some/path?q=1");
    assert_eq!(headers["host"], Value::Null);

    let denied: Value = fetch("http://one.spin.internal/")
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let error = denied["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("HttpRequestDenied"),
        "expected denial, got {denied}"
    );

    // Allowed, but no component has that id: Spin stops the calling guest at the call
    // ("unknown routing destination"), so the caller cannot answer; the client gets Spin's
    // empty 500 for a trapped guest.
    let res = fetch("http://nowhere.spin.internal/")
        .await
        .expect("request");
    assert_eq!(res.status(), 500);
    assert_eq!(res.text().await.expect("body"), "");
}
