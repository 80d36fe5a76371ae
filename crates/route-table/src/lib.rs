//! The table of (method, path) a component serves, which its router dispatches on: the one
//! list of routes the OpenAPI document and spin.toml are checked against, so none can drift.
#![deny(missing_docs)]

/// The HTTP methods our routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method as written on the wire (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// The method as OpenAPI names its operations (`get`).
    pub const fn openapi_key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// Who may reach a route, which decides whether it is documented and exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Part of the public API: in spin.toml and in the OpenAPI document.
    Public,
    /// Exposed in spin.toml but for operators only (behind a secret of its own): not in the
    /// public OpenAPI document.
    Operator,
    /// A static file of the documentation pages (Swagger UI's script and styles): exposed,
    /// but not an API operation.
    Asset,
    /// Reached only by service chaining (`http://<component>.spin.internal`): never in
    /// spin.toml, never documented. Its path starts with `/internal/`.
    Internal,
}

/// One route: `path` is written as OpenAPI writes it, `{name}` standing for one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<E> {
    /// The method.
    pub method: Method,
    /// `/api/v1/products/{id}`.
    pub path: &'static str,
    /// Who may reach it.
    pub access: Access,
    /// What the router calls for it.
    pub endpoint: E,
}

impl<E> Route<E> {
    /// A table entry.
    pub const fn new(method: Method, path: &'static str, access: Access, endpoint: E) -> Self {
        Self {
            method,
            path,
            access,
            endpoint,
        }
    }
}

/// The non-empty segments of a path: a trailing or doubled slash changes nothing.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The parameters of `path` if `pattern` matches it, with how many literal segments matched.
fn matches<'p>(pattern: &str, path: &'p str) -> Option<(usize, Vec<&'p str>)> {
    let mut wanted = segments(pattern);
    let mut given = segments(path);
    let mut literals = 0;
    let mut parameters = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some((literals, parameters)),
            (Some(w), Some(g)) if is_parameter(w) => parameters.push(g),
            (Some(w), Some(g)) if w == g => literals += 1,
            _ => return None,
        }
    }
}

/// The endpoint for `method` and `path`, with the path's parameters in order. When several
/// routes match, the one with the most literal segments wins (`/products/bulk` over
/// `/products/{id}`), whatever the table's order.
pub fn find<'p, E: Copy>(
    table: &[Route<E>],
    method: &str,
    path: &'p str,
) -> Option<(E, Vec<&'p str>)> {
    table
        .iter()
        .filter(|route| route.method.as_str() == method)
        .filter_map(|route| {
            matches(route.path, path).map(|(literals, params)| (literals, route.endpoint, params))
        })
        // `max_by_key` keeps the last of equals; reversing first keeps the table's first.
        .rev()
        .max_by_key(|(literals, _, _)| *literals)
        .map(|(_, endpoint, params)| (endpoint, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::Public;
    use Method::{Get, Patch};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum E {
        List,
        One,
        Bulk,
        Sales,
    }

    const TABLE: &[Route<E>] = &[
        Route::new(Get, "/api/v1/products", Public, E::List),
        Route::new(Get, "/api/v1/products/{id}", Public, E::One),
        Route::new(Patch, "/api/v1/products/{id}", Public, E::One),
        Route::new(Patch, "/api/v1/products/bulk", Public, E::Bulk),
        Route::new(Get, "/api/v1/orders/sales", Public, E::Sales),
        Route::new(Get, "/api/v1/orders/{id}", Public, E::One),
    ];

    #[test]
    fn a_parameter_matches_one_segment_and_is_returned() {
        assert_eq!(
            find(TABLE, "GET", "/api/v1/products/p1"),
            Some((E::One, vec!["p1"]))
        );
        assert_eq!(find(TABLE, "GET", "/api/v1/products/p1/x"), None);
    }

    #[test]
    fn a_literal_segment_beats_a_parameter_in_any_order() {
        assert_eq!(
            find(TABLE, "PATCH", "/api/v1/products/bulk"),
            Some((E::Bulk, vec![]))
        );
        assert_eq!(
            find(TABLE, "GET", "/api/v1/orders/sales"),
            Some((E::Sales, vec![]))
        );
    }

    #[test]
    fn the_method_must_match() {
        assert_eq!(find(TABLE, "DELETE", "/api/v1/products/p1"), None);
        assert_eq!(find(TABLE, "get", "/api/v1/products"), None);
    }

    #[test]
    fn trailing_and_doubled_slashes_do_not_matter() {
        assert_eq!(
            find(TABLE, "GET", "/api/v1/products/"),
            Some((E::List, vec![]))
        );
        assert_eq!(
            find(TABLE, "GET", "/api//v1/products"),
            Some((E::List, vec![]))
        );
    }

    #[test]
    fn unknown_paths_match_nothing() {
        assert_eq!(find(TABLE, "GET", "/"), None);
        assert_eq!(find(TABLE, "GET", "/api/v1"), None);
        assert_eq!(find(TABLE, "GET", "/api/v1/productsx"), None);
    }
}
