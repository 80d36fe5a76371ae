//! Stripe's request parameters and its error body. A form's flat pairs are read back into the
//! nested parameters Stripe sees (`line_items[0][quantity]=2` is `line_items` → `0` →
//! `quantity`), with a generic form parser's output as the only input: nothing here knows how
//! the app built the form.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A refused call: the HTTP status and Stripe's `{"error": {type, code, message, param}}`.
#[derive(Debug, Clone)]
pub struct StripeError {
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
}

impl StripeError {
    /// 400 `invalid_request_error` about `param`, without a code.
    pub fn invalid(param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error",
            code: None,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// The same error with Stripe's machine-readable `code`.
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn missing(param: &str) -> Self {
        Self::invalid(Some(param), format!("Missing required param: {param}."))
            .code("parameter_missing")
    }

    pub fn unknown(param: &str) -> Self {
        Self::invalid(Some(param), format!("Received unknown parameter: {param}"))
            .code("parameter_unknown")
    }

    /// Stripe reads an empty value as "unset this parameter", which a required one refuses.
    pub fn empty(param: &str) -> Self {
        Self::invalid(
            Some(param),
            format!(
                "You passed an empty string for '{param}'. We assume empty values are an attempt \
                 to unset a parameter; however '{param}' cannot be unset. You should remove \
                 '{param}' from your request or supply a non-empty value."
            ),
        )
        .code("parameter_invalid_empty")
    }

    /// 404 `resource_missing`: `No such checkout.session: 'cs_...'`.
    pub fn no_such(object: &str, id: &str, param: &str) -> Self {
        Self {
            status: 404,
            ..Self::invalid(Some(param), format!("No such {object}: '{id}'"))
                .code("resource_missing")
        }
    }

    /// The response body, as Stripe writes it (absent fields left out).
    pub fn body(&self) -> Value {
        let mut error = json!({ "type": self.kind, "message": self.message });
        if let Some(code) = self.code {
            error["code"] = json!(code);
            error["doc_url"] = json!(format!(
                "https://stripe.com/docs/error-codes/{}",
                code.replace('_', "-")
            ));
        }
        if let Some(param) = &self.param {
            error["param"] = json!(param);
        }
        json!({ "error": error })
    }
}

/// One parameter: a value, or a hash of named (or, for arrays, numbered) parameters.
#[derive(Debug)]
pub enum Param {
    Value(String),
    Hash(BTreeMap<String, Param>),
}

/// Reads form pairs into Stripe's nested parameters. A name that is not `a[b][c]`, a value
/// given twice, or a name used both as a value and as a hash is refused.
pub fn parse(pairs: &[(String, String)]) -> Result<BTreeMap<String, Param>, StripeError> {
    let mut root = BTreeMap::new();
    for (name, value) in pairs {
        let path = name_path(name).ok_or_else(|| {
            StripeError::invalid(Some(name), format!("Invalid parameter name: {name}"))
        })?;
        insert(&mut root, &path, value, name)?;
    }
    Ok(root)
}

/// `a[b][c]` → `["a", "b", "c"]`. Stripe's `a[]` (append) is not used by the app: refused.
fn name_path(name: &str) -> Option<Vec<&str>> {
    let (head, mut rest) = name.split_at(name.find('[').unwrap_or(name.len()));
    let mut path = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        path.push(&inner[..end]);
        rest = &inner[end + 1..];
    }
    path.iter()
        .all(|segment| !segment.is_empty())
        .then_some(path)
}

fn insert(
    hash: &mut BTreeMap<String, Param>,
    path: &[&str],
    value: &str,
    name: &str,
) -> Result<(), StripeError> {
    let conflict = || {
        StripeError::invalid(
            Some(name),
            format!("The parameter {name} was given more than once or conflicts with another"),
        )
    };
    match path {
        [] => unreachable!("a parameter name has at least one segment"),
        [last] => match hash.insert((*last).to_owned(), Param::Value(value.to_owned())) {
            None => Ok(()),
            Some(_) => Err(conflict()),
        },
        [first, rest @ ..] => {
            let entry = hash
                .entry((*first).to_owned())
                .or_insert_with(|| Param::Hash(BTreeMap::new()));
            match entry {
                Param::Hash(inner) => insert(inner, rest, value, name),
                Param::Value(_) => Err(conflict()),
            }
        }
    }
}

/// A hash of parameters and its name in errors (`line_items[0][price_data]`), with Stripe's
/// reading rules for the value types the fake needs.
pub struct Hash<'a> {
    name: String,
    entries: &'a BTreeMap<String, Param>,
}

impl<'a> Hash<'a> {
    /// The request's top-level parameters.
    pub fn root(entries: &'a BTreeMap<String, Param>) -> Self {
        Self {
            name: String::new(),
            entries,
        }
    }

    /// The full name of `key` in this hash, as Stripe writes it in `param`.
    pub fn name_of(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_owned()
        } else {
            format!("{}[{key}]", self.name)
        }
    }

    /// Refuses any parameter not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), StripeError> {
        match self
            .entries
            .keys()
            .find(|key| !known.contains(&key.as_str()))
        {
            Some(key) => Err(StripeError::unknown(&self.name_of(key))),
            None => Ok(()),
        }
    }

    /// A string; an empty one is "not given".
    pub fn string(&self, key: &str) -> Result<Option<&'a str>, StripeError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(Param::Value(value)) if value.is_empty() => Ok(None),
            Some(Param::Value(value)) => Ok(Some(value)),
            Some(Param::Hash(_)) => Err(StripeError::invalid(
                Some(&self.name_of(key)),
                format!("Invalid string: {}", self.name_of(key)),
            )),
        }
    }

    /// A string that must be given and not empty.
    pub fn required(&self, key: &str) -> Result<&'a str, StripeError> {
        match self.entries.get(key) {
            Some(Param::Value(value)) if value.is_empty() => {
                Err(StripeError::empty(&self.name_of(key)))
            }
            _ => self
                .string(key)?
                .ok_or_else(|| StripeError::missing(&self.name_of(key))),
        }
    }

    /// An integer, written as Stripe takes it: an optional `-` and digits.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, StripeError> {
        let Some(text) = self.string(key)? else {
            return Ok(None);
        };
        let digits = text.strip_prefix('-').unwrap_or(text);
        match text.parse::<i64>() {
            Ok(n) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(n))
            }
            _ => Err(StripeError::invalid(
                Some(&self.name_of(key)),
                format!("Invalid integer: {text}"),
            )
            .code("parameter_invalid_integer")),
        }
    }

    /// An integer that must be given.
    pub fn required_integer(&self, key: &str) -> Result<i64, StripeError> {
        self.required(key)?;
        Ok(self.integer(key)?.expect("a required value is present"))
    }

    /// A nested hash; an empty value is "not given".
    pub fn hash(&self, key: &str) -> Result<Option<Hash<'a>>, StripeError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(Param::Value(value)) if value.is_empty() => Ok(None),
            Some(Param::Value(_)) => Err(StripeError::invalid(
                Some(&self.name_of(key)),
                format!("Invalid object: {} must be a hash", self.name_of(key)),
            )),
            Some(Param::Hash(entries)) => Ok(Some(Hash {
                name: self.name_of(key),
                entries,
            })),
        }
    }

    /// An array sent as `key[0]`, `key[1]`, ...: numbered from 0 with no gaps.
    pub fn array(&self, key: &str) -> Result<Option<Vec<Hash<'a>>>, StripeError> {
        let Some(hash) = self.hash(key)? else {
            return Ok(None);
        };
        let invalid = || {
            StripeError::invalid(
                Some(&self.name_of(key)),
                format!(
                    "Invalid array: {} must be numbered 0, 1, 2, ...",
                    self.name_of(key)
                ),
            )
        };
        let mut items = Vec::new();
        for (index, item) in hash.entries {
            let index: usize = index.parse().map_err(|_| invalid())?;
            items.push((index, item));
        }
        items.sort_by_key(|(index, _)| *index);
        items
            .into_iter()
            .enumerate()
            .map(|(expected, (index, item))| match item {
                Param::Hash(entries) if index == expected => Ok(Hash {
                    name: hash.name_of(&index.to_string()),
                    entries,
                }),
                _ => Err(invalid()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The string entries of a `metadata`-like hash, in key order.
    pub fn strings(&self) -> Result<Vec<(&'a str, &'a str)>, StripeError> {
        self.entries
            .iter()
            .map(|(key, value)| match value {
                Param::Value(value) => Ok((key.as_str(), value.as_str())),
                Param::Hash(_) => Err(StripeError::invalid(
                    Some(&self.name_of(key)),
                    format!("Invalid string: {}", self.name_of(key)),
                )),
            })
            .collect()
    }
}
