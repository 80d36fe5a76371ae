//! Passwords: the accepted shape, and Argon2id hashing in PHC form (`$argon2id$v=19$m=...`).
//!
//! The parameters are one of OWASP's equivalent Argon2id settings (m = 7 MiB, t = 5, p = 1),
//! picked because it is the cheapest of them inside the component: a fresh instance per request
//! pays for every page of memory it touches, so less memory with more passes wins. Measured at
//! a median of ~35–38 ms per hash in wasm on the reference machine (19 MiB/t=2 cost ~54 ms, over
//! the 50 ms budget); `cargo run -p benches --bin auth-bench` measures it. Parameters are stored in each
//! hash, so changing them later only affects new hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Argon2id memory cost in KiB.
pub const MEMORY_KIB: u32 = 7 * 1024;
/// Argon2id passes over memory.
pub const ITERATIONS: u32 = 5;
/// Lanes: 1, because a component runs on one thread.
pub const LANES: u32 = 1;

/// A new password: 8–128 characters. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a string is not an acceptable password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be between {min} and {max} characters", min = Password::MIN_CHARS, max = Password::MAX_CHARS)]
pub struct PasswordError;

impl Password {
    /// Shortest password accepted, in characters.
    pub const MIN_CHARS: usize = 8;
    /// Longest password accepted, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks the length (passwords are not trimmed: spaces are characters too).
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&input.chars().count()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(PasswordError)
        }
    }

    /// The password as text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl<'de> Deserialize<'de> for Password {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A stored password hash in PHC string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordDigest(String);

/// Hashing failed (bad parameters or no random salt): a server fault.
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashingError(String);

fn hasher() -> Result<Argon2<'static>, HashingError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| HashingError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl PasswordDigest {
    /// A digest read back from the database.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string to store.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Hashes `password` with a fresh random salt.
    pub fn hash(password: &str) -> Result<Self, HashingError> {
        let salt_bytes = ids::random_bytes::<16>().map_err(|e| HashingError(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashingError(e.to_string()))?;
        let phc = hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| HashingError(e.to_string()))?;
        Ok(Self(phc.to_string()))
    }

    /// Whether `password` matches. A digest that does not parse matches nothing.
    pub fn verify(&self, password: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(&self.0) else {
            return false;
        };
        // The parameters come from the stored hash; `hasher()` only supplies the algorithm.
        hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
    }
}

/// Spends the same work as checking a password, for sign-ins whose email matches no account:
/// the answer then takes as long as for a wrong password, so timing does not reveal which
/// emails have accounts.
pub fn spend_equal_time(password: &str) {
    let _ = PasswordDigest::hash(password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_8_to_128_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(128)).is_ok());
        assert!(Password::parse(&"p".repeat(129)).is_err());
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let p = Password::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let digest = PasswordDigest::hash("correct horse").unwrap();
        let prefix = format!("$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}$");
        assert!(digest.as_str().starts_with(&prefix), "{}", digest.as_str());
        assert!(digest.verify("correct horse"));
        assert!(!digest.verify("wrong horse"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(
            PasswordDigest::hash("pw123456").unwrap(),
            PasswordDigest::hash("pw123456").unwrap()
        );
    }

    #[test]
    fn a_corrupt_stored_digest_matches_nothing() {
        assert!(!PasswordDigest::from_stored("garbage".into()).verify("garbage"));
    }
}
