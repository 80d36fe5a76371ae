//! The guard's settings, read from Spin variables once per request.

use crate::error::GuardError;
use jsonwebtoken::DecodingKey;

/// Keys and expectations for token verification.
#[derive(Clone)]
pub struct GuardConfig {
    pub(crate) jwt_secret: Vec<u8>,
    pub(crate) clerk_key: Option<DecodingKey>,
    pub(crate) clerk_issuer: Option<String>,
    pub(crate) allowed_parties: Vec<String>,
}

impl GuardConfig {
    /// From explicit values (tests, and components with their own variable names).
    /// `clerk_jwt_key` is Clerk's PEM public key; empty disables Clerk tokens.
    pub fn new(
        jwt_secret: &str,
        clerk_jwt_key: &str,
        clerk_issuer: &str,
        allowed_origins: &str,
    ) -> Result<Self, GuardError> {
        if jwt_secret.len() < 32 {
            return Err(GuardError::Misconfigured(
                "jwt_secret must be at least 32 characters".into(),
            ));
        }
        // Variables cannot hold newlines comfortably; accept `\n` escapes in the PEM.
        let pem = clerk_jwt_key.trim().replace("\\n", "\n");
        let clerk_key = if pem.is_empty() {
            None
        } else {
            Some(DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
                GuardError::Misconfigured(format!(
                    "clerk_jwt_key is not an RSA public key PEM: {e}"
                ))
            })?)
        };
        Ok(Self {
            jwt_secret: jwt_secret.as_bytes().to_vec(),
            clerk_key,
            clerk_issuer: Some(clerk_issuer.trim().to_owned()).filter(|s| !s.is_empty()),
            allowed_parties: allowed_origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        })
    }

    /// From the component's Spin variables `jwt_secret`, `clerk_jwt_key`, `clerk_issuer` and
    /// `frontend_base_url` (the allowed `azp` values).
    pub fn from_variables() -> Result<Self, GuardError> {
        let get = |name: &str| {
            spin_sdk::variables::get(name)
                .map_err(|e| GuardError::Misconfigured(format!("variable {name}: {e}")))
        };
        let optional = |name: &str| spin_sdk::variables::get(name).unwrap_or_default();
        Self::new(
            &get("jwt_secret")?,
            &optional("clerk_jwt_key"),
            &optional("clerk_issuer"),
            &optional("frontend_base_url"),
        )
    }
}
