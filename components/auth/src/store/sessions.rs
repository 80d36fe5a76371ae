//! Refresh-token families (one per sign-in) and their tokens, stored only as digests.

use super::{int, text};
use crate::domain::session::{Presented, StoredRefreshToken, on_presented, token_expiry};
use crate::errors::StoreError;
use spin_sdk::sqlite3::Connection;
use timestamp::Timestamp;

/// Starts a family for a new sign-in with its first token.
pub fn start_family(
    db: &Connection,
    user_id: &str,
    token_digest: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let family = ids::new_id();
    super::transaction(db, |db| {
        db.execute(
            "INSERT INTO token_families (id, user_id, created_at) VALUES (?, ?, ?)",
            &[text(&family), text(user_id), int(now.millis())],
        )?;
        insert_token(db, &family, token_digest, now, now)
    })
}

fn insert_token(
    db: &Connection,
    family: &str,
    digest: &str,
    family_started: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at)
         VALUES (?, ?, ?, ?)",
        &[
            text(digest),
            text(family),
            int(now.millis()),
            int(token_expiry(family_started, now).millis()),
        ],
    )?;
    Ok(())
}

fn find(db: &Connection, digest: &str) -> Result<Option<StoredRefreshToken>, StoreError> {
    let result = db.execute(
        // A family started at or before the user's `tokens_valid_after` is revoked too: a
        // sign-in that read the password before a Clerk takeover committed starts its family
        // after the takeover's `revoke_all`, and must not outlive it.
        "SELECT t.family_id, f.user_id, t.expires_at, t.rotated_at,
                f.created_at AS family_started,
                f.revoked_at IS NOT NULL
                    OR f.created_at <= coalesce(u.tokens_valid_after, -1) AS revoked
         FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
              LEFT JOIN users u ON u.id = f.user_id
         WHERE t.token_hash = ?",
        &[text(digest)],
    )?;
    Ok(result.rows().next().map(|row| StoredRefreshToken {
        family_id: row.get::<&str>("family_id").unwrap_or_default().to_owned(),
        user_id: row.get::<&str>("user_id").unwrap_or_default().to_owned(),
        expires_at: Timestamp::from_millis(row.get::<i64>("expires_at").unwrap_or(0)),
        rotated_at: row.get::<i64>("rotated_at").map(Timestamp::from_millis),
        family_started: Timestamp::from_millis(row.get::<i64>("family_started").unwrap_or(0)),
        family_revoked: row.get::<i64>("revoked") != Some(0),
    }))
}

/// What presenting a refresh token did.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Exchanged for `new_digest`'s token; the user it belongs to.
    Rotated { user_id: String },
    /// A rotated token came back: its family is now revoked.
    ReuseDetected,
    /// Unknown, expired or revoked.
    Rejected,
}

/// Exchanges a refresh token for a new one in one transaction, so two concurrent uses of the
/// same token are serialized: the second sees it rotated, and gets a sibling within the grace
/// window (two tabs) or revokes the family after it (a copy in someone else's hands).
pub fn rotate(
    db: &Connection,
    old_digest: &str,
    new_digest: &str,
    now: Timestamp,
) -> Result<Rotation, StoreError> {
    super::transaction(db, |db| {
        let stored = find(db, old_digest)?;
        match (on_presented(stored.as_ref(), now), stored) {
            (Presented::Rotate, Some(token)) => {
                db.execute(
                    "UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ?",
                    &[int(now.millis()), text(old_digest)],
                )?;
                insert_token(db, &token.family_id, new_digest, token.family_started, now)?;
                Ok(Rotation::Rotated {
                    user_id: token.user_id,
                })
            }
            // The presented token stays rotated; the family gains a second live token.
            (Presented::Sibling, Some(token)) => {
                insert_token(db, &token.family_id, new_digest, token.family_started, now)?;
                Ok(Rotation::Rotated {
                    user_id: token.user_id,
                })
            }
            (Presented::Reused, Some(token)) => {
                revoke_family(db, &token.family_id, now)?;
                Ok(Rotation::ReuseDetected)
            }
            _ => Ok(Rotation::Rejected),
        }
    })
}

fn revoke_family(db: &Connection, family: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE token_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        &[int(now.millis()), text(family)],
    )?;
    Ok(())
}

/// Revokes the family of a presented token if it belongs to `user_id` (sign-out with cookie).
pub fn revoke_family_of(
    db: &Connection,
    digest: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    match find(db, digest)? {
        Some(token) if token.user_id == user_id => revoke_family(db, &token.family_id, now),
        _ => Ok(()),
    }
}

/// Revokes every family of a user (sign-out without cookie, account deletion).
pub fn revoke_all(db: &Connection, user_id: &str, now: Timestamp) -> Result<(), StoreError> {
    db.execute(
        "UPDATE token_families SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        &[int(now.millis()), text(user_id)],
    )?;
    Ok(())
}

/// Deletes every refresh family of a user and its tokens (a completed account deletion; they
/// were revoked when it was requested).
pub fn forget_all(db: &Connection, user_id: &str) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM refresh_tokens WHERE family_id IN
            (SELECT id FROM token_families WHERE user_id = ?)",
        &[text(user_id)],
    )?;
    db.execute(
        "DELETE FROM token_families WHERE user_id = ?",
        &[text(user_id)],
    )?;
    Ok(())
}
