//! Sign-up, sign-in, refresh and sign-out.
//!
//! These routes ignore `Idempotency-Key`: a replay would hand out a stored access token
//! without its refresh cookie (and keep bearer tokens in the database for a day), sign-out is
//! idempotent by itself, and a repeated sign-up answers 409 without creating anything.

use super::{caller, reject_invalid_bearer, with_cookie};
use crate::config;
use crate::domain::password::{Password, PasswordDigest, spend_equal_time};
use crate::domain::session::{RefreshToken, access_claims, clear_cookie};
use crate::domain::throttle::ThrottleKey;
use crate::domain::user::{User, UserName};
use crate::errors::AuthError;
use crate::store::{self, sessions::Rotation};
use email::Email;
use http_kit::{RequestContext, json, parse_json};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUpBody {
    name: UserName,
    email: Email,
    password: Password,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    // Plain strings: a malformed email or short password is just a failed sign-in (401),
    // never a hint about which rule an account's credentials follow.
    email: String,
    password: String,
}

/// A new access token for the user.
fn access_token(user: &User, now: Timestamp) -> Result<String, AuthError> {
    let secret = config::jwt_secret()?;
    Ok(auth_guard::sign_access_token(
        &access_claims(user, now),
        secret.as_bytes(),
    )?)
}

/// Starts a session (a new refresh-token family) and answers `{accessToken, user}` with the
/// refresh cookie.
fn start_session(
    db: &Connection,
    user: &User,
    status: u16,
    now: Timestamp,
) -> Result<Response, AuthError> {
    let refresh = RefreshToken::generate()?;
    store::sessions::start_family(db, &user.id, &refresh.digest(), now)?;
    let body = json!({ "accessToken": access_token(user, now)?, "user": user.full_view() });
    Ok(with_cookie(
        json(status, &body),
        &refresh.set_cookie(config::cookie_secure()),
    ))
}

/// POST /api/v1/auth/sign-up
pub async fn sign_up(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    reject_invalid_bearer(&req)?;
    let body: SignUpBody = parse_json(req.body())?;
    let digest = PasswordDigest::hash(body.password.expose())?;
    let db = store::open()?;
    let now = Timestamp::now();
    let user = store::users::insert_password_user(&db, &body.name, &body.email, &digest, now)?
        .ok_or(AuthError::EmailTaken)?;
    store::projection::publish(&db, &user)?;
    ctx.set_user_id(&user.id);
    start_session(&db, &user, 201, now)
}

/// POST /api/v1/auth/sign-in
pub async fn sign_in(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    reject_invalid_bearer(&req)?;
    let body: SignInBody = parse_json(req.body())?;
    let proxies = config::trusted_proxies()?;
    let key = ThrottleKey::new(&body.email, ctx.client_ip_behind(&proxies));
    let db = store::open()?;
    let now = Timestamp::now();
    // Taken before the password is checked: the attempt counts as a failure unless it succeeds.
    store::throttle::take_attempt(&db, &key, now)?
        .map_err(|retry_after_secs| AuthError::TooManyAttempts { retry_after_secs })?;
    let account = match Email::parse(&body.email) {
        Ok(email) => store::users::credentials(&db, &email)?,
        Err(_) => None,
    };
    let user = match account {
        Some((user, digest)) if digest.verify(&body.password) => user,
        Some(_) => return Err(AuthError::InvalidCredentials),
        None => {
            spend_equal_time(&body.password);
            return Err(AuthError::InvalidCredentials);
        }
    };
    store::throttle::clear(&db, &key)?;
    store::projection::publish(&db, &user)?;
    ctx.set_user_id(&user.id);
    start_session(&db, &user, 200, now)
}

fn presented_refresh_token(req: &Request) -> Option<RefreshToken> {
    req.header("cookie")
        .and_then(|v| v.as_str())
        .and_then(RefreshToken::from_cookie_header)
}

/// POST /api/v1/auth/refresh-token
pub async fn refresh(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    reject_invalid_bearer(&req)?;
    let presented = presented_refresh_token(&req).ok_or(AuthError::InvalidRefreshToken)?;
    let next = RefreshToken::generate()?;
    let db = store::open()?;
    let now = Timestamp::now();
    let user_id = match store::sessions::rotate(&db, &presented.digest(), &next.digest(), now)? {
        Rotation::Rotated { user_id } => user_id,
        Rotation::ReuseDetected | Rotation::Rejected => return Err(AuthError::InvalidRefreshToken),
    };
    let user = store::users::find_live(&db, &user_id)?.ok_or(AuthError::InvalidRefreshToken)?;
    ctx.set_user_id(&user.id);
    let body = json!({ "accessToken": access_token(&user, now)? });
    Ok(with_cookie(
        json(200, &body),
        &next.set_cookie(config::cookie_secure()),
    ))
}

/// POST /api/v1/auth/sign-out — idempotent: signing out again answers the same.
pub async fn sign_out(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    let db = store::open()?;
    let user = caller(&req, ctx, &db).await?;
    let now = Timestamp::now();
    match presented_refresh_token(&req) {
        Some(token) => store::sessions::revoke_family_of(&db, &token.digest(), &user.id, now)?,
        None => store::sessions::revoke_all(&db, &user.id, now)?,
    }
    Ok(with_cookie(
        json(200, &json!({})),
        &clear_cookie(config::cookie_secure()),
    ))
}
