//! An email address that has been checked once at the edge and lower-cased, so lookups by
//! email are case-insensitive everywhere behind it.
#![deny(missing_docs)]

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A syntactically valid email address, lower-cased. `parse` is the only way in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why a string is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a valid email address")]
pub struct EmailError;

impl Email {
    /// Longest address SMTP allows (RFC 5321 path limit minus the angle brackets).
    pub const MAX_LEN: usize = 254;

    /// Accepts `local@domain.tld` with the characters real addresses use; trims surrounding
    /// whitespace and lower-cases the whole address.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let address = input.trim().to_lowercase();
        if address.len() > Self::MAX_LEN {
            return Err(EmailError);
        }
        let (local, domain) = address.rsplit_once('@').ok_or(EmailError)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Email(address))
        } else {
            Err(EmailError)
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Email::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lower_cased_and_trimmed() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn common_valid_forms_are_accepted() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'neil@example.ie",
            "x_y-z@my-host.io",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn address_missing_at_symbol_is_rejected() {
        assert_eq!(Email::parse("ada.example.com"), Err(EmailError));
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@.com",
            "ada@example.c",
            "a b@example.com",
            "ada@exa_mple.com",
            ".ada@example.com",
            "ada.@example.com",
            "a..b@example.com",
            "ada@-x.com",
            "ada@example.123",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError), "{bad}");
        }
    }

    #[test]
    fn overlong_addresses_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError));
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        assert_eq!(
            serde_json::from_str::<Email>("\"A@B.io\"")
                .unwrap()
                .as_str(),
            "a@b.io"
        );
    }
}
