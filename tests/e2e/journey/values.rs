//! The kinds of value the storefront reads, as the contract writes them (api-contract §1): an
//! object with exactly its keys, ids as non-empty strings, money as dollars with at most two
//! decimals, counts as integers, timestamps as ISO-8601 UTC with milliseconds.

use serde_json::Value;
use std::collections::BTreeSet;

/// `value` is an object with exactly `keys`.
pub fn keys(value: &Value, keys: &[&str], what: &str) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is an object: {value}"));
    let got: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(got, want, "{what}'s keys: {value}");
}

/// The same JSON, numbers compared by value (the app writes whole dollars as `15`, a form
/// may send `15.0`: both are the number the storefront reads).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A non-empty string id; answers it.
pub fn id<'v>(value: &'v Value, what: &str) -> &'v str {
    value
        .as_str()
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| panic!("{what} is a non-empty string id: {value}"))
}

/// Dollars on the wire: a JSON number with at most two decimals, equal to `expected`.
pub fn money(value: &Value, expected: f64, what: &str) {
    let dollars = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is a number of dollars: {value}"));
    let cents = dollars * 100.0;
    assert!(
        (cents - cents.round()).abs() < 1e-6,
        "{what} has at most two decimals: {value}"
    );
    assert!(
        (dollars - expected).abs() < 0.001,
        "{what} is {expected}, got {value}"
    );
}

/// A JSON integer (not `2.0`, not a string) equal to `expected`.
pub fn count(value: &Value, expected: i64, what: &str) {
    assert!(
        value.is_i64() || value.is_u64(),
        "{what} is an integer: {value}"
    );
    assert_eq!(value.as_i64(), Some(expected), "{what}");
}

/// `2026-05-01T12:00:00.000Z`: ISO-8601 in UTC with milliseconds, as the contract writes it.
pub fn timestamp<'v>(value: &'v Value, what: &str) -> &'v str {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a timestamp string: {value}"));
    let pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
    let fits = text.len() == pattern.len()
        && text.chars().zip(pattern.chars()).all(|(c, p)| match p {
            'd' => c.is_ascii_digit(),
            _ => c == p,
        });
    assert!(fits, "{what} is ISO-8601 UTC like {pattern}: {text}");
    text
}

/// `createdAt` and `updatedAt`, the latter not before the former.
pub fn times(value: &Value, what: &str) {
    let created = timestamp(&value["createdAt"], &format!("{what}.createdAt"));
    let updated = timestamp(&value["updatedAt"], &format!("{what}.updatedAt"));
    assert!(updated >= created, "{what} updated before it was created");
}
