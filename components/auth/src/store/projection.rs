//! Keeps the `identity` key-value projection in step with the users table. Auth is its only
//! writer; every change a guard must see (sign-up, role, name, Clerk link, deletion) calls
//! `publish` or `withdraw` after the database change committed.

use crate::domain::user::User;
use crate::errors::StoreError;
use auth_guard::projection;

/// Writes the user's current record (idempotent; also repairs a record lost to a crash
/// between commit and write, because sign-in and provisioning publish again).
pub fn publish(user: &User) -> Result<(), StoreError> {
    projection::put(&projection::open()?, &user.identity_record())
}

/// Removes a deleted user, so every guard refuses their tokens from now on.
pub fn withdraw(user: &User) -> Result<(), StoreError> {
    projection::remove(&projection::open()?, &user.identity_record())
}
