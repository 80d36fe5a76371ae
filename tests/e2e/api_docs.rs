//! The OpenAPI document served at `/api-gateway/documentation-json` against what the app
//! really routes: every component's route table (`components/*/src/endpoints.rs`, which its
//! router dispatches on) and spin.toml's HTTP triggers. A route served but not documented,
//! documented but not served, exposed by spin.toml but unknown to its component, or private
//! but reachable from outside fails here.

use crate::helpers::{TestApp, repo_root, spawn_app};
use route_table::{Access, Method, Route};
use serde_json::Value;
use std::collections::BTreeSet;

// The tables exactly as the components compile them (no dependencies but `route-table`).
#[allow(dead_code)]
#[path = "../../components/auth/src/endpoints.rs"]
mod auth_routes;
#[allow(dead_code)]
#[path = "../../components/cart/src/endpoints.rs"]
mod cart_routes;
#[allow(dead_code)]
#[path = "../../components/checkout/src/endpoints.rs"]
mod checkout_routes;
#[allow(dead_code)]
#[path = "../../components/docs/src/endpoints.rs"]
mod docs_routes;
#[allow(dead_code)]
#[path = "../../components/orders/src/endpoints.rs"]
mod orders_routes;
#[allow(dead_code)]
#[path = "../../components/products/src/endpoints.rs"]
mod products_routes;

/// One route of one component's table, without the component's own endpoint type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRoute {
    pub component: &'static str,
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

fn rows<E>(component: &'static str, table: &[Route<E>]) -> Vec<TableRoute> {
    table
        .iter()
        .map(|r| TableRoute {
            component,
            method: r.method,
            path: r.path,
            access: r.access,
        })
        .collect()
}

/// Every HTTP component's routes, by spin.toml component id.
pub fn route_tables() -> Vec<TableRoute> {
    [
        rows("auth", auth_routes::ROUTES),
        rows("cart", cart_routes::ROUTES),
        rows("checkout", checkout_routes::ROUTES),
        rows("docs", docs_routes::ROUTES),
        rows("orders", orders_routes::ROUTES),
        rows("products", products_routes::ROUTES),
    ]
    .concat()
}

/// `(METHOD, path)` of every operation in an OpenAPI document.
pub fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    document["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            methods
                .iter()
                .filter(|m| item.contains_key(**m))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The document as the app serves it.
pub async fn served_document(app: &TestApp) -> Value {
    let res = app.get("/api-gateway/documentation-json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    res.json().await.expect("the document is JSON")
}

/// spin.toml's HTTP triggers as `(route, component)`.
fn spin_triggers() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("spin.toml")).expect("spin.toml");
    let manifest: toml::Value = toml::from_str(&text).expect("spin.toml is TOML");
    manifest["trigger"]["http"]
        .as_array()
        .expect("HTTP triggers")
        .iter()
        .map(|t| {
            let field = |k: &str| t[k].as_str().expect("route and component").to_owned();
            (field("route"), field("component"))
        })
        .collect()
}

/// A concrete path for a table path: each `{param}` becomes `x`.
fn sample_path(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The component spin.toml sends `path` to, as Spin picks it: an exact route first, else the
/// wildcard (`/prefix/...`) with the longest prefix.
fn routed_to<'t>(triggers: &'t [(String, String)], path: &str) -> Option<&'t str> {
    if let Some((_, component)) = triggers.iter().find(|(route, _)| route == path) {
        return Some(component);
    }
    triggers
        .iter()
        .filter_map(|(route, component)| {
            let prefix = route.strip_suffix("/...")?;
            let under = path == prefix || path.starts_with(&format!("{prefix}/"));
            under.then_some((prefix.len(), component.as_str()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, component)| component)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_public_routes_the_routers_serve() {
    let app = spawn_app().await;
    let documented = documented_operations(&served_document(&app).await);
    let public: BTreeSet<(String, String)> = route_tables()
        .into_iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    let undocumented: Vec<_> = public.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&public).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: {unserved:?}"
    );
    // The document says it is about this build.
    assert!(
        documented.len() >= 30,
        "only {} operations",
        documented.len()
    );
}

#[test]
fn spin_toml_sends_every_exposed_route_to_its_component_and_no_internal_one_anywhere() {
    let triggers = spin_triggers();
    for route in route_tables() {
        let target = routed_to(&triggers, &sample_path(route.path));
        match route.access {
            Access::Internal => {
                assert!(
                    route.path.starts_with("/internal/"),
                    "{route:?}: a private route's path must start with /internal/"
                );
                assert_eq!(target, None, "{route:?} is reachable from outside");
            }
            _ => assert_eq!(
                target,
                Some(route.component),
                "{route:?}: spin.toml does not send it to its component"
            ),
        }
    }
}

#[test]
fn every_spin_toml_route_leads_to_at_least_one_route_of_its_component() {
    let tables = route_tables();
    for (trigger, component) in spin_triggers() {
        let served = tables.iter().any(|r| {
            let path = sample_path(r.path);
            let matches = match trigger.strip_suffix("/...") {
                Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
                None => path == trigger,
            };
            r.component == component && r.access != Access::Internal && matches
        });
        assert!(
            served,
            "spin.toml routes {trigger} to {component}, whose router serves nothing there"
        );
    }
}

/// What Spin or reen-host answers for a path no trigger covers, and what a component's router
/// answers for a path its table lacks.
fn is_no_route(status: u16, body: &str) -> bool {
    status == 404
        && (body.is_empty()
            || serde_json::from_str::<Value>(body).is_ok_and(|b| {
                b["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Cannot "))
            }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_reaches_its_handler_and_no_internal_route_is_reachable() {
    let app = spawn_app().await;
    let documented = documented_operations(&served_document(&app).await);
    // Anonymous requests with an empty JSON body: each is refused (400/401) or answered
    // by its handler, and nothing is created.
    for (method, path) in &documented {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        // Sent through the conformance check: each refusal must be a documented one too.
        let request = app
            .client
            .request(method.clone(), app.url(&sample_path(path)))
            .header("content-type", "application/json")
            .body("{}");
        let res = app.send(request).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(
            !is_no_route(status, &body),
            "{method} {path}: no handler ({status} {body})"
        );
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
    for route in route_tables() {
        if route.access != Access::Internal {
            continue;
        }
        let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        let res = app
            .client
            .request(method, app.url(&sample_path(route.path)))
            .send()
            .await
            .expect("request reaches the app");
        let status = res.status().as_u16();
        assert_eq!(
            (status, res.text().await.unwrap_or_default()),
            (404, String::new()),
            "{route:?} answered from outside"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_only_redrive_route_is_served_but_not_documented() {
    let app = spawn_app().await;
    let documented = documented_operations(&served_document(&app).await);
    assert!(!documented.contains(&("POST".into(), "/api/v1/checkout/redrive".into())));
    let res = app
        .client
        .post(app.url("/api/v1/checkout/redrive"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
