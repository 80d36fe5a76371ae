//! Svix webhook signatures, as Clerk sends them: headers `svix-id`, `svix-timestamp` (Unix
//! seconds) and `svix-signature` (space-separated `v1,<base64>`), HMAC-SHA256 with the key in
//! `whsec_<base64>` over `"{id}.{timestamp}.{raw body}"`, at most 5 minutes off.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Largest accepted distance between the signature's timestamp and now.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// The signing key from `clerk_webhook_secret`.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

/// The secret is not `whsec_` followed by base64.
#[derive(Debug, thiserror::Error)]
#[error("clerk_webhook_secret must be whsec_ followed by base64")]
pub struct BadSecret;

impl WebhookSecret {
    /// Parses `whsec_<base64>` (the prefix is optional, as in Svix's own libraries).
    pub fn parse(text: &str) -> Result<Self, BadSecret> {
        let text = text.trim();
        let encoded = text.strip_prefix("whsec_").unwrap_or(text);
        match STANDARD.decode(encoded) {
            Ok(key) if !key.is_empty() => Ok(Self(key)),
            _ => Err(BadSecret),
        }
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `v1,<base64>` signature of a message, as Svix sends it.
    #[cfg(test)]
    pub fn sign(&self, id: &str, timestamp: &str, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(id, timestamp, body).finalize().into_bytes())
        )
    }
}

/// The three Svix headers of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvixHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

/// Why a delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A Svix header is absent.
    #[error("Missing webhook signature headers")]
    MissingHeaders,
    /// The timestamp is not a number or too far from now (a replay or a wrong clock).
    #[error("Webhook timestamp is invalid or too old")]
    BadTimestamp,
    /// No `v1` signature matches.
    #[error("Invalid webhook signature")]
    NoMatch,
}

/// Checks a delivery at `now` (Unix seconds). Every candidate signature is compared in
/// constant time (`Mac::verify_slice`).
pub fn verify(
    secret: &WebhookSecret,
    headers: &SvixHeaders,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let sent: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - sent).abs() > TOLERANCE_SECS {
        return Err(SignatureError::BadTimestamp);
    }
    let mac = secret.mac(&headers.id, &headers.timestamp, body);
    let matches = headers
        .signature
        .split_whitespace()
        .filter_map(|candidate| candidate.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|signature| mac.clone().verify_slice(&signature).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from Svix's documentation of its signature scheme.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(signature: &str, timestamp: &str) -> SvixHeaders {
        SvixHeaders {
            id: ID.into(),
            timestamp: timestamp.into(),
            signature: signature.into(),
        }
    }

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).unwrap()
    }

    #[test]
    fn svixs_documented_example_verifies() {
        assert_eq!(secret().sign(ID, TS, BODY), SIGNATURE);
        assert_eq!(
            verify(&secret(), &headers(SIGNATURE, TS), BODY, 1614265330),
            Ok(())
        );
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let list = format!("v1,bm90IGl0 {SIGNATURE} v2,whatever");
        assert_eq!(
            verify(&secret(), &headers(&list, TS), BODY, 1614265330),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_or_wrong_secret_fails() {
        assert_eq!(
            verify(&secret(), &headers(SIGNATURE, TS), b"{}", 1614265330),
            Err(SignatureError::NoMatch)
        );
        let other = WebhookSecret::parse("whsec_b3RoZXIgc2VjcmV0").unwrap();
        assert_eq!(
            verify(&other, &headers(SIGNATURE, TS), BODY, 1614265330),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn timestamps_more_than_five_minutes_off_fail() {
        let h = headers(SIGNATURE, TS);
        assert_eq!(
            verify(&secret(), &h, BODY, 1614265330 + 301),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(&secret(), &h, BODY, 1614265330 - 301),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(verify(&secret(), &h, BODY, 1614265330 + 300), Ok(()));
        assert_eq!(
            verify(&secret(), &headers(SIGNATURE, "soon"), BODY, 0),
            Err(SignatureError::BadTimestamp)
        );
    }

    #[test]
    fn secrets_must_be_base64() {
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("").is_err());
    }
}
