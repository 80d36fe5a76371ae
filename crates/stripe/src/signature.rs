//! Webhook signatures. Stripe signs each delivery with HMAC-SHA256 over `"{t}.{raw body}"`,
//! keyed with the endpoint's whole signing secret (`whsec_...` as it is, not decoded), and
//! sends `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`. Several `v1` entries
//! appear while a secret is being rolled; `v0` entries (a legacy test-mode scheme) and any
//! future scheme are ignored. The timestamp is signed, so checking it bounds replays.

use crate::hex;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Largest accepted distance, either way, between the signed timestamp and now: Stripe's
/// own libraries' default. A delivery older than this may be a replay; one further in the
/// future means a clock is wrong, and accepting it would stretch the replay window.
pub const TOLERANCE_SECS: i64 = 300;

/// The endpoint's signing secret (variable `stripe_webhook_secret`). `Debug` does not show it.
#[derive(Clone)]
pub struct WebhookSecret(String);

/// The signing secret is empty: every delivery would be refused, so it is a setup mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stripe_webhook_secret must not be empty")]
pub struct EmptySecret;

impl WebhookSecret {
    /// The secret as configured. Surrounding whitespace (a newline from a file or a shell) is
    /// dropped; the rest, `whsec_` included, is the HMAC key byte for byte.
    pub fn new(text: &str) -> Result<Self, EmptySecret> {
        match text.trim() {
            "" => Err(EmptySecret),
            secret => Ok(Self(secret.to_owned())),
        }
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Why a delivery is refused. Every variant means "not from Stripe, or not now": the webhook
/// answers 400 and records nothing; the variant is for the log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header, or an empty one.
    #[error("Missing Stripe-Signature header")]
    MissingHeader,
    /// The header is not `t=<unix>,v1=<hex>,...`; says what is wrong.
    #[error("Malformed Stripe-Signature header: {0}")]
    Malformed(&'static str),
    /// A well-formed header with no `v1` entry (only `v0`, say): nothing we can check.
    #[error("Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    /// The signed timestamp is more than [`TOLERANCE_SECS`] from now, either way.
    #[error(
        "Stripe-Signature timestamp {timestamp} is more than {TOLERANCE_SECS} s from now ({now})"
    )]
    OutsideTolerance {
        /// The header's `t`.
        timestamp: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// No `v1` signature is the body's, under this secret.
    #[error("No Stripe-Signature v1 signature matches the body")]
    NoMatch,
}

/// Checks a delivery at `now` (Unix seconds) against the raw body bytes, exactly as received
/// (parsing and re-serialising the JSON first would change them). `header` is the
/// `Stripe-Signature` value, `None` when absent. Every `v1` is tried; each comparison is
/// constant-time (`Mac::verify_slice`), so timing reveals nothing about the expected value.
pub fn verify(
    secret: &WebhookSecret,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = match header.map(str::trim) {
        None | Some("") => return Err(SignatureError::MissingHeader),
        Some(header) => parse_header(header)?,
    };
    if header.signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    if now.abs_diff(header.timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance {
            timestamp: header.timestamp,
            now,
        });
    }
    let mac = secret.mac(header.timestamp, body);
    let matched = header
        .signatures
        .iter()
        .any(|signature| mac.clone().verify_slice(signature).is_ok());
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

/// A `Stripe-Signature` value (`t=<timestamp>,v1=<hex>`) for `body`, as Stripe would send it.
/// For tests and the test suite's fake Stripe only: production code verifies, never signs.
pub fn sign(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    let signature = secret.mac(timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(&signature))
}

/// What a `Stripe-Signature` header says.
struct Header {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

/// Reads `key=value` entries separated by commas, in any order. Strict about what is used:
/// exactly one `t`, all digits; every `v1` non-empty hex. Other keys are skipped.
fn parse_header(text: &str) -> Result<Header, SignatureError> {
    use SignatureError::Malformed;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for entry in text.split(',') {
        let (key, value) = entry
            .trim()
            .split_once('=')
            .ok_or(Malformed("an entry is not key=value"))?;
        match key {
            "t" if timestamp.is_some() => return Err(Malformed("more than one timestamp (t=)")),
            "t" => timestamp = Some(parse_unix_seconds(value)?),
            "v1" => match hex::decode(value) {
                Some(bytes) if !bytes.is_empty() => signatures.push(bytes),
                _ => return Err(Malformed("a v1 signature is not hex")),
            },
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Malformed("no timestamp (t=)"))?;
    Ok(Header {
        timestamp,
        signatures,
    })
}

/// Digits only: `i64::from_str` would also take a sign, which Stripe never sends.
fn parse_unix_seconds(text: &str) -> Result<i64, SignatureError> {
    let malformed = SignatureError::Malformed("the timestamp (t=) is not a number of seconds");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    text.parse().map_err(|_| malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
    /// Computed outside this crate: `printf '%s' '1700000000.{BODY}' |
    /// openssl dgst -sha256 -hmac whsec_test_secret`.
    const OPENSSL_V1: &str = "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990";

    fn secret() -> WebhookSecret {
        WebhookSecret::new(SECRET).unwrap()
    }

    fn check(header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
        verify(&secret(), Some(header), body, now)
    }

    #[test]
    fn an_independently_computed_signature_verifies() {
        assert_eq!(sign(&secret(), T, BODY), format!("t={T},v1={OPENSSL_V1}"));
        assert_eq!(check(&format!("t={T},v1={OPENSSL_V1}"), BODY, T), Ok(()));
    }

    #[test]
    fn the_whole_secret_string_is_the_key_as_the_hmac_crate_computes_it() {
        let body = b"{\"amount\":5000}\n\xff";
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{T}.").as_bytes());
        mac.update(body);
        let expected = hex::encode(&mac.finalize().into_bytes());
        assert_eq!(sign(&secret(), T, body), format!("t={T},v1={expected}"));
        assert_eq!(check(&format!("v1={expected},t={T}"), body, T), Ok(()));
    }

    #[test]
    fn one_right_v1_among_several_is_enough_and_v0_is_ignored() {
        let wrong = "5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd";
        let header = format!("t={T},v1={wrong},v0={wrong},v1={OPENSSL_V1}");
        assert_eq!(check(&header, BODY, T), Ok(()));
        let header = format!(" v0={wrong} , v1={OPENSSL_V1} , t={T} ");
        assert_eq!(check(&header, BODY, T), Ok(()));
    }

    #[test]
    fn upper_case_hex_is_the_same_signature() {
        let header = format!("t={T},v1={}", OPENSSL_V1.to_uppercase());
        assert_eq!(check(&header, BODY, T), Ok(()));
    }

    #[test]
    fn timestamps_more_than_300_seconds_away_either_way_are_rejected() {
        let header = sign(&secret(), T, BODY);
        for now in [T + 301, T - 301] {
            assert_eq!(
                check(&header, BODY, now),
                Err(SignatureError::OutsideTolerance { timestamp: T, now })
            );
        }
        assert_eq!(check(&header, BODY, T + 300), Ok(()));
        assert_eq!(check(&header, BODY, T - 300), Ok(()));
    }

    #[test]
    fn a_timestamp_far_from_now_does_not_overflow() {
        let header = sign(&secret(), i64::MAX, BODY);
        assert!(matches!(
            check(&header, BODY, i64::MIN),
            Err(SignatureError::OutsideTolerance { .. })
        ));
    }

    #[test]
    fn a_body_changed_by_one_byte_is_rejected() {
        let header = sign(&secret(), T, BODY);
        let mut changed = BODY.to_vec();
        changed[2] ^= 1;
        assert_eq!(check(&header, &changed, T), Err(SignatureError::NoMatch));
        assert_eq!(check(&header, &BODY[1..], T), Err(SignatureError::NoMatch));
    }

    #[test]
    fn another_secret_or_a_changed_timestamp_is_rejected() {
        let other = WebhookSecret::new("whsec_other").unwrap();
        assert_eq!(
            verify(&other, Some(&sign(&secret(), T, BODY)), BODY, T),
            Err(SignatureError::NoMatch)
        );
        let moved = format!("t={},v1={OPENSSL_V1}", T + 1);
        assert_eq!(check(&moved, BODY, T), Err(SignatureError::NoMatch));
    }

    #[test]
    fn a_missing_or_blank_header_is_missing() {
        assert_eq!(
            verify(&secret(), None, BODY, T),
            Err(SignatureError::MissingHeader)
        );
        for blank in ["", "  "] {
            assert_eq!(check(blank, BODY, T), Err(SignatureError::MissingHeader));
        }
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let v1 = format!("v1={OPENSSL_V1}");
        let cases = [
            (v1.clone(), "no timestamp (t=)"),
            (
                format!("t=soon,{v1}"),
                "the timestamp (t=) is not a number of seconds",
            ),
            (
                format!("t=,{v1}"),
                "the timestamp (t=) is not a number of seconds",
            ),
            (
                format!("t=-5,{v1}"),
                "the timestamp (t=) is not a number of seconds",
            ),
            (
                format!("t=99999999999999999999,{v1}"),
                "the timestamp (t=) is not a number of seconds",
            ),
            (format!("t={T},t={T},{v1}"), "more than one timestamp (t=)"),
            (format!("t={T},v1=abc"), "a v1 signature is not hex"),
            (format!("t={T},v1=zz"), "a v1 signature is not hex"),
            (format!("t={T},v1="), "a v1 signature is not hex"),
            (
                format!("t={T};{v1}"),
                "the timestamp (t=) is not a number of seconds",
            ),
            (format!("t={T},{OPENSSL_V1}"), "an entry is not key=value"),
            (format!("t={T},{v1},"), "an entry is not key=value"),
            ("garbage".to_owned(), "an entry is not key=value"),
        ];
        for (header, reason) in cases {
            assert_eq!(
                check(&header, BODY, T),
                Err(SignatureError::Malformed(reason)),
                "{header}"
            );
        }
    }

    #[test]
    fn a_header_without_v1_has_nothing_to_check() {
        assert_eq!(
            check(&format!("t={T}"), BODY, T),
            Err(SignatureError::NoV1Signature)
        );
        let only_v0 = format!("t={T},v0={OPENSSL_V1}");
        assert_eq!(check(&only_v0, BODY, T), Err(SignatureError::NoV1Signature));
    }

    #[test]
    fn an_empty_secret_is_refused_and_debug_hides_the_secret() {
        assert_eq!(WebhookSecret::new(" \n").unwrap_err(), EmptySecret);
        assert!(!format!("{:?}", secret()).contains("test_secret"));
        let padded = WebhookSecret::new(&format!("{SECRET}\n")).unwrap();
        assert_eq!(sign(&padded, T, BODY), sign(&secret(), T, BODY));
    }
}
