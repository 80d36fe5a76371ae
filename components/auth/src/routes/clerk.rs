//! Clerk: the Svix-signed webhook, and provisioning of Clerk users seen for the first time
//! (by this component's own guard, or by other components' guards through the private
//! chained endpoint).

use super::users::account_deleted;
use crate::clerk_api;
use crate::config;
use crate::domain::clerk::{ClerkEvent, ClerkId};
use crate::domain::svix::{self, SignatureError, SvixHeaders};
use crate::domain::user::User;
use crate::errors::AuthError;
use crate::store::deletions::DeletionSource;
use crate::store::users::{ClerkLookup, ClerkUpsert};
use crate::store::{self};
use http_kit::json;
use serde_json::json;
use spin_sdk::http::{Request, Response};
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// The Clerk user for `clerk_id`, created from the Clerk Backend API on first sight;
/// `None` when Clerk does not know the id or the account was deleted. The boolean says
/// whether it was created now. Insert-or-get under the database lock with a unique Clerk id,
/// so concurrent first requests end with one user.
pub async fn provision_user(
    db: &Connection,
    clerk_id: &ClerkId,
) -> Result<Option<(User, bool)>, AuthError> {
    match store::users::find_by_clerk_id(db, clerk_id.as_str())? {
        ClerkLookup::Live(user) => return Ok(Some((user, false))),
        ClerkLookup::Deleted => return Ok(None),
        ClerkLookup::Unknown => {}
    }
    let Some(profile) = clerk_api::fetch_user(clerk_id).await? else {
        return Ok(None);
    };
    let now = Timestamp::now();
    let outcome = store::transaction(db, |db| {
        store::users::upsert_clerk_user(db, &profile, false, now)
    })?;
    let (user, created) = match outcome {
        ClerkUpsert::Created(user) => (user, true),
        ClerkUpsert::Existing(user) => (user, false),
        ClerkUpsert::Deleted => return Ok(None),
    };
    store::projection::publish(db, &user)?;
    Ok(Some((user, created)))
}

/// POST /internal/v1/clerk-users/{clerkId} (chained only: no public route leads here) —
/// what `auth-guard` calls for an unknown Clerk user: 201 created, 200 known, 404 unknown to
/// Clerk, with the projection record as the body.
pub async fn provision(clerk_id: &str) -> Result<Response, AuthError> {
    let not_found = || AuthError::ClerkUserNotFound(clerk_id.to_owned());
    let id = ClerkId::parse(clerk_id).ok_or_else(not_found)?;
    let db = store::open()?;
    let (user, created) = provision_user(&db, &id).await?.ok_or_else(not_found)?;
    // Publish again for a known user: the caller missed the projection, so repair it.
    store::projection::publish(&db, &user)?;
    Ok(json(
        if created { 201 } else { 200 },
        &user.identity_record(),
    ))
}

fn svix_headers(req: &Request) -> Result<SvixHeaders, SignatureError> {
    let header = |name: &str| {
        req.header(name)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or(SignatureError::MissingHeaders)
    };
    Ok(SvixHeaders {
        id: header("svix-id")?,
        timestamp: header("svix-timestamp")?,
        signature: header("svix-signature")?,
    })
}

/// POST /api/v1/webhooks/clerk — verified, then applied once per `svix-id`.
pub async fn webhook(req: Request) -> Result<Response, AuthError> {
    let headers = svix_headers(&req)?;
    let secret = config::clerk_webhook_secret()?;
    let now = Timestamp::now();
    svix::verify(&secret, &headers, req.body(), now.unix_seconds())?;
    let event = ClerkEvent::from_body(req.body())?;
    let db = store::open()?;
    let kind = match &event {
        ClerkEvent::Upsert(_) => "user.upsert",
        ClerkEvent::Deleted(_) => "user.deleted",
        ClerkEvent::Ignored => "ignored",
    };
    // The delivery is recorded in the same transaction as its effect: a redelivery finds it
    // and does nothing, and a failure leaves neither behind (Svix retries).
    let effect = store::transaction(&db, |db| {
        if !store::clerk::record_delivery(db, &headers.id, kind, now)? {
            return Ok::<_, AuthError>(Effect::None);
        }
        Ok(match &event {
            ClerkEvent::Upsert(profile) => {
                match store::users::upsert_clerk_user(db, profile, true, now)? {
                    ClerkUpsert::Created(user) | ClerkUpsert::Existing(user) => {
                        Effect::Publish(user)
                    }
                    ClerkUpsert::Deleted => Effect::None,
                }
            }
            ClerkEvent::Deleted(clerk_id) => {
                match store::users::find_by_clerk_id(db, clerk_id.as_str())? {
                    ClerkLookup::Live(user) => {
                        match store::users::mark_deleted(db, &user.id, DeletionSource::Clerk, now)?
                        {
                            Some(user) => Effect::Deleted(user),
                            None => Effect::None,
                        }
                    }
                    ClerkLookup::Deleted | ClerkLookup::Unknown => Effect::None,
                }
            }
            ClerkEvent::Ignored => Effect::None,
        })
    })?;
    match effect {
        Effect::Publish(user) => store::projection::publish(&db, &user)?,
        Effect::Deleted(user) => account_deleted(&db, &user)?,
        Effect::None => {}
    }
    Ok(json(200, &json!({ "received": true })))
}

/// What a webhook delivery leaves to do after its transaction.
enum Effect {
    None,
    Publish(User),
    Deleted(User),
}
