//! Who is calling. Verifies the two bearer tokens the API accepts on every protected route —
//! our own HS256 access tokens and Clerk RS256 session tokens — and resolves the caller's
//! current role from the `identity` key-value projection that the auth component writes.
#![deny(missing_docs)]

mod config;
mod error;
mod principal;
pub mod projection;
mod tokens;

pub use config::GuardConfig;
pub use error::GuardError;
pub use principal::{Guard, Principal, Role};
pub use tokens::{
    ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TTL_SECS, AccessClaims, TokenIdentity, revoked_by,
    sign_access_token, verify_token,
};
