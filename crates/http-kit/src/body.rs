//! Strict JSON bodies: unknown fields, missing fields and wrong types are all 400s that name
//! the field, in the wording the storefront already shows (`property x should not exist`).

use crate::error::{FieldError, RequestError};
use serde::de::DeserializeOwned;

/// Largest request body accepted (1 MiB): far above any real payload of this API.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Parses a JSON body into `T` (whose wire structs use `#[serde(deny_unknown_fields)]`).
/// An empty body parses as `{}`, so each missing required field is reported by name.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::BodyTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    // Derived structs also accept a JSON array (fields by position); the API takes objects only.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        let valid_json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        let message = if valid_json {
            "Request body must be a JSON object"
        } else {
            "Request body must be valid JSON"
        };
        return Err(invalid_body(message, Vec::new()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return invalid_body("Request body must be valid JSON", Vec::new());
        }
        let error = describe(&path, &strip_position(&inner.to_string()));
        invalid_body(&error.message.clone(), vec![error])
    })?;
    // Trailing garbage after the value makes the whole body invalid JSON.
    deserializer
        .end()
        .map_err(|_| invalid_body("Request body must be valid JSON", Vec::new()))?;
    Ok(value)
}

fn invalid_body(message: &str, errors: Vec<FieldError>) -> RequestError {
    RequestError::InvalidBody {
        message: message.to_owned(),
        errors,
    }
}

/// serde_json appends " at line L column C"; the field name says more to an API user.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// `a.b` joined with `c` → `a.b.c`; the root path `.` joins to just `c`.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// The text between the first pair of backticks in a serde message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// Turns serde's wording into the API's: which field, and what it must be.
pub(crate) fn describe(path: &str, message: &str) -> FieldError {
    let at_root = path.is_empty() || path == ".";
    if message.starts_with("unknown field") {
        // serde_path_to_error's path already ends with the unknown field itself.
        let field = if at_root {
            backticked(message).unwrap_or("?")
        } else {
            path
        };
        return FieldError::new(field, format!("property {field} should not exist"));
    }
    if message.starts_with("missing field") {
        let field = join(path, backticked(message).unwrap_or("?"));
        return FieldError::new(&field, format!("{field} is required"));
    }
    if at_root && (message.contains("expected struct") || message.contains("expected a map")) {
        return FieldError::new("", "Request body must be a JSON object");
    }
    let expected = message.rsplit_once("expected ").map(|(_, e)| e.trim());
    let kind = match expected {
        Some("a string") => Some("a string"),
        Some("a boolean") => Some("a boolean"),
        Some("a sequence") => Some("an array"),
        Some(e) if e.starts_with("struct") || e == "a map" => Some("an object"),
        Some("u8" | "u16" | "u32" | "u64" | "usize") => Some("a non-negative integer"),
        Some("i8" | "i16" | "i32" | "i64" | "isize") => Some("an integer"),
        Some("f32" | "f64") => Some("a number"),
        Some(e) if e.starts_with("one of") || e.starts_with("variant") => {
            return FieldError::new(
                path,
                format!("{path} must be one of {}", e.trim_start_matches("one of ")),
            );
        }
        // serde lists two variants as "expected `A` or `B`" and one as "expected `A`".
        Some(e) if message.starts_with("unknown variant") => {
            return FieldError::new(
                path,
                format!("{path} must be one of {}", e.replace(" or ", ", ")),
            );
        }
        _ => None,
    };
    match kind {
        Some(kind) => FieldError::new(path, format!("{path} must be {kind}")),
        // Our own parsing newtypes phrase their errors as "must ..." for exactly this.
        None if message.starts_with("must ") => FieldError::new(path, format!("{path} {message}")),
        None => FieldError::new(path, format!("{path}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        product_id: String,
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        name: String,
        quantity: u32,
        image_urls: Option<Vec<String>>,
        lines: Option<Vec<Line>>,
    }

    fn first_error(body: &str) -> (String, FieldError) {
        match parse_json::<Body>(body.as_bytes()) {
            Err(RequestError::InvalidBody { message, errors }) => (
                message,
                errors.into_iter().next().unwrap_or(FieldError::new("", "")),
            ),
            other => panic!("expected InvalidBody, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_body_parses() {
        let body: Body = parse_json(br#"{"name":"Mug","quantity":2,"imageUrls":[]}"#).unwrap();
        assert_eq!(body.quantity, 2);
    }

    #[test]
    fn an_unknown_field_is_named() {
        let (message, error) = first_error(r#"{"name":"Mug","quantity":2,"colour":"red"}"#);
        assert_eq!(message, "property colour should not exist");
        assert_eq!(error.field, "colour");
    }

    #[test]
    fn an_unknown_nested_field_carries_its_path() {
        let (message, _) = first_error(
            r#"{"name":"M","quantity":1,"lines":[{"product_id":"p","quantity":1,"x":1}]}"#,
        );
        assert_eq!(message, "property lines[0].x should not exist");
    }

    #[test]
    fn a_missing_field_is_named() {
        let (message, error) = first_error(r#"{"quantity":2}"#);
        assert_eq!(message, "name is required");
        assert_eq!(error.field, "name");
    }

    #[test]
    fn an_empty_body_reports_the_first_missing_field() {
        let (message, _) = first_error("");
        assert_eq!(message, "name is required");
    }

    #[test]
    fn wrong_types_say_what_is_expected() {
        assert_eq!(
            first_error(r#"{"name":5,"quantity":2}"#).0,
            "name must be a string"
        );
        assert_eq!(
            first_error(r#"{"name":"M","quantity":"2"}"#).0,
            "quantity must be a non-negative integer"
        );
        assert_eq!(
            first_error(r#"{"name":"M","quantity":-1}"#).0,
            "quantity must be a non-negative integer"
        );
        assert_eq!(
            first_error(r#"{"name":"M","quantity":1,"imageUrls":"x"}"#).0,
            "imageUrls must be an array"
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct RoleBody {
        role: Role,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    enum Role {
        Admin,
        Nadmin,
    }

    #[test]
    fn an_unknown_enum_value_lists_the_allowed_ones() {
        let err = parse_json::<RoleBody>(br#"{"role":"ROOT"}"#).unwrap_err();
        assert_eq!(err.to_string(), "role must be one of `ADMIN`, `NADMIN`");
    }

    #[test]
    fn malformed_json_and_non_objects_are_rejected_plainly() {
        assert_eq!(
            first_error(r#"{"name":"#).0,
            "Request body must be valid JSON"
        );
        assert_eq!(first_error("[1,2]").0, "Request body must be a JSON object");
        assert_eq!(
            first_error(r#"{"name":"M","quantity":1} trailing"#).0,
            "Request body must be valid JSON"
        );
    }

    #[test]
    fn oversized_bodies_are_refused_before_parsing() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(
            parse_json::<Body>(&big),
            Err(RequestError::BodyTooLarge { .. })
        ));
    }
}
