//! Token verification. Exactly two algorithms are accepted and each is tied to its own key:
//! HS256 only with our `jwt_secret` (our access tokens), RS256 only with Clerk's public key.
//! Anything else — `none`, other algorithms, an HS256 token "signed" with the public key — is
//! rejected before any claim is read.

use crate::config::GuardConfig;
use crate::error::GuardError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// `iss` of our own access tokens.
pub const ACCESS_TOKEN_ISSUER: &str = "reen";
/// Lifetime of our own access tokens (15 minutes).
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
/// Clock skew tolerated on `exp`/`nbf` (the contract's 5 s).
const LEEWAY_SECS: u64 = 5;

/// The claims of our own HS256 access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    /// The role when the token was issued (informational: the guard reads the current role).
    pub role: String,
    /// The user's email.
    pub email: String,
    /// Unique token id.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Always [`ACCESS_TOKEN_ISSUER`].
    pub iss: String,
}

/// The Clerk session-token claims we use.
#[derive(Debug, Deserialize)]
struct ClerkClaims {
    sub: String,
    #[serde(default)]
    azp: Option<String>,
}

/// Whose token this is, before the principal is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenIdentity {
    /// Our own access token for this user id.
    Own {
        /// The user id (`sub`).
        user_id: String,
        /// When it was issued (`iat`, Unix seconds).
        issued_at: i64,
    },
    /// A Clerk session token for this Clerk user id.
    Clerk {
        /// The Clerk user id (`sub`).
        clerk_id: String,
    },
}

/// Whether one of our access tokens issued at `issued_at` (Unix seconds) was revoked by a
/// user's `tokens_valid_after` stamp (Unix ms). `iat` has whole seconds only, so a token from
/// the stamp's own second counts as revoked: refusing a token minted just after a revocation
/// costs a sign-in, accepting one minted just before it would keep an attacker in.
pub fn revoked_by(issued_at: i64, tokens_valid_after: Option<i64>) -> bool {
    tokens_valid_after.is_some_and(|stamp| issued_at.saturating_mul(1000) <= stamp)
}

/// Signs one of our access tokens.
pub fn sign_access_token(claims: &AccessClaims, jwt_secret: &[u8]) -> Result<String, GuardError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(jwt_secret),
    )
    .map_err(|e| GuardError::Misconfigured(format!("signing an access token: {e}")))
}

fn invalid(reason: impl std::fmt::Display) -> GuardError {
    GuardError::InvalidToken(reason.to_string())
}

/// Verifies a bearer token and says whose it is.
pub fn verify_token(token: &str, config: &GuardConfig) -> Result<TokenIdentity, GuardError> {
    let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
    match header.alg {
        Algorithm::HS256 => {
            let mut validation = Validation::new(Algorithm::HS256);
            validation.leeway = LEEWAY_SECS;
            validation.set_issuer(&[ACCESS_TOKEN_ISSUER]);
            validation.set_required_spec_claims(&["exp", "sub", "iss"]);
            let secret = config.jwt_secret.as_deref().ok_or_else(|| {
                GuardError::Misconfigured("jwt_secret was not read for an HS256 token".into())
            })?;
            let key = DecodingKey::from_secret(secret);
            let data =
                jsonwebtoken::decode::<AccessClaims>(token, &key, &validation).map_err(invalid)?;
            Ok(TokenIdentity::Own {
                user_id: data.claims.sub,
                issued_at: data.claims.iat,
            })
        }
        Algorithm::RS256 => {
            let key = config
                .clerk_key
                .as_ref()
                .ok_or_else(|| invalid("Clerk tokens are not configured (clerk_jwt_key)"))?;
            let mut validation = Validation::new(Algorithm::RS256);
            validation.leeway = LEEWAY_SECS;
            validation.validate_nbf = true;
            // Clerk session tokens carry no `aud`.
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "sub"]);
            if let Some(issuer) = &config.clerk_issuer {
                validation.set_issuer(&[issuer]);
            }
            let data =
                jsonwebtoken::decode::<ClerkClaims>(token, key, &validation).map_err(invalid)?;
            if let Some(azp) = &data.claims.azp
                && !config.allowed_parties.iter().any(|p| p == azp)
            {
                return Err(invalid(format!("azp {azp} is not an allowed origin")));
            }
            Ok(TokenIdentity::Clerk {
                clerk_id: data.claims.sub,
            })
        }
        other => Err(invalid(format!("algorithm {other:?} is not accepted"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use std::sync::OnceLock;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
    const ORIGIN: &str = "http://localhost:3001";

    /// One RSA key pair for the whole test run (generation is slow), as PEM (private, public).
    fn keys() -> &'static (String, String) {
        static KEYS: OnceLock<(String, String)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
            let public = private.to_public_key();
            (
                private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
                public.to_public_key_pem(LineEnding::LF).unwrap(),
            )
        })
    }

    fn config() -> GuardConfig {
        GuardConfig::new(SECRET, &keys().1, "https://clerk.example", ORIGIN).unwrap()
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn own(exp_offset: i64) -> AccessClaims {
        AccessClaims {
            sub: "user-1".into(),
            role: "NADMIN".into(),
            email: "a@b.io".into(),
            jti: "j".into(),
            iat: now(),
            exp: now() + exp_offset,
            iss: ACCESS_TOKEN_ISSUER.into(),
        }
    }

    fn clerk_token(claims: serde_json::Value) -> String {
        let key = EncodingKey::from_rsa_pem(keys().0.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    fn clerk_claims() -> serde_json::Value {
        serde_json::json!({ "sub": "user_2abc", "iss": "https://clerk.example", "azp": ORIGIN,
            "exp": now() + 60, "nbf": now() - 10, "iat": now() - 10 })
    }

    #[test]
    fn our_access_token_verifies_to_its_user() {
        let token = sign_access_token(&own(60), SECRET.as_bytes()).unwrap();
        assert_eq!(
            verify_token(&token, &config()).unwrap(),
            TokenIdentity::Own {
                user_id: "user-1".into(),
                issued_at: own(60).iat,
            }
        );
    }

    #[test]
    fn a_token_from_the_second_of_a_revocation_or_before_is_revoked() {
        assert!(!revoked_by(1_700_000_000, None));
        assert!(revoked_by(1_699_999_999, Some(1_700_000_000_500)));
        assert!(revoked_by(1_700_000_000, Some(1_700_000_000_500)));
        assert!(revoked_by(1_700_000_000, Some(1_700_000_000_000)));
        assert!(!revoked_by(1_700_000_001, Some(1_700_000_000_999)));
    }

    #[test]
    fn an_expired_access_token_is_rejected() {
        let token = sign_access_token(&own(-60), SECRET.as_bytes()).unwrap();
        assert!(matches!(
            verify_token(&token, &config()),
            Err(GuardError::InvalidToken(_))
        ));
    }

    #[test]
    fn an_access_token_signed_with_another_secret_is_rejected() {
        let token = sign_access_token(&own(60), b"another-secret-another-secret-xx").unwrap();
        assert!(verify_token(&token, &config()).is_err());
    }

    #[test]
    fn a_clerk_session_token_verifies_to_its_clerk_user() {
        let token = clerk_token(clerk_claims());
        assert_eq!(
            verify_token(&token, &config()).unwrap(),
            TokenIdentity::Clerk {
                clerk_id: "user_2abc".into()
            }
        );
    }

    #[test]
    fn clerk_tokens_with_a_foreign_azp_wrong_issuer_or_future_nbf_are_rejected() {
        let mut claims = clerk_claims();
        claims["azp"] = "https://evil.example".into();
        assert!(verify_token(&clerk_token(claims), &config()).is_err());
        let mut claims = clerk_claims();
        claims["iss"] = "https://other.clerk".into();
        assert!(verify_token(&clerk_token(claims), &config()).is_err());
        let mut claims = clerk_claims();
        claims["nbf"] = (now() + 600).into();
        assert!(verify_token(&clerk_token(claims), &config()).is_err());
        let mut claims = clerk_claims();
        claims["exp"] = (now() - 60).into();
        assert!(verify_token(&clerk_token(claims), &config()).is_err());
    }

    #[test]
    fn a_clerk_token_without_azp_is_accepted() {
        let mut claims = clerk_claims();
        claims.as_object_mut().unwrap().remove("azp");
        assert!(verify_token(&clerk_token(claims), &config()).is_ok());
    }

    #[test]
    fn alg_none_is_rejected() {
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64(&clerk_claims())
        );
        assert!(verify_token(&token, &config()).is_err());
    }

    #[test]
    fn an_hs256_token_signed_with_the_clerk_public_key_is_rejected() {
        let claims = serde_json::json!({ "sub": "user-1", "iss": "reen", "exp": now() + 60 });
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(keys().1.as_bytes()),
        )
        .unwrap();
        assert!(verify_token(&forged, &config()).is_err());
    }

    #[test]
    fn other_algorithms_are_rejected() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &own(60),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(verify_token(&token, &config()).is_err());
    }

    #[test]
    fn garbage_is_rejected() {
        for junk in ["", "abc", "a.b.c", "Bearer x"] {
            assert!(verify_token(junk, &config()).is_err(), "{junk}");
        }
    }

    #[test]
    fn a_short_jwt_secret_is_a_configuration_error() {
        assert!(matches!(
            GuardConfig::new("short", "", "", ""),
            Err(GuardError::Misconfigured(_))
        ));
    }
}
