//! Assembles the OpenAPI document served at `/api-gateway/documentation-json`: the docs
//! component's base (`src/openapi.json`: info, shared schemas, health and docs routes) plus the
//! fragment every HTTP component keeps beside its router (`components/<name>/src/openapi.json`),
//! so a route and its documentation change in one place. The build fails on a fragment that
//! redefines a path, tag, operation id or component, on a key written twice in one JSON object
//! (a JSON parser would silently keep the last), or on a `$ref` that points nowhere.

use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The components whose fragments are merged, in the order their tags appear.
const FRAGMENTS: [&str; 5] = ["auth", "products", "cart", "checkout", "orders"];

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let base_path = here.join("src/openapi.json");
    let mut document = read(&base_path);
    for name in FRAGMENTS {
        let path = here.join(format!("../{name}/src/openapi.json"));
        merge(&mut document, read(&path), name);
    }
    document["info"]["version"] = Value::from(std::env::var("CARGO_PKG_VERSION").expect("set"));
    check_refs(&document, &document);
    check_operations(&document);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("openapi.json");
    let text = serde_json::to_string(&document).expect("a JSON value serializes");
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

fn read(path: &Path) -> Value {
    println!("cargo::rerun-if-changed={}", path.display());
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut checker = serde_json::Deserializer::from_str(&text);
    serde::de::Deserializer::deserialize_any(&mut checker, UniqueKeys)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Walks a JSON document and fails on an object that has a key twice.
struct UniqueKeys;

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{key}\" is written twice in one object"
                )));
            }
            map.next_value_seed(UniqueKeys)?;
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(UniqueKeys)?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

fn object<'a>(value: &'a mut Value, what: &str) -> &'a mut Map<String, Value> {
    value
        .as_object_mut()
        .unwrap_or_else(|| panic!("{what} must be a JSON object"))
}

/// Adds `fragment`'s tags, paths and components to `document`; nothing may be defined twice.
fn merge(document: &mut Value, mut fragment: Value, name: &str) {
    let fragment = object(&mut fragment, name);
    for key in fragment.keys() {
        assert!(
            ["tags", "paths", "components"].contains(&key.as_str()),
            "{name}/src/openapi.json: `{key}` is not a fragment key (tags, paths, components)"
        );
    }
    if let Some(Value::Array(tags)) = fragment.remove("tags") {
        let known = document["tags"].as_array_mut().expect("the base has tags");
        for tag in tags {
            assert!(
                !known.iter().any(|t| t["name"] == tag["name"]),
                "{name}: tag {} is defined twice",
                tag["name"]
            );
            known.push(tag);
        }
    }
    if let Some(mut paths) = fragment.remove("paths") {
        let known = object(&mut document["paths"], "paths");
        for (path, item) in std::mem::take(object(&mut paths, "paths")) {
            assert!(
                !known.contains_key(&path),
                "{name}: path {path} is defined twice"
            );
            known.insert(path, item);
        }
    }
    if let Some(mut components) = fragment.remove("components") {
        for (kind, mut entries) in std::mem::take(object(&mut components, "components")) {
            let known = object(&mut document["components"], "components")
                .entry(kind.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let known = object(known, &kind);
            for (entry, value) in std::mem::take(object(&mut entries, &kind)) {
                assert!(
                    !known.contains_key(&entry),
                    "{name}: components.{kind}.{entry} is defined twice"
                );
                known.insert(entry, value);
            }
        }
    }
}

/// Every `$ref` in `value` names something in `document`.
fn check_refs(document: &Value, value: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("$ref {reference} is not local"));
                assert!(
                    document.pointer(pointer).is_some(),
                    "$ref {reference} points nowhere"
                );
            }
            map.values().for_each(|v| check_refs(document, v));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(document, v)),
        _ => {}
    }
}

/// Operation ids are unique and every operation's tags are declared.
fn check_operations(document: &Value) {
    let tags: BTreeSet<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if method == "parameters" {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id), "operationId {id} is used twice");
            for tag in operation["tags"].as_array().into_iter().flatten() {
                let tag = tag.as_str().unwrap_or_default();
                assert!(
                    tags.contains(tag),
                    "{method} {path}: tag {tag} is not declared"
                );
            }
        }
    }
}
