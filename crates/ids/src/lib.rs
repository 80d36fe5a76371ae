//! New identifiers. Ids are opaque strings on the wire; new ones are UUIDv7, which sort by
//! creation time (so "newest first" and index locality come for free) and need no counter.
//! Secret tokens and random bytes come from the same secure source.
#![deny(missing_docs)]

/// A fresh, globally unique id such as `0193b2f4-6a1c-7c3e-9d2b-5f0e4a1b2c3d`.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `N` bytes from the platform's secure random source (WASI `random` inside a component): salts,
/// keys. Fails only if the platform has no usable source, which a component cannot recover from.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomUnavailable> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| RandomUnavailable(e.to_string()))?;
    Ok(bytes)
}

/// A fresh opaque secret (refresh tokens, one-time links): 256 random bits as 43 URL-safe
/// base64 characters, so it can sit in a cookie or a URL without escaping.
pub fn new_secret_token() -> Result<String, RandomUnavailable> {
    use base64::Engine as _;
    let bytes = random_bytes::<32>()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The platform offered no secure random bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secure random source unavailable: {0}")]
pub struct RandomUnavailable(String);

/// True when `text` has the shape of an id this system issued (any UUID, any case).
pub fn looks_like_id(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_unique_and_time_ordered() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.first() <= ids.last());
    }

    #[test]
    fn secret_tokens_are_long_url_safe_and_unique() {
        let a = new_secret_token().unwrap();
        let b = new_secret_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }

    #[test]
    fn issued_ids_are_recognised_and_junk_is_not() {
        assert!(looks_like_id(&new_id()));
        assert!(!looks_like_id("42"));
        assert!(!looks_like_id("not-an-id"));
    }
}
