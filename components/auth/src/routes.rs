//! The handlers, one function per route: parse, domain, store, respond.

pub mod clerk;
pub mod deletions;
pub mod fees;
pub mod holds;
pub mod session;
pub mod users;

use crate::domain::clerk::ClerkId;
use crate::domain::ledger::LedgerKey;
use crate::domain::user::User;
use crate::errors::AuthError;
use crate::store;
use auth_guard::{Guard, GuardError, TokenIdentity};
use http_kit::{FieldError, RequestContext, RequestError};
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;

/// The signed-in caller. Auth resolves tokens against its own database rather than the
/// projection other components read (it is the projection's source), and provisions a Clerk
/// user seen for the first time in-process instead of chaining to itself.
pub async fn caller(
    req: &Request,
    ctx: &RequestContext,
    db: &Connection,
) -> Result<User, AuthError> {
    let identity = Guard::from_variables()
        .identify(req)?
        .ok_or(GuardError::MissingToken)?;
    let user = match identity {
        TokenIdentity::Own { user_id, issued_at } => store::users::find_live(db, &user_id)?
            .map(|user| match user.accepts_token_issued_at(issued_at) {
                true => Ok(user),
                false => Err(GuardError::InvalidToken("revoked access token".into())),
            })
            .transpose()?,
        TokenIdentity::Clerk { clerk_id } => match ClerkId::parse(&clerk_id) {
            Some(id) => clerk::provision_user(db, &id).await?.map(|(user, _)| user),
            None => None,
        },
    };
    let user = user.ok_or(GuardError::UnknownUser)?;
    ctx.set_user_id(&user.id);
    Ok(user)
}

/// On public routes: an `Authorization` header that is present must still be valid (the
/// contract answers 401 for a bad one on every route).
pub fn reject_invalid_bearer(req: &Request) -> Result<(), AuthError> {
    Guard::from_variables().identify(req)?;
    Ok(())
}

/// The key in the path of a private keyed endpoint (fees, holds), as parsed by `LedgerKey`;
/// 400 when it is not 1 to 200 printable ASCII characters.
pub fn path_key(parsed: Option<LedgerKey>) -> Result<LedgerKey, AuthError> {
    parsed.ok_or_else(|| {
        let error = FieldError::new("key", "key must be 1 to 200 printable ASCII characters");
        AuthError::Request(RequestError::InvalidBody {
            message: error.message.clone(),
            errors: vec![error],
        })
    })
}

/// Adds a `Set-Cookie` header.
fn with_cookie(mut response: Response, cookie: &str) -> Response {
    response.set_header("set-cookie", cookie);
    response
}
