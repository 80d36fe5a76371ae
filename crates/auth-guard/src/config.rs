//! The guard's settings, read from Spin variables once per request, and only those the
//! request's token needs: on Spin every variable read is a blocking host call, and a request
//! without a token needs none.

use crate::error::GuardError;
use jsonwebtoken::{Algorithm, DecodingKey};

/// Keys and expectations for token verification.
#[derive(Clone)]
pub struct GuardConfig {
    /// `None` when only Clerk's settings were read (an RS256 token).
    pub(crate) jwt_secret: Option<Vec<u8>>,
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
        let mut config = Self::clerk(clerk_jwt_key, clerk_issuer, allowed_origins)?;
        config.jwt_secret = Some(checked_secret(jwt_secret)?);
        Ok(config)
    }

    /// Only what Clerk session tokens need; our own tokens are then refused as misconfigured.
    fn clerk(
        clerk_jwt_key: &str,
        clerk_issuer: &str,
        allowed_origins: &str,
    ) -> Result<Self, GuardError> {
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
            jwt_secret: None,
            clerk_key,
            clerk_issuer: Some(clerk_issuer.trim().to_owned()).filter(|s| !s.is_empty()),
            allowed_parties: allowed_origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        })
    }

    /// From the component's Spin variables, those a token signed with `algorithm` needs: ours
    /// (HS256) `jwt_secret`; Clerk's (RS256) `clerk_jwt_key`, `clerk_issuer` and
    /// `frontend_base_url` (the allowed `azp` values); any other algorithm none (it is refused).
    pub fn from_variables_for(algorithm: Algorithm) -> Result<Self, GuardError> {
        let optional = |name: &str| spin_sdk::variables::get(name).unwrap_or_default();
        match algorithm {
            Algorithm::HS256 => {
                let secret = spin_sdk::variables::get("jwt_secret")
                    .map_err(|e| GuardError::Misconfigured(format!("variable jwt_secret: {e}")))?;
                Ok(Self {
                    jwt_secret: Some(checked_secret(&secret)?),
                    ..Self::clerk("", "", "")?
                })
            }
            Algorithm::RS256 => Self::clerk(
                &optional("clerk_jwt_key"),
                &optional("clerk_issuer"),
                &optional("frontend_base_url"),
            ),
            _ => Self::clerk("", "", ""),
        }
    }
}

fn checked_secret(jwt_secret: &str) -> Result<Vec<u8>, GuardError> {
    if jwt_secret.len() < 32 {
        return Err(GuardError::Misconfigured(
            "jwt_secret must be at least 32 characters".into(),
        ));
    }
    Ok(jwt_secret.as_bytes().to_vec())
}
