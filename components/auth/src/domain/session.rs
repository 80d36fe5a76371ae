//! Sessions: opaque refresh tokens (stored only as a SHA-256 digest), their cookie, rotation
//! with family-based reuse detection, and the claims of our access tokens.

use crate::domain::user::User;
use auth_guard::{ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TTL_SECS, AccessClaims};
use sha2::{Digest, Sha256};
use timestamp::Timestamp;

/// The cookie carrying the refresh token.
pub const COOKIE_NAME: &str = "refreshToken";
/// The cookie is sent only to the auth routes.
pub const COOKIE_PATH: &str = "/api/v1/auth";
/// How long a refresh token (and its cookie) lives: 7 days. Each rotation starts a new 7 days.
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// A refresh token as the client holds it: 43 URL-safe base64 characters (256 random bits).
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(***)")
    }
}

impl RefreshToken {
    /// A fresh random token.
    pub fn generate() -> Result<Self, ids::RandomUnavailable> {
        ids::new_secret_token().map(Self)
    }

    /// A token presented by a client; anything not shaped like one of ours is no token.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(text.to_owned()))
    }

    /// The `refreshToken` value of a `Cookie` header, if present and well formed.
    pub fn from_cookie_header(header: &str) -> Option<Self> {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE_NAME)
            .and_then(|(_, value)| Self::parse(value.trim().trim_matches('"')))
    }

    /// The digest stored in place of the token: a database leak yields no usable tokens, and
    /// 256 random bits need no slow hash.
    pub fn digest(&self) -> String {
        Sha256::digest(self.0.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The `Set-Cookie` value handing this token to the browser.
    pub fn set_cookie(&self, secure: bool) -> String {
        cookie(&self.0, REFRESH_TTL_SECS, secure)
    }
}

/// The `Set-Cookie` value that removes the refresh cookie.
pub fn clear_cookie(secure: bool) -> String {
    cookie("", 0, secure)
}

fn cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Lax; Path={COOKIE_PATH}; Max-Age={max_age}{secure}"
    )
}

/// When a refresh token issued at `now` expires.
pub fn refresh_expiry(now: Timestamp) -> Timestamp {
    now.plus_millis(REFRESH_TTL_SECS * 1000)
}

/// A stored refresh token, as far as rotation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefreshToken {
    pub family_id: String,
    pub user_id: String,
    pub expires_at: Timestamp,
    /// When the token was exchanged for a new one, if it was.
    pub rotated_at: Option<Timestamp>,
    /// When its family began (the sign-in): families end [`FAMILY_LIFETIME_MILLIS`] after.
    pub family_started: Timestamp,
    /// Set once its family was revoked (sign-out, reuse, account deletion).
    pub family_revoked: bool,
}

/// How long a just-rotated token may still be presented: two tabs of one browser refreshing
/// with the same cookie at the same moment are the storefront's normal behaviour, not theft.
/// Within it the late request gets a sibling token of the same family; after it, presenting a
/// rotated token is reuse and revokes the family. (A thief replaying within these seconds gets
/// a sibling too: the price of not signing users out for opening two tabs.)
pub const REUSE_GRACE_MILLIS: i64 = 5_000;

/// A refresh family's absolute lifetime from its sign-in: rotation does not extend it.
pub const FAMILY_LIFETIME_MILLIS: i64 = 30 * 24 * 60 * 60 * 1000;

/// What presenting a refresh token leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// Valid: exchange it for a new token in the same family.
    Rotate,
    /// Exchanged moments ago (within [`REUSE_GRACE_MILLIS`]): a new token of the same family,
    /// the family kept.
    Sibling,
    /// Exchanged before that: someone holds a copy, so the whole family is revoked.
    Reused,
    /// Unknown, expired or revoked: refused, nothing changes.
    Rejected,
}

/// The rotation rule.
pub fn on_presented(token: Option<&StoredRefreshToken>, now: Timestamp) -> Presented {
    let Some(t) = token else {
        return Presented::Rejected;
    };
    let family_ended = t.family_started.plus_millis(FAMILY_LIFETIME_MILLIS) <= now;
    match t.rotated_at {
        _ if t.family_revoked || family_ended => Presented::Rejected,
        Some(rotated) if now.millis() - rotated.millis() > REUSE_GRACE_MILLIS => Presented::Reused,
        _ if t.expires_at <= now => Presented::Rejected,
        Some(_) => Presented::Sibling,
        None => Presented::Rotate,
    }
}

/// When a token issued at `now` in a family begun at `family_started` expires: its own
/// lifetime, cut at the family's end.
pub fn token_expiry(family_started: Timestamp, now: Timestamp) -> Timestamp {
    let family_end = family_started.plus_millis(FAMILY_LIFETIME_MILLIS);
    let own = refresh_expiry(now);
    if own.millis() < family_end.millis() {
        own
    } else {
        family_end
    }
}

/// The claims of a new access token for `user`.
pub fn access_claims(user: &User, now: Timestamp) -> AccessClaims {
    let iat = now.unix_seconds();
    AccessClaims {
        sub: user.id.clone(),
        role: user.role.as_str().to_owned(),
        email: user
            .email
            .as_ref()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default(),
        jti: ids::new_id(),
        iat,
        exp: iat + ACCESS_TOKEN_TTL_SECS,
        iss: ACCESS_TOKEN_ISSUER.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredRefreshToken {
        StoredRefreshToken {
            family_id: "f".into(),
            user_id: "u".into(),
            expires_at: Timestamp::from_millis(10_000),
            rotated_at: None,
            family_started: Timestamp::from_millis(0),
            family_revoked: false,
        }
    }

    #[test]
    fn a_fresh_token_rotates() {
        assert_eq!(
            on_presented(Some(&stored()), Timestamp::from_millis(0)),
            Presented::Rotate
        );
    }

    #[test]
    fn a_rotated_token_presented_within_the_grace_window_gets_a_sibling_and_later_is_reuse() {
        let t = StoredRefreshToken {
            rotated_at: Some(Timestamp::from_millis(1_000)),
            ..stored()
        };
        let at = |millis| on_presented(Some(&t), Timestamp::from_millis(millis));
        assert_eq!(at(1_000 + REUSE_GRACE_MILLIS), Presented::Sibling);
        assert_eq!(at(1_000 + REUSE_GRACE_MILLIS + 1), Presented::Reused);
    }

    #[test]
    fn a_family_ends_thirty_days_after_its_sign_in_whatever_its_tokens_say() {
        let t = StoredRefreshToken {
            expires_at: Timestamp::from_millis(FAMILY_LIFETIME_MILLIS * 2),
            ..stored()
        };
        let at = |millis| on_presented(Some(&t), Timestamp::from_millis(millis));
        assert_eq!(at(FAMILY_LIFETIME_MILLIS - 1), Presented::Rotate);
        assert_eq!(at(FAMILY_LIFETIME_MILLIS), Presented::Rejected);
        let late = Timestamp::from_millis(FAMILY_LIFETIME_MILLIS - 1_000);
        assert_eq!(
            token_expiry(Timestamp::from_millis(0), late),
            Timestamp::from_millis(FAMILY_LIFETIME_MILLIS)
        );
    }

    #[test]
    fn unknown_expired_and_revoked_tokens_are_rejected() {
        let now = Timestamp::from_millis(0);
        assert_eq!(on_presented(None, now), Presented::Rejected);
        assert_eq!(
            on_presented(Some(&stored()), Timestamp::from_millis(10_000)),
            Presented::Rejected
        );
        let revoked = StoredRefreshToken {
            family_revoked: true,
            rotated_at: Some(now),
            ..stored()
        };
        assert_eq!(on_presented(Some(&revoked), now), Presented::Rejected);
    }

    #[test]
    fn the_cookie_has_the_contract_attributes() {
        let token = RefreshToken::generate().unwrap();
        let cookie = token.set_cookie(true);
        assert!(cookie.starts_with("refreshToken="));
        assert!(
            cookie.ends_with("; HttpOnly; SameSite=Lax; Path=/api/v1/auth; Max-Age=604800; Secure")
        );
        assert!(!token.set_cookie(false).contains("Secure"));
        assert_eq!(
            clear_cookie(false),
            "refreshToken=; HttpOnly; SameSite=Lax; Path=/api/v1/auth; Max-Age=0"
        );
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let token = RefreshToken::generate().unwrap();
        let header = format!("theme=dark; refreshToken={}; other=1", token.0);
        assert_eq!(RefreshToken::from_cookie_header(&header), Some(token));
        assert_eq!(RefreshToken::from_cookie_header("refreshToken=short"), None);
        assert_eq!(RefreshToken::from_cookie_header("theme=dark"), None);
    }

    #[test]
    fn digests_are_stable_hex_and_differ_per_token() {
        let a = RefreshToken::generate().unwrap();
        let b = RefreshToken::generate().unwrap();
        assert_eq!(a.digest(), a.digest());
        assert_eq!(a.digest().len(), 64);
        assert_ne!(a.digest(), b.digest());
    }
}
