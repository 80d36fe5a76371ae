//! The served OpenAPI document as a judge of responses: which documented operation a request
//! is (by method and path template, matched as the routers match), and whether a response's
//! status, content type and JSON body are what that operation documents. Used by every request
//! the end-to-end tests send (`conformance.rs`).

use jsonschema::{Draft, Validator};
use route_table::{Access, Method, Route};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One operation of the document: where it sits, to read its responses.
struct Operation {
    method: &'static str,
    template: &'static str,
}

/// The document, its operations as a route table, and the schema validators built so far.
pub struct Document {
    document: Value,
    operations: Vec<Operation>,
    table: Vec<Route<usize>>,
    /// Built on first use: compiling one per (operation, status, media type) of the whole
    /// document up front would cost every test for responses it never sees.
    validators: Mutex<HashMap<(usize, String, String), Arc<Validator>>>,
}

/// What a response was checked against, or why it was not.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No documented operation has this method and path (internal routes, the operator's
    /// re-drive, test fixtures, Swagger UI's files): nothing to check it against.
    Undocumented,
    /// It matches `METHOD /template`.
    Conforms(String),
    /// It breaks what `METHOD /template` documents: the reasons.
    Breaks(String, Vec<String>),
}

fn method_of(key: &str) -> Option<Method> {
    Some(match key {
        "get" => Method::Get,
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        _ => return None,
    })
}

impl Document {
    /// Reads `document` (the served OpenAPI 3.1 document).
    pub fn new(document: Value) -> Self {
        let mut operations = Vec::new();
        let mut table = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            // The route table holds `&'static str`: the document lives as long as the test
            // binary (it is read once per process), so leaking its paths costs nothing.
            let template: &'static str = Box::leak(path.clone().into_boxed_str());
            for key in item.as_object().into_iter().flatten().map(|(k, _)| k) {
                let Some(method) = method_of(key) else {
                    continue;
                };
                table.push(Route::new(
                    method,
                    template,
                    Access::Public,
                    operations.len(),
                ));
                operations.push(Operation {
                    method: method.openapi_key(),
                    template,
                });
            }
        }
        Document {
            document,
            operations,
            table,
            validators: Mutex::default(),
        }
    }

    /// Follows a local `$ref` (`#/components/responses/X`) if `value` is one.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.resolve(self.document.pointer(pointer).unwrap_or(&Value::Null)),
            None => value,
        }
    }

    /// Judges one response to `method path` (`path` without its query string).
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Verdict {
        let Some((index, _)) = route_table::find(&self.table, method, path) else {
            return Verdict::Undocumented;
        };
        let operation = &self.operations[index];
        let name = format!("{method} {}", operation.template);
        let responses = &self.document["paths"][operation.template][operation.method]["responses"];
        // An exact status first, then its class (`4XX`), then `default`, as OpenAPI reads them.
        let class = format!("{}XX", status / 100);
        let Some(response) = [status.to_string(), class, "default".to_owned()]
            .iter()
            .find_map(|key| responses.get(key.as_str()))
        else {
            let documented: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            return Verdict::Breaks(
                name,
                vec![format!(
                    "status {status} is not documented (documented: {documented:?})"
                )],
            );
        };
        let response = self.resolve(response);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return match body.is_empty() {
                true => Verdict::Conforms(name),
                false => Verdict::Breaks(
                    name,
                    vec![format!(
                        "status {status} is documented without a body, but one came"
                    )],
                ),
            };
        };
        // The media type without its parameters (`; charset=utf-8`).
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let Some(documented) = content.get(&media) else {
            let types: Vec<&String> = content.keys().collect();
            return Verdict::Breaks(
                name,
                vec![format!(
                    "content type {content_type:?} is not documented for status {status} (documented: {types:?})"
                )],
            );
        };
        if !(media == "application/json" || media.ends_with("+json")) {
            // Only JSON bodies have schemas worth checking here (the Swagger page is a string).
            return Verdict::Conforms(name);
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(err) => return Verdict::Breaks(name, vec![format!("the body is not JSON: {err}")]),
        };
        let validator = self.validator(index, &status.to_string(), &media, &documented["schema"]);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
            .collect();
        match errors.is_empty() {
            true => Verdict::Conforms(name),
            false => Verdict::Breaks(name, errors),
        }
    }

    /// The validator of one response schema: a 2020-12 schema whose root also holds the
    /// document's `components`, so `#/components/schemas/...` references resolve as they do in
    /// the document. Formats (`date-time`, `email`, `uri`) are checked, not just annotated.
    fn validator(&self, index: usize, status: &str, media: &str, schema: &Value) -> Arc<Validator> {
        let key = (index, status.to_owned(), media.to_owned());
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| {
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": self.document["components"],
                    "allOf": [schema],
                });
                let validator = jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("the documented schema does not compile: {e}"));
                Arc::new(validator)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with one operation, one closed schema behind a `$ref`, and a 304 without body.
    fn document() -> Document {
        Document::new(json!({
            "paths": {
                "/things/{id}": {
                    "get": {
                        "responses": {
                            "200": { "$ref": "#/components/responses/Thing" },
                            "304": { "description": "unchanged" },
                            "4XX": { "description": "error", "content": { "application/json": { "schema": { "type": "object" } } } }
                        }
                    }
                },
                "/things/special": { "get": { "responses": { "200": { "description": "text", "content": { "text/html": {} } } } } }
            },
            "components": {
                "responses": { "Thing": { "description": "a thing", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } } },
                "schemas": {
                    "Thing": {
                        "type": "object",
                        "required": ["id", "at"],
                        "additionalProperties": false,
                        "properties": { "id": { "type": "string" }, "at": { "type": "string", "format": "date-time" } }
                    }
                }
            }
        }))
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    fn breaks(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Breaks(_, errors) => errors,
            other => panic!("expected a break, got {other:?}"),
        }
    }

    #[test]
    fn a_documented_body_conforms() {
        let body = br#"{"id":"1","at":"2026-05-01T12:00:00.000Z"}"#;
        assert_eq!(
            document().check("GET", "/things/1", 200, JSON, body),
            Verdict::Conforms("GET /things/{id}".into())
        );
    }

    #[test]
    fn an_extra_field_a_missing_one_or_a_bad_format_breaks_it() {
        let doc = document();
        let extra = br#"{"id":"1","at":"2026-05-01T12:00:00.000Z","password":"x"}"#;
        assert!(breaks(doc.check("GET", "/things/1", 200, JSON, extra))[0].contains("password"));
        assert_eq!(
            breaks(doc.check("GET", "/things/1", 200, JSON, br#"{"id":"1"}"#)).len(),
            1
        );
        let format = br#"{"id":"1","at":"yesterday"}"#;
        assert!(breaks(doc.check("GET", "/things/1", 200, JSON, format))[0].contains("date-time"));
    }

    #[test]
    fn an_undocumented_status_or_content_type_breaks_it() {
        let doc = document();
        assert!(breaks(doc.check("GET", "/things/1", 500, None, b""))[0].contains("status 500"));
        let html = Some("text/html");
        assert!(
            breaks(doc.check("GET", "/things/1", 200, html, b"<p>"))[0].contains("content type")
        );
        assert!(
            breaks(doc.check("GET", "/things/1", 304, None, b"{}"))[0].contains("without a body")
        );
    }

    #[test]
    fn a_status_class_and_a_literal_path_are_matched_like_the_routers_do() {
        let doc = document();
        assert!(matches!(
            doc.check("GET", "/things/1", 404, JSON, b"{}"),
            Verdict::Conforms(_)
        ));
        assert!(matches!(
            doc.check("GET", "/things/1", 304, None, b""),
            Verdict::Conforms(_)
        ));
        assert_eq!(
            doc.check("GET", "/things/special", 200, Some("text/html"), b"<p>"),
            Verdict::Conforms("GET /things/special".into())
        );
    }

    #[test]
    fn undocumented_routes_are_not_judged() {
        let doc = document();
        assert_eq!(
            doc.check("POST", "/things/1", 500, None, b""),
            Verdict::Undocumented
        );
        assert_eq!(
            doc.check("GET", "/internal/v1/x", 200, None, b""),
            Verdict::Undocumented
        );
    }
}
