//! The user routes: look-ups, role changes, renames and account deletion.

use super::caller;
use crate::domain::user::{ADMIN_UPGRADE_PRICE, RequestedRole, User, UserName};
use crate::errors::AuthError;
use crate::store::deletions::DeletionSource;
use crate::store::users::RoleOutcome;
use crate::store::{self, DATABASE};
use http_kit::{RequestContext, json, parse_json};
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: RequestedRole,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    name: UserName,
}

/// GET /api/v1/auth/users/:id — `me`, the caller's id or Clerk id: the full record; another
/// user's id or Clerk id: the public record.
pub async fn get_user(
    req: Request,
    ctx: &RequestContext,
    reference: &str,
) -> Result<Response, AuthError> {
    let db = store::open()?;
    let me = caller(&req, ctx, &db).await?;
    if me.is_named_by(reference) {
        return Ok(json(200, &me.full_view()));
    }
    let other = store::users::find_by_reference(&db, reference)?
        .ok_or_else(|| AuthError::UserNotFound(reference.to_owned()))?;
    Ok(json(200, &other.public_view()))
}

/// GET /api/v1/auth/find-all — public records of every user, the ANONYMOUS one included.
/// `POST /internal/v1/anonymous` (service chaining only; no public route leads here): the
/// ANONYMOUS system user's id, created on first need. `products` re-assigns ordered products
/// to it on delete.
pub async fn anonymous() -> Result<Response, AuthError> {
    let db = store::open()?;
    let anonymous = store::users::ensure_anonymous(&db, Timestamp::now())?;
    store::projection::publish(&db, &anonymous)?;
    Ok(json(200, &json!({ "id": anonymous.id })))
}

pub async fn find_all(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    let db = store::open()?;
    caller(&req, ctx, &db).await?;
    let anonymous = store::users::ensure_anonymous(&db, Timestamp::now())?;
    store::projection::publish(&db, &anonymous)?;
    let users = store::users::list_live(&db)?;
    let views: Vec<_> = users.iter().map(|u| u.public_view()).collect();
    Ok(json(200, &views))
}

/// POST /api/v1/auth/update-user-role — NADMIN→ADMIN costs the upgrade price once.
pub async fn update_role(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    let db = store::open()?;
    let me = caller(&req, ctx, &db).await?;
    let caller_id = me.id.clone();
    idempotency::run_once(DATABASE, req, &caller_id, |req| async move {
        let body: RoleBody = parse_json(req.body())?;
        match store::users::change_role(&db, &me.id, body.role, Timestamp::now())? {
            RoleOutcome::Done(user) => {
                store::projection::publish(&db, &user)?;
                Ok(json(200, &user.full_view()))
            }
            RoleOutcome::InsufficientBalance => Err(AuthError::InsufficientBalanceForUpgrade(
                ADMIN_UPGRADE_PRICE,
            )),
            RoleOutcome::NotFound => Err(AuthError::UserNotFound(me.id.clone())),
        }
    })
    .await
}

/// PATCH /api/v1/auth/users/me
pub async fn rename_me(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    let db = store::open()?;
    let me = caller(&req, ctx, &db).await?;
    let caller_id = me.id.clone();
    idempotency::run_once(DATABASE, req, &caller_id, |req| async move {
        let body: RenameBody = parse_json(req.body())?;
        let user = store::users::rename(&db, &me.id, &body.name, Timestamp::now())?
            .ok_or_else(|| AuthError::UserNotFound(me.id.clone()))?;
        store::projection::publish(&db, &user)?;
        Ok(json(200, &user.full_view()))
    })
    .await
}

/// DELETE /api/v1/auth/users/me — 202: the account is marked deleted and the cross-domain
/// deletion requested (see [`account_deleted`]); the events component completes it.
pub async fn delete_me(req: Request, ctx: &RequestContext) -> Result<Response, AuthError> {
    let db = store::open()?;
    let me = caller(&req, ctx, &db).await?;
    let caller_id = me.id.clone();
    idempotency::run_once(DATABASE, req, &caller_id, |_req| async move {
        delete_account(&db, &me.id, DeletionSource::User)?;
        Ok(json(202, &json!({ "status": "deleting" })))
    })
    .await
}

/// Marks the account deleted (sessions revoked, the request and its `account.deleted` event
/// recorded, in one transaction) and finishes with [`account_deleted`]. Idempotent.
fn delete_account(db: &Connection, user_id: &str, source: DeletionSource) -> Result<(), AuthError> {
    let now = Timestamp::now();
    let deleted = store::transaction(db, |db| {
        store::users::mark_deleted(db, user_id, source, now)
    })?;
    match deleted {
        Some(user) => account_deleted(db, &user),
        None => Ok(()),
    }
}

/// After a deletion committed: the projection is withdrawn so every guard refuses the user,
/// and `account.deleted` goes to the events channel, whose `events` component clears the
/// carts, removes the products and completes the deletion (api-contract §7). The publish is
/// best effort: an event Redis did not take waits in the outbox, and the re-drive
/// (`routes::deletions`) sends a pending deletion again.
pub fn account_deleted(db: &Connection, user: &User) -> Result<(), AuthError> {
    let withdrawn = store::projection::withdraw(user);
    // The event goes out whether or not the withdrawal failed (a 500 then, for the client to
    // retry); completing the deletion withdraws again.
    outbox::relay(db);
    Ok(withdrawn?)
}
