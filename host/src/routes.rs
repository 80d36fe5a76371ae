//! Spin-compatible HTTP trigger routing: route table, matching, and the `spin-*` request headers.

use std::collections::BTreeSet;

use thiserror::Error;

/// Requests under this prefix are answered by the runtime itself (health, info, 404),
/// before the router is consulted.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The client address Spin reports for service-chained requests, which have no TCP peer.
pub const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";

/// One HTTP trigger as declared, in manifest order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecl {
    pub route: RouteSpec,
    pub component: String,
}

/// The `route` of an HTTP trigger: a path pattern, or `{ private = true }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteSpec {
    Path(String),
    Private,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RouteError {
    #[error("invalid route {route:?} for component {component:?}: {reason}")]
    InvalidRoute {
        route: String,
        component: String,
        reason: String,
    },
}

/// What a public route resolves to, kept alongside the compiled pattern.
#[derive(Clone, Debug)]
struct Target {
    component: String,
    /// The route exactly as written in the manifest.
    raw_route: String,
    /// Spin's "based route": made absolute and stripped of one trailing slash.
    /// This, not the raw route, is what gets compiled and what `spin-matched-route` reports.
    matched_route: String,
}

/// The HTTP route table of one application.
pub struct Router {
    table: routefinder::Router<Target>,
    /// Every component with an HTTP trigger, public or private, shadowed or not:
    /// Spin keeps all trigger configs for dispatch, so all of them are chaining targets.
    components: BTreeSet<String>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self
                    .table
                    .iter()
                    .map(|(_, t)| (t.raw_route.as_str(), t.component.as_str()))
                    .collect::<Vec<_>>(),
            )
            .field("components", &self.components)
            .finish()
    }
}

impl Router {
    /// Builds the router. Returns the router and warnings (duplicate routes shadowed;
    /// routes under `/.well-known/spin/` never reached; oddities Spin accepts silently).
    /// Invalid routes are an error naming the route.
    pub fn build(decls: &[RouteDecl]) -> Result<(Router, Vec<String>), RouteError> {
        let mut warnings = Vec::new();
        let mut components = BTreeSet::new();

        // Deduplicate on the route string as written, like Spin's IndexMap: a later
        // declaration replaces the earlier one's target but keeps its position. The
        // position matters because routefinder breaks ties between equally ranked
        // patterns (e.g. `/:a` vs `/:b`) by insertion order.
        let mut unique: Vec<(&str, &str)> = Vec::new();
        for decl in decls {
            components.insert(decl.component.clone());
            let RouteSpec::Path(raw) = &decl.route else {
                continue;
            };
            match unique.iter_mut().find(|(r, _)| *r == raw.as_str()) {
                Some(slot) => {
                    warnings.push(format!(
                        "route {raw:?} for component {:?} is unreachable: later declaration for component {:?} wins",
                        slot.1, decl.component
                    ));
                    slot.1 = &decl.component;
                }
                None => unique.push((raw, &decl.component)),
            }
        }

        let mut table = routefinder::Router::new();
        for (raw, component) in unique {
            let invalid = |reason: String| RouteError::InvalidRoute {
                route: raw.to_string(),
                component: component.to_string(),
                reason,
            };
            let matched_route = based_route(raw);
            let spec = compile(&matched_route).map_err(invalid)?;

            if !raw.starts_with('/') {
                warnings.push(format!(
                    "route {raw:?} for component {component:?} does not start with '/'; it is treated as {:?}",
                    format!("/{raw}")
                ));
            }
            if has_inner_ellipsis(&matched_route) {
                warnings.push(format!(
                    "route {raw:?} for component {component:?} has '...' before the end; only a trailing '/...' is a wildcard, and routefinder reads inner dots as literal text"
                ));
            }
            if matched_route.starts_with(WELL_KNOWN_PREFIX) {
                warnings.push(format!(
                    "route {raw:?} for component {component:?} is under {WELL_KNOWN_PREFIX}, which the runtime answers itself; it will never be reached"
                ));
            }

            table
                .add(
                    spec,
                    Target {
                        component: component.to_string(),
                        raw_route: raw.to_string(),
                        matched_route,
                    },
                )
                // `compile` already produced a RouteSpec, whose conversion cannot fail.
                .map_err(|e: std::convert::Infallible| match e {})?;
        }

        Ok((Router { table, components }, warnings))
    }

    /// Route a raw percent-encoded request path (no query). Reserved paths are not
    /// special here: the caller answers `/.well-known/spin/...` before routing.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let found = self.table.best_match(path)?;
        let target = found.handler();
        let captures = found.captures();
        let named = captures
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let path_info = captures
            .wildcard()
            .map(|rest| path_info(rest, path))
            .unwrap_or_default();
        Some(RouteMatch {
            component: target.component.clone(),
            raw_route: target.raw_route.clone(),
            based_route: strip_wildcard_suffix(&target.raw_route).to_string(),
            matched_route: target.matched_route.clone(),
            path_info,
            named,
        })
    }

    /// True for components with any trigger (public or private) — chaining targets.
    pub fn has_component(&self, id: &str) -> bool {
        self.components.contains(id)
    }

    /// The reachable routes as `(raw route, component)`, in precedence order.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.table
            .iter()
            .map(|(_, t)| (t.raw_route.as_str(), t.component.as_str()))
    }
}

/// The outcome of routing one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    /// The route as written, e.g. `/users/:userid/cart/...` (`spin-raw-component-route`).
    pub raw_route: String,
    /// The raw route without a trailing `/...`, e.g. `/users/:userid/cart`
    /// (`spin-component-route`). Spin calls this `raw_route_or_prefix`.
    pub based_route: String,
    /// What Spin reports as `spin-matched-route`: the route made absolute and with one
    /// trailing slash removed. Differs from `raw_route` only for routes like `/` (→ `""`),
    /// `/foo/` (→ `/foo`) or `foo` (→ `/foo`).
    pub matched_route: String,
    /// The part matched by a trailing wildcard (`spin-path-info`); `""` for exact and
    /// `:name`-only routes.
    pub path_info: String,
    /// `:name` captures, in route order, still percent-encoded.
    pub named: Vec<(String, String)>,
}

impl RouteMatch {
    /// The synthetic match Spin uses for a service-chained request to `component` with
    /// full path `path`: raw route `/...`, based route `""`, path_info = path.
    pub fn chained(component: &str, path: &str) -> RouteMatch {
        RouteMatch {
            component: component.to_string(),
            raw_route: "/...".to_string(),
            based_route: String::new(),
            matched_route: "/...".to_string(),
            path_info: path.to_string(),
            named: Vec::new(),
        }
    }

    /// The `spin-*` request headers exactly as Spin sets them (lowercase names, Spin's
    /// order), given the full URL (`scheme://host[:port]/path?query`) and the client
    /// address (`ip:port`; chained calls pass [`CHAINED_CLIENT_ADDR`]).
    ///
    /// Spin appends these after the client's own headers without removing client-sent
    /// `spin-*` headers, and silently drops any pair that is not a valid header.
    pub fn spin_headers(&self, full_url: &str, client_addr: &str) -> Vec<(String, String)> {
        let mut headers = vec![
            ("spin-path-info".to_string(), self.path_info.clone()),
            ("spin-full-url".to_string(), full_url.to_string()),
            ("spin-matched-route".to_string(), self.matched_route.clone()),
            ("spin-base-path".to_string(), "/".to_string()),
            (
                "spin-raw-component-route".to_string(),
                self.raw_route.clone(),
            ),
            ("spin-component-route".to_string(), self.based_route.clone()),
            ("spin-client-addr".to_string(), client_addr.to_string()),
        ];
        // Spin collects captures into a map keyed by name, so a repeated name yields one
        // header carrying the last value.
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (name, value) in &self.named {
            if let Some((_, at)) = seen.iter().find(|(n, _)| *n == name.as_str()) {
                headers[*at].1 = value.clone();
                continue;
            }
            seen.push((name, headers.len()));
            headers.push((path_match_header(name), value.clone()));
        }
        headers
    }
}

/// Reserved: true for paths Spin answers itself (`/.well-known/spin/...`).
/// `/.well-known/spin` without the trailing slash is routed normally.
pub fn is_reserved_path(path: &str) -> bool {
    path.starts_with(WELL_KNOWN_PREFIX)
}

/// `spin-path-match-<name>`: Spin upper-cases the capture name into an env-style key and
/// then turns it into a header name by lowercasing and mapping `_` to `-`.
fn path_match_header(name: &str) -> String {
    format!(
        "spin-path-match-{}",
        name.to_ascii_lowercase().replace('_', "-")
    )
}

/// Spin's based route with base `/`: a missing leading slash is added and a single
/// trailing slash removed (so `/` becomes `""`, the empty pattern that matches the root).
fn based_route(raw: &str) -> String {
    let absolute = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/{raw}")
    };
    match absolute.strip_suffix('/') {
        Some(stripped) => stripped.to_string(),
        None => absolute,
    }
}

fn strip_wildcard_suffix(route: &str) -> &str {
    route.strip_suffix("/...").unwrap_or(route)
}

/// True when `...` appears anywhere but as the trailing wildcard.
fn has_inner_ellipsis(based: &str) -> bool {
    strip_wildcard_suffix(based).contains("...")
}

/// Turns a based route into a routefinder pattern the way Spin does: a trailing `/...`
/// becomes routefinder's `/*`, and a route already ending in `/*` is taken as is.
fn compile(based: &str) -> Result<routefinder::RouteSpec, String> {
    let pattern = match based.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/*"),
        None => based.to_string(),
    };
    let spec: routefinder::RouteSpec = pattern.parse()?;
    check_matchable(&spec)?;
    Ok(spec)
}

/// routefinder accepts some patterns at parse time and then panics when a request
/// reaches them. Spin would crash the request; refusing them up front is kinder.
fn check_matchable(spec: &routefinder::RouteSpec) -> Result<(), String> {
    use routefinder::Segment;
    let segments = spec.segments();
    for (i, segment) in segments.iter().enumerate() {
        let next = segments.get(i + 1);
        match segment {
            Segment::Wildcard if next.is_some() => {
                return Err(
                    "a wildcard ('*' or '/...') is only allowed at the end of a route".to_string(),
                );
            }
            Segment::Param(_)
                if !matches!(next, None | Some(Segment::Slash) | Some(Segment::Dot)) =>
            {
                return Err("a ':name' segment must be followed by '/', '.' or the end".to_string());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Spin's `spin-path-info`: routefinder drops trailing slashes before matching, but
/// Spin has always reported them, so one is restored when the request path had one.
fn path_info(wildcard: &str, path: &str) -> String {
    match (wildcard.is_empty(), path.ends_with('/')) {
        (true, false) => String::new(),
        (true, true) => "/".to_string(),
        (false, false) => format!("/{wildcard}"),
        (false, true) => format!("/{wildcard}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(route: &str, component: &str) -> RouteDecl {
        RouteDecl {
            route: RouteSpec::Path(route.to_string()),
            component: component.to_string(),
        }
    }

    fn private(component: &str) -> RouteDecl {
        RouteDecl {
            route: RouteSpec::Private,
            component: component.to_string(),
        }
    }

    fn router(routes: &[(&str, &str)]) -> Router {
        let decls: Vec<_> = routes.iter().map(|(r, c)| decl(r, c)).collect();
        Router::build(&decls).expect("routes should build").0
    }

    fn target(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component)
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        let mut found = headers.iter().filter(|(n, _)| n == name);
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "header {name} appears twice");
        first
    }

    // ---- precedence ----

    #[test]
    fn exact_route_beats_named_segment() {
        let r = router(&[("/users/:id", "named"), ("/users/me", "exact")]);
        assert_eq!(target(&r, "/users/me").as_deref(), Some("exact"));
        assert_eq!(target(&r, "/users/42").as_deref(), Some("named"));
    }

    #[test]
    fn named_segment_beats_trailing_wildcard() {
        let r = router(&[("/users/...", "wild"), ("/users/:id", "named")]);
        assert_eq!(target(&r, "/users/42").as_deref(), Some("named"));
        assert_eq!(target(&r, "/users/42/x").as_deref(), Some("wild"));
    }

    #[test]
    fn exact_route_beats_catch_all() {
        let r = router(&[("/...", "all"), ("/one", "one")]);
        assert_eq!(target(&r, "/one").as_deref(), Some("one"));
        assert_eq!(target(&r, "/two").as_deref(), Some("all"));
    }

    #[test]
    fn longest_literal_prefix_wins_among_wildcards_in_any_order() {
        let forward = router(&[
            ("/one/...", "1"),
            ("/one/two/...", "2"),
            ("/one/two/three/...", "3"),
        ]);
        let backward = router(&[
            ("/one/two/three/...", "3"),
            ("/one/two/...", "2"),
            ("/one/...", "1"),
        ]);
        for r in [&forward, &backward] {
            assert_eq!(target(r, "/one/two/three/four").as_deref(), Some("3"));
            assert_eq!(target(r, "/one/two/x").as_deref(), Some("2"));
            assert_eq!(target(r, "/one/x").as_deref(), Some("1"));
        }
    }

    #[test]
    fn first_differing_segment_decides_between_params_and_literals() {
        // routefinder compares segment by segment: a literal at an earlier position
        // beats a param there, whatever follows.
        let r = router(&[("/:a/b", "param-first"), ("/x/:c", "literal-first")]);
        assert_eq!(target(&r, "/x/b").as_deref(), Some("literal-first"));
        assert_eq!(target(&r, "/y/b").as_deref(), Some("param-first"));
    }

    #[test]
    fn equally_ranked_patterns_first_declared_wins() {
        let r = router(&[("/:a", "first"), ("/:b", "second")]);
        assert_eq!(target(&r, "/x").as_deref(), Some("first"));
    }

    // ---- trailing slashes, wildcards ----

    #[test]
    fn trailing_slash_on_request_matches_exact_route() {
        let r = router(&[("/foo", "foo")]);
        assert_eq!(target(&r, "/foo/").as_deref(), Some("foo"));
        assert_eq!(r.route("/foo/").unwrap().path_info, "");
    }

    #[test]
    fn prefix_without_and_with_slash_matches_wildcard_route() {
        let r = router(&[("/users/...", "users")]);
        assert_eq!(target(&r, "/users").as_deref(), Some("users"));
        assert_eq!(target(&r, "/users/").as_deref(), Some("users"));
        assert_eq!(target(&r, "/users/1/2").as_deref(), Some("users"));
    }

    #[test]
    fn wildcard_prefix_must_end_at_segment_boundary() {
        let r = router(&[("/users/...", "users")]);
        assert_eq!(target(&r, "/usersx"), None);
        assert_eq!(target(&r, "/user"), None);
    }

    #[test]
    fn catch_all_matches_everything() {
        let r = router(&[("/...", "all")]);
        for path in ["/", "/a", "/a/b/c/", "/.well-known/other"] {
            assert_eq!(target(&r, path).as_deref(), Some("all"), "{path}");
        }
    }

    #[test]
    fn root_route_matches_only_root() {
        let r = router(&[("/", "root")]);
        assert_eq!(target(&r, "/").as_deref(), Some("root"));
        assert_eq!(target(&r, "/x"), None);
    }

    #[test]
    fn exact_route_does_not_match_longer_paths() {
        let r = router(&[("/foo", "foo")]);
        assert_eq!(target(&r, "/foo/bar"), None);
        assert_eq!(target(&r, "/foobar"), None);
        assert_eq!(target(&r, "/fo"), None);
    }

    #[test]
    fn star_suffix_is_a_wildcard_too() {
        let r = router(&[("/static/*", "files")]);
        let m = r.route("/static/css/site.css").unwrap();
        assert_eq!(m.component, "files");
        assert_eq!(m.path_info, "/css/site.css");
        // Only a literal `/...` is stripped for spin-component-route.
        assert_eq!(m.based_route, "/static/*");
    }

    #[test]
    fn no_route_means_no_match() {
        let r = router(&[("/a", "a")]);
        assert_eq!(r.route("/b"), None);
        let (empty, warnings) = Router::build(&[]).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(empty.route("/"), None);
    }

    // ---- raw-path matching ----

    #[test]
    fn matching_is_case_sensitive() {
        let r = router(&[("/Hello", "hello")]);
        assert_eq!(target(&r, "/Hello").as_deref(), Some("hello"));
        assert_eq!(target(&r, "/hello"), None);
    }

    #[test]
    fn matching_uses_percent_encoded_path_and_captures_stay_encoded() {
        let r = router(&[("/a b", "space"), ("/users/:name", "user")]);
        assert_eq!(target(&r, "/a%20b"), None);
        let m = r.route("/users/J%C3%BCrgen%2Fx").unwrap();
        assert_eq!(m.named, vec![("name".into(), "J%C3%BCrgen%2Fx".into())]);
    }

    #[test]
    fn repeated_slashes_at_either_end_are_ignored() {
        let r = router(&[("/foo", "foo")]);
        assert_eq!(target(&r, "//foo//").as_deref(), Some("foo"));
    }

    // ---- path_info ----

    #[test]
    fn path_info_keeps_request_trailing_slash() {
        let r = router(&[("/prefix/...", "p")]);
        assert_eq!(r.route("/prefix").unwrap().path_info, "");
        assert_eq!(r.route("/prefix/").unwrap().path_info, "/");
        assert_eq!(r.route("/prefix/a").unwrap().path_info, "/a");
        assert_eq!(r.route("/prefix/a/b/").unwrap().path_info, "/a/b/");
    }

    #[test]
    fn path_info_under_catch_all_is_whole_path() {
        let r = router(&[("/...", "all")]);
        assert_eq!(r.route("/").unwrap().path_info, "/");
        assert_eq!(r.route("/1/2/3").unwrap().path_info, "/1/2/3");
    }

    #[test]
    fn path_info_is_empty_for_exact_and_named_routes() {
        let r = router(&[("/exact", "e"), ("/n/:id", "n")]);
        assert_eq!(r.route("/exact").unwrap().path_info, "");
        assert_eq!(r.route("/n/7").unwrap().path_info, "");
    }

    // ---- named captures ----

    #[test]
    fn named_and_wildcard_combine() {
        let r = router(&[("/users/:id/...", "u")]);
        let m = r.route("/users/42/cart/items/").unwrap();
        assert_eq!(m.named, vec![("id".into(), "42".into())]);
        assert_eq!(m.path_info, "/cart/items/");
        assert_eq!(m.based_route, "/users/:id");
        assert_eq!(r.route("/users/42").unwrap().path_info, "");
        // A named segment needs a non-empty value.
        assert_eq!(r.route("/users"), None);
        assert_eq!(r.route("/users/"), None);
    }

    #[test]
    fn named_captures_are_in_route_order() {
        let r = router(&[("/:org/repos/:repo/issues/:num", "i")]);
        let m = r.route("/acme/repos/widget/issues/9").unwrap();
        assert_eq!(
            m.named,
            vec![
                ("org".into(), "acme".into()),
                ("repo".into(), "widget".into()),
                ("num".into(), "9".into()),
            ]
        );
    }

    #[test]
    fn named_segment_stops_at_dot() {
        let r = router(&[("/files/:name.json", "json")]);
        let m = r.route("/files/report.json").unwrap();
        assert_eq!(m.named, vec![("name".into(), "report".into())]);
        assert_eq!(r.route("/files/report.xml"), None);
    }

    // ---- duplicates, private routes, has_component ----

    #[test]
    fn duplicate_routes_last_one_wins() {
        let (r, warnings) =
            Router::build(&[decl("/foo", "first"), decl("/foo", "second")]).unwrap();
        assert_eq!(target(&r, "/foo").as_deref(), Some("second"));
        assert_eq!(
            warnings,
            vec![
                "route \"/foo\" for component \"first\" is unreachable: later declaration for component \"second\" wins"
                    .to_string()
            ]
        );
    }

    #[test]
    fn duplicate_keeps_first_position_for_ties() {
        // The replacing declaration inherits the first one's slot, which decides ties
        // between equally ranked patterns.
        let r = router(&[("/:a", "x"), ("/:b", "y"), ("/:a", "z")]);
        assert_eq!(target(&r, "/q").as_deref(), Some("z"));
    }

    #[test]
    fn duplicates_are_detected_on_the_route_as_written() {
        // `/foo` and `/foo/` compile to the same pattern but are not reported as
        // duplicates; the first declared wins the tie.
        let (r, warnings) = Router::build(&[decl("/foo", "a"), decl("/foo/", "b")]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(target(&r, "/foo").as_deref(), Some("a"));
        assert_eq!(r.routes().count(), 2);
    }

    #[test]
    fn triple_duplicate_reports_each_replacement() {
        let (_, warnings) =
            Router::build(&[decl("/", "a"), decl("/", "b"), decl("/", "c")]).unwrap();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("\"a\"") && warnings[0].contains("\"b\" wins"));
        assert!(warnings[1].contains("\"b\"") && warnings[1].contains("\"c\" wins"));
    }

    #[test]
    fn private_routes_never_match_but_are_chaining_targets() {
        let (r, warnings) = Router::build(&[private("secret"), decl("/...", "public")]).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(target(&r, "/secret").as_deref(), Some("public"));
        assert!(r.routes().all(|(_, c)| c != "secret"));
        assert!(r.has_component("secret"));
        assert!(r.has_component("public"));
        assert!(!r.has_component("nobody"));
    }

    #[test]
    fn shadowed_component_is_still_a_chaining_target() {
        let r = router(&[("/x", "loser"), ("/x", "winner")]);
        assert!(r.has_component("loser"));
    }

    // ---- validation and warnings ----

    #[test]
    fn empty_param_name_is_rejected_naming_the_route() {
        let err = Router::build(&[decl("/users/:", "u")]).unwrap_err();
        let RouteError::InvalidRoute {
            route, component, ..
        } = &err;
        assert_eq!(route, "/users/:");
        assert_eq!(component, "u");
        assert!(err.to_string().contains("/users/:"));
    }

    #[test]
    fn named_star_is_rejected() {
        assert!(Router::build(&[decl("/files/*rest", "f")]).is_err());
    }

    #[test]
    fn wildcard_before_the_end_is_rejected() {
        for route in ["/*/x", "/a/*/...", "/*.json"] {
            assert!(Router::build(&[decl(route, "c")]).is_err(), "{route}");
        }
    }

    #[test]
    fn inner_ellipsis_is_not_a_wildcard() {
        let (r, warnings) = Router::build(&[decl("/a/.../b", "c")]).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        // routefinder folds the dots into the preceding literal and drops the slash
        // before them, so Spin ends up matching `/a.../b`, not `/a/.../b`.
        assert_eq!(target(&r, "/a.../b").as_deref(), Some("c"));
        assert_eq!(target(&r, "/a/.../b"), None);
        assert_eq!(target(&r, "/a/x/b"), None);
    }

    #[test]
    fn route_without_leading_slash_is_made_absolute_with_a_warning() {
        let (r, warnings) = Router::build(&[decl("foo", "c")]).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let m = r.route("/foo").unwrap();
        assert_eq!(m.raw_route, "foo");
        assert_eq!(m.matched_route, "/foo");
    }

    #[test]
    fn routes_under_well_known_spin_warn() {
        for route in ["/.well-known/spin/...", "/.well-known/spin/fie"] {
            let (_, warnings) = Router::build(&[decl(route, "c")]).unwrap();
            assert_eq!(warnings.len(), 1, "{route}: {warnings:?}");
            assert!(warnings[0].contains(WELL_KNOWN_PREFIX));
        }
        for route in ["/.well-known/spindle/...", "/.well-known/spin"] {
            let (_, warnings) = Router::build(&[decl(route, "c")]).unwrap();
            assert!(warnings.is_empty(), "{route}: {warnings:?}");
        }
    }

    #[test]
    fn reserved_paths_are_those_under_well_known_spin() {
        assert!(is_reserved_path("/.well-known/spin/health"));
        assert!(is_reserved_path("/.well-known/spin/info"));
        assert!(is_reserved_path("/.well-known/spin/"));
        assert!(!is_reserved_path("/.well-known/spin"));
        assert!(!is_reserved_path("/.well-known/spinach"));
        assert!(!is_reserved_path("/health"));
    }

    // ---- route fields and headers ----

    #[test]
    fn matched_route_is_sanitized_but_raw_route_is_verbatim() {
        let r = router(&[("/", "root"), ("/foo/", "foo"), ("/bar/...", "bar")]);
        let root = r.route("/").unwrap();
        assert_eq!(
            (
                root.raw_route.as_str(),
                root.matched_route.as_str(),
                root.based_route.as_str()
            ),
            ("/", "", "/")
        );
        let foo = r.route("/foo").unwrap();
        assert_eq!(
            (
                foo.raw_route.as_str(),
                foo.matched_route.as_str(),
                foo.based_route.as_str()
            ),
            ("/foo/", "/foo", "/foo/")
        );
        let bar = r.route("/bar/x").unwrap();
        assert_eq!(
            (
                bar.raw_route.as_str(),
                bar.matched_route.as_str(),
                bar.based_route.as_str()
            ),
            ("/bar/...", "/bar/...", "/bar")
        );
    }

    #[test]
    fn catch_all_component_route_is_empty() {
        let r = router(&[("/...", "all")]);
        assert_eq!(r.route("/x").unwrap().based_route, "");
    }

    #[test]
    fn spin_headers_match_spin_for_wildcard_route() {
        let r = router(&[("/users/:userid/cart/...", "cart")]);
        let m = r.route("/users/1/cart/items/3").unwrap();
        let h = m.spin_headers(
            "https://ex.com:8080/users/1/cart/items/3?x=y",
            "127.0.0.1:53152",
        );
        let expected: Vec<(String, String)> = [
            ("spin-path-info", "/items/3"),
            (
                "spin-full-url",
                "https://ex.com:8080/users/1/cart/items/3?x=y",
            ),
            ("spin-matched-route", "/users/:userid/cart/..."),
            ("spin-base-path", "/"),
            ("spin-raw-component-route", "/users/:userid/cart/..."),
            ("spin-component-route", "/users/:userid/cart"),
            ("spin-client-addr", "127.0.0.1:53152"),
            ("spin-path-match-userid", "1"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(h, expected);
    }

    #[test]
    fn path_match_header_names_are_lowercased_with_dashes() {
        let r = router(&[("/o/:order_id/:userId", "o")]);
        let h = r
            .route("/o/5/Ann")
            .unwrap()
            .spin_headers("http://h/o/5/Ann", "1.2.3.4:5");
        assert_eq!(header(&h, "spin-path-match-order-id"), Some("5"));
        assert_eq!(header(&h, "spin-path-match-userid"), Some("Ann"));
    }

    #[test]
    fn repeated_capture_name_yields_one_header_with_last_value() {
        let r = router(&[("/:id/x/:id", "c")]);
        let m = r.route("/1/x/2").unwrap();
        assert_eq!(m.named.len(), 2);
        let h = m.spin_headers("http://h/1/x/2", "1.2.3.4:5");
        assert_eq!(header(&h, "spin-path-match-id"), Some("2"));
    }

    #[test]
    fn chained_match_is_synthetic_catch_all() {
        let m = RouteMatch::chained("products", "/api/items/7");
        assert!(m.named.is_empty());
        let h = m.spin_headers(
            "http://products.spin.internal/api/items/7?q=1",
            CHAINED_CLIENT_ADDR,
        );
        assert_eq!(header(&h, "spin-path-info"), Some("/api/items/7"));
        assert_eq!(header(&h, "spin-matched-route"), Some("/..."));
        assert_eq!(header(&h, "spin-raw-component-route"), Some("/..."));
        assert_eq!(header(&h, "spin-component-route"), Some(""));
        assert_eq!(header(&h, "spin-base-path"), Some("/"));
        assert_eq!(header(&h, "spin-client-addr"), Some("0.0.0.0:0"));
        assert_eq!(
            header(&h, "spin-full-url"),
            Some("http://products.spin.internal/api/items/7?q=1")
        );
        assert_eq!(h.len(), 7);
    }
}
