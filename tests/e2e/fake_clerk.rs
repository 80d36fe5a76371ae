//! A local stand-in for Clerk that speaks its wire formats: the Backend API's
//! `GET /v1/users/{id}` on `127.0.0.1:0` (recording every request), RS256 session tokens signed
//! with a key pair generated for the test run, and Svix-signed webhooks.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};

/// The Clerk Backend API secret key the app is configured with.
pub const SECRET_KEY: &str = "sk_test_e2e_backend_key";
/// The Clerk issuer the app expects in session tokens.
pub const ISSUER: &str = "https://clerk.e2e.test";
/// The storefront origin (CORS and Clerk's `azp`).
pub const ORIGIN: &str = "http://localhost:3001";

/// The raw Svix signing key; the app gets it as `whsec_<base64>`.
const WEBHOOK_KEY: &[u8] = b"e2e-svix-signing-key-0123456789";

/// `clerk_webhook_secret` as Clerk shows it in its dashboard.
pub fn webhook_secret() -> String {
    format!("whsec_{}", STANDARD.encode(WEBHOOK_KEY))
}

/// An RSA key pair as PEM (private PKCS#8, public SPKI).
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

fn generate() -> KeyPair {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    KeyPair {
        private_pem: private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PEM")
            .to_string(),
        public_pem: private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM"),
    }
}

/// Clerk's signing key for this test run (its public half is the app's `clerk_jwt_key`).
pub fn clerk_keys() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(generate)
}

/// Another key pair, for tokens Clerk did not sign.
pub fn foreign_keys() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(generate)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Claims of a Clerk session token for `sub`, valid for a minute.
pub fn session_claims(sub: &str) -> Value {
    json!({ "sub": sub, "iss": ISSUER, "azp": ORIGIN, "sid": "sess_e2e",
            "iat": now() - 5, "nbf": now() - 5, "exp": now() + 60 })
}

/// Signs claims with RS256 and the given private key.
pub fn sign_rs256(claims: &Value, keys: &KeyPair) -> String {
    let key = EncodingKey::from_rsa_pem(keys.private_pem.as_bytes()).expect("RSA PEM");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("signing")
}

/// A valid Clerk session token for `sub`.
pub fn session_token(sub: &str) -> String {
    sign_rs256(&session_claims(sub), clerk_keys())
}

/// An unsigned `alg: none` token with the given claims.
pub fn unsigned_token(claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        part(&json!({ "alg": "none", "typ": "JWT" })),
        part(claims)
    )
}

/// An HS256 token "signed" with Clerk's public key as the HMAC secret (the classic
/// algorithm-confusion forgery).
pub fn hs256_with_public_key(claims: &Value) -> String {
    let key = EncodingKey::from_secret(clerk_keys().public_pem.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("signing")
}

/// Clerk's user object, as the Backend API and `user.*` webhooks carry it.
pub fn clerk_user(id: &str, first: &str, last: &str, email: &str) -> Value {
    json!({
        "id": id, "object": "user", "username": null,
        "first_name": first, "last_name": last, "image_url": "https://img.clerk.com/x",
        "primary_email_address_id": format!("idn_{id}"),
        "email_addresses": [{
            "id": format!("idn_{id}"), "object": "email_address", "email_address": email,
            "verification": { "status": "verified", "strategy": "email_code" }, "linked_to": []
        }],
        "created_at": now() * 1000, "updated_at": now() * 1000,
    })
}

/// A webhook as Svix delivers it: the JSON body and its three headers.
pub struct Webhook {
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

/// Signs `body` as delivery `id` sent at `timestamp` (Unix seconds).
pub fn webhook_at(id: &str, timestamp: i64, body: &Value) -> Webhook {
    webhook_signed_with(WEBHOOK_KEY, id, timestamp, body)
}

/// [`webhook_at`] with another raw Svix key (what follows `whsec_`, base64-decoded).
pub fn webhook_signed_with(key: &[u8], id: &str, timestamp: i64, body: &Value) -> Webhook {
    use hmac::Mac as _;
    let body = body.to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let signature = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    Webhook {
        body,
        headers: vec![
            ("svix-id", id.to_owned()),
            ("svix-timestamp", timestamp.to_string()),
            ("svix-signature", signature),
        ],
    }
}

/// A webhook event of `kind` about `data`, signed now.
pub fn webhook(id: &str, kind: &str, data: Value) -> Webhook {
    webhook_at(
        id,
        now(),
        &json!({ "type": kind, "object": "event", "data": data }),
    )
}

/// One request the fake Backend API received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct State {
    users: HashMap<String, Value>,
    requests: Vec<Recorded>,
    /// An outage: every request is answered 503, as Clerk's API answers while it is down.
    down: bool,
}

/// The fake Backend API server; stops when dropped.
pub struct FakeClerk {
    base_url: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeClerk {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            base_url,
            state,
            server,
        }
    }

    /// `clerk_api_base` for the app.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Makes a user known to the Backend API.
    pub fn add_user(&self, user: Value) {
        let id = user["id"].as_str().expect("user id").to_owned();
        self.state.lock().expect("state").users.insert(id, user);
    }

    /// Starts (`true`) or ends an outage of the Backend API.
    pub fn set_down(&self, down: bool) {
        self.state.lock().expect("state").down = down;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("state").requests.clone()
    }
}

impl Drop for FakeClerk {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = state.lock().expect("state");
    state.requests.push(Recorded {
        method: req.method().to_string(),
        path: path.clone(),
        authorization: authorized.clone(),
    });
    let user = path
        .strip_prefix("/v1/users/")
        .and_then(|id| state.users.get(id));
    let (status, body) = if state.down {
        (
            503,
            json!({ "errors": [{ "code": "service_unavailable", "message": "Service unavailable" }] }),
        )
    } else if authorized.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        (
            401,
            json!({ "errors": [{ "code": "authentication_invalid" }] }),
        )
    } else if let Some(user) = user.filter(|_| req.method() == hyper::Method::GET) {
        (200, user.clone())
    } else {
        (404, json!({ "errors": [{ "code": "resource_not_found" }] }))
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response"))
}
