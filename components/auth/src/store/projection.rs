//! Keeps the `identity` key-value projection in step with the users table. Auth is its only
//! writer; every change a guard must see (sign-up, role, name, Clerk link, deletion) calls
//! `publish` or `withdraw` after the database change committed.

use crate::domain::user::User;
use crate::errors::StoreError;
use auth_guard::projection;
use spin_sdk::sqlite3::Connection;

/// How many times [`publish`] writes again because the row changed under it; each round is
/// caused by another request's commit, so more than a few means a storm of changes to one
/// user, whose own writers then settle the record.
const MAX_ROUNDS: usize = 4;

/// Writes the user's record as the users table holds it now (idempotent; also repairs a
/// record lost to a crash between commit and write, because sign-in and provisioning publish
/// again). The key-value store and the database share no transaction, and a request may hold
/// a user it read long before (sign-in hashes for ~35 ms): so every write is followed by a
/// re-read of the row, and a change committed meanwhile — a deletion, a rename — is written
/// (or the record removed) before this returns. Whoever writes last re-reads last, so the
/// projection ends as the table is, and a deleted user is never brought back.
pub fn publish(db: &Connection, user: &User) -> Result<(), StoreError> {
    let store = projection::open()?;
    let mut record = user.identity_record();
    for _ in 0..MAX_ROUNDS {
        projection::put(&store, &record)?;
        match super::users::find_live(db, &user.id)? {
            Some(current) if current.identity_record() == record => return Ok(()),
            Some(current) => record = current.identity_record(),
            None => return projection::remove(&store, &record),
        }
    }
    Ok(())
}

/// Removes a deleted user, so every guard refuses their tokens from now on.
pub fn withdraw(user: &User) -> Result<(), StoreError> {
    projection::remove(&projection::open()?, &user.identity_record())
}
