//! Clerk users as the Backend API (`GET /v1/users/{id}`) and the `user.*` webhooks describe
//! them, reduced to what we keep: name (first + last), primary email, and Clerk's `updated_at`
//! (to ignore webhooks that arrive out of order).

use crate::domain::user::UserName;
use email::Email;
use serde::Deserialize;

/// A Clerk user id (`user_2abc...`). Only letters, digits and `_`, so it is safe in a URL path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkId(String);

impl ClerkId {
    /// Accepts 1–64 characters of `[A-Za-z0-9_]`.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        ok.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What we take from a Clerk user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkProfile {
    pub clerk_id: ClerkId,
    pub name: UserName,
    pub email: Option<Email>,
    /// Clerk marks the primary address verified: only then may it link to an existing account.
    pub email_verified: bool,
    /// Clerk's `updated_at` (ms): a webhook older than what we applied is ignored.
    pub updated_at: i64,
}

#[derive(Debug, Deserialize)]
struct UserWire {
    id: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    primary_email_address_id: Option<String>,
    #[serde(default)]
    email_addresses: Vec<EmailWire>,
    #[serde(default)]
    updated_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct EmailWire {
    id: String,
    email_address: String,
    #[serde(default)]
    verification: Option<VerificationWire>,
}

#[derive(Debug, Deserialize)]
struct VerificationWire {
    #[serde(default)]
    status: Option<String>,
}

/// A Clerk user object we cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Clerk user payload is invalid: {0}")]
pub struct ProfileError(String);

/// Name used when Clerk has no first/last name, username or email for a user.
const FALLBACK_NAME: &str = "Clerk user";

impl ClerkProfile {
    /// From Clerk's user JSON (unknown fields ignored: Clerk adds fields over time).
    pub fn from_json(value: serde_json::Value) -> Result<Self, ProfileError> {
        let wire: UserWire =
            serde_json::from_value(value).map_err(|e| ProfileError(e.to_string()))?;
        let clerk_id = ClerkId::parse(&wire.id)
            .ok_or_else(|| ProfileError(format!("bad id {:?}", wire.id)))?;
        let primary = wire
            .email_addresses
            .iter()
            .find(|e| Some(&e.id) == wire.primary_email_address_id.as_ref())
            .or(wire.email_addresses.first());
        let email = primary.and_then(|e| Email::parse(&e.email_address).ok());
        let email_verified = primary
            .and_then(|e| e.verification.as_ref())
            .and_then(|v| v.status.as_deref())
            == Some("verified");
        let full_name = [wire.first_name, wire.last_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let name_source = if !full_name.is_empty() {
            full_name
        } else if let Some(username) = wire.username.filter(|u| !u.trim().is_empty()) {
            username
        } else {
            email
                .as_ref()
                .and_then(|e| e.as_str().split('@').next())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Self {
            clerk_id,
            name: UserName::lenient(&name_source, FALLBACK_NAME),
            email,
            email_verified,
            updated_at: wire.updated_at.unwrap_or(0),
        })
    }
}

/// A Clerk webhook event, by what it asks of us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClerkEvent {
    /// `user.created` / `user.updated`: create or update the user.
    Upsert(ClerkProfile),
    /// `user.deleted`: delete the account.
    Deleted(ClerkId),
    /// Anything else: acknowledged, nothing happens.
    Ignored,
}

#[derive(Debug, Deserialize)]
struct EventWire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

impl ClerkEvent {
    /// From the webhook body.
    pub fn from_body(body: &[u8]) -> Result<Self, ProfileError> {
        let event: EventWire =
            serde_json::from_slice(body).map_err(|e| ProfileError(e.to_string()))?;
        match event.kind.as_str() {
            "user.created" | "user.updated" => {
                ClerkProfile::from_json(event.data).map(Self::Upsert)
            }
            "user.deleted" => {
                let id = event
                    .data
                    .get("id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                ClerkId::parse(id)
                    .map(Self::Deleted)
                    .ok_or_else(|| ProfileError(format!("bad id {id:?}")))
            }
            _ => Ok(Self::Ignored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn clerk_user() -> serde_json::Value {
        json!({
            "id": "user_2abc", "object": "user", "first_name": "Ada", "last_name": "Lovelace",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.com", "verification": {"status": "verified"}},
                {"id": "idn_2", "email_address": "Ada@Example.com", "verification": {"status": "verified"}}
            ],
            "updated_at": 1700000000000_i64, "image_url": "https://img"
        })
    }

    #[test]
    fn name_is_first_plus_last_and_email_is_the_primary_address() {
        let p = ClerkProfile::from_json(clerk_user()).unwrap();
        assert_eq!(p.clerk_id.as_str(), "user_2abc");
        assert_eq!(p.name.as_str(), "Ada Lovelace");
        assert_eq!(p.email.unwrap().as_str(), "ada@example.com");
        assert!(p.email_verified);
        assert_eq!(p.updated_at, 1700000000000);
    }

    #[test]
    fn a_user_without_names_is_named_after_the_email() {
        let mut u = clerk_user();
        u["first_name"] = json!(null);
        u["last_name"] = json!("");
        assert_eq!(ClerkProfile::from_json(u).unwrap().name.as_str(), "ada");
    }

    #[test]
    fn clerk_ids_are_plain_tokens() {
        assert!(ClerkId::parse("user_2NNEqL2nrIRdJ194ndJqAHwEfxC").is_some());
        for bad in ["", "user/../x", "a b", &"u".repeat(65)] {
            assert!(ClerkId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn events_map_to_what_they_ask() {
        let body = |kind: &str, data: serde_json::Value| {
            json!({"type": kind, "data": data, "object": "event"}).to_string()
        };
        assert!(matches!(
            ClerkEvent::from_body(body("user.created", clerk_user()).as_bytes()),
            Ok(ClerkEvent::Upsert(_))
        ));
        assert_eq!(
            ClerkEvent::from_body(
                body("user.deleted", json!({"id": "user_2abc", "deleted": true})).as_bytes()
            ),
            Ok(ClerkEvent::Deleted(ClerkId::parse("user_2abc").unwrap()))
        );
        assert_eq!(
            ClerkEvent::from_body(body("session.created", json!({})).as_bytes()),
            Ok(ClerkEvent::Ignored)
        );
        assert!(ClerkEvent::from_body(b"not json").is_err());
    }
}
