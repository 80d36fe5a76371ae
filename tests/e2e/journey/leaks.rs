//! Nothing secret or internal in a body the storefront receives: every key of every object,
//! however deep, and every string value is checked. Keys are judged by name (a password hash is
//! a leak whatever its value); values by what they look like or are (a configured secret, a JWT,
//! a password hash, a PEM key), since a secret can travel under an innocent key.

use crate::{fake_clerk, fake_email, fake_stripe, helpers};
use serde_json::Value;

/// Parts of a key no body may carry, compared on the key lower-cased with `_` and `-` removed
/// (`refresh_token`, `refreshToken` and `Refresh-Token` are the same leak).
const FORBIDDEN_KEY_PARTS: &[&str] = &[
    "password",
    "hash",
    "token",
    "secret",
    "internal",
    "clerkid",
    "apikey",
    "privatekey",
    "cookie",
];

/// The routes whose answer carries our access token, as top-level `accessToken` (contract §2):
/// the only place a key naming a token is expected.
const CREDENTIAL_ROUTES: &[&str] = &[
    "/api/v1/auth/sign-up",
    "/api/v1/auth/sign-in",
    "/api/v1/auth/refresh-token",
];

/// What every secret the test app is configured with looks like, plus the prefixes of kinds of
/// secret that have no business in an answer whatever their value.
fn forbidden_values() -> Vec<String> {
    let mut values = vec![
        fake_clerk::SECRET_KEY.to_owned(),
        fake_clerk::webhook_secret(),
        fake_stripe::SECRET_KEY.to_owned(),
        fake_stripe::WEBHOOK_SECRET.to_owned(),
        fake_email::API_KEY.to_owned(),
        helpers::JWT_SECRET.to_owned(),
        helpers::REDRIVE_SECRET.to_owned(),
    ];
    for prefix in ["whsec_", "sk_test_", "sk_live_", "$argon2", "-----BEGIN"] {
        values.push(prefix.to_owned());
    }
    values
}

/// A compact JWT (ours or Clerk's): a base64url JSON header, then two more dotted parts.
fn looks_like_jwt(text: &str) -> bool {
    text.starts_with("eyJ") && text.matches('.').count() == 2
}

fn forbidden_key(route: &str, path: &str, key: &str) -> bool {
    if key == "accessToken" && path.is_empty() && CREDENTIAL_ROUTES.contains(&route) {
        return false;
    }
    let squashed: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .collect::<String>()
        .to_lowercase();
    FORBIDDEN_KEY_PARTS
        .iter()
        .any(|part| squashed.contains(part))
}

/// Every leak in `body` (the answer of `route`, its path without the query) as `where: what`;
/// empty when there is none.
pub fn leaks(route: &str, body: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(route, "", body, &forbidden_values(), &mut found);
    found
}

fn walk(route: &str, path: &str, value: &Value, secrets: &[String], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{path}.{key}");
                if forbidden_key(route, path, key) {
                    found.push(format!("{here}: a key that names a secret or internal"));
                }
                walk(route, &here, inner, secrets, found);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                walk(route, &format!("{path}[{i}]"), inner, secrets, found);
            }
        }
        Value::String(text) => {
            let secret = secrets.iter().find(|s| text.contains(s.as_str()));
            let jwt = looks_like_jwt(text) && !CREDENTIAL_ROUTES.contains(&route);
            if let Some(secret) = secret {
                found.push(format!("{path}: contains {secret:?}"));
            } else if jwt {
                found.push(format!("{path}: a JWT"));
            }
        }
        _ => {}
    }
}

/// Fails naming every leak in `body`.
pub fn assert_none(route: &str, body: &Value) {
    let found = leaks(route, body);
    assert!(found.is_empty(), "{route} leaks {found:?} in {body}");
}

// The walker is the suite's only guard against leaks, so it is checked on the leaks it must
// catch and the answers it must let through.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ME: &str = "/api/v1/auth/users/me";

    #[test]
    fn a_password_hash_deep_in_an_order_is_a_leak() {
        let body = json!([{ "orderItems": [{ "product": { "admin": { "passwordHash": "x" } } }] }]);
        assert_eq!(
            leaks("/api/v1/orders", &body),
            ["[0].orderItems[0].product.admin.passwordHash: a key that names a secret or internal"]
        );
    }

    #[test]
    fn refresh_tokens_are_leaks_however_they_are_spelt() {
        for key in ["refreshToken", "refresh_token", "Refresh-Token", "token"] {
            assert_eq!(leaks(ME, &json!({ key: "r" })).len(), 1, "{key}");
        }
    }

    #[test]
    fn the_access_token_is_expected_only_at_the_top_of_a_credential_answer() {
        let answer = json!({ "accessToken": "eyJh.eyJz.sig", "user": { "id": "u1" } });
        assert!(leaks("/api/v1/auth/sign-in", &answer).is_empty());
        assert_eq!(leaks(ME, &answer).len(), 2, "the key and the JWT");
        let nested = json!({ "user": { "accessToken": "a" } });
        assert_eq!(leaks("/api/v1/auth/sign-in", &nested).len(), 1);
    }

    #[test]
    fn a_configured_secret_under_an_innocent_key_is_a_leak() {
        let body = json!({ "description": format!("see {}", fake_stripe::SECRET_KEY) });
        assert_eq!(leaks("/api/v1/products/p1", &body).len(), 1);
        let body = json!({ "name": "$argon2id$v=19$m=19456,t=2,p=1$abc$def" });
        assert_eq!(leaks(ME, &body).len(), 1);
    }

    #[test]
    fn internal_and_clerk_fields_are_leaks() {
        for key in [
            "internal",
            "internalNote",
            "clerkId",
            "clerk_id",
            "clerkSecretKey",
        ] {
            assert_eq!(leaks(ME, &json!({ key: 1 })).len(), 1, "{key}");
        }
    }

    #[test]
    fn an_ordinary_storefront_answer_is_clean() {
        let order = json!({
            "id": "o1", "userId": "u1", "status": "COMPLETED", "total": 39.98,
            "checkoutSessionId": "cs_test_a1b2",
            "orderItems": [{ "id": "i1", "productId": "p1", "quantity": 2, "unitPrice": 19.99,
                             "price": 39.98, "product": { "name": "Lamp", "imageUrls": [] } }],
            "createdAt": "2026-05-01T12:00:00.000Z", "updatedAt": "2026-05-01T12:00:00.000Z"
        });
        assert!(leaks("/api/v1/orders", &json!([order])).is_empty());
        let session = json!({ "stripeSessionUrl": "https://checkout.stripe.com/c/pay/cs_test_a1",
                              "sessionId": "cs_test_a1" });
        assert!(leaks("/api/v1/checkout", &session).is_empty());
    }
}
