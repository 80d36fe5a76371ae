//! The `users` table.

use super::deletions::DeletionSource;
use super::{int, opt_text, text};
use crate::domain::clerk::ClerkProfile;
use crate::domain::password::PasswordDigest;
use crate::domain::user::{
    ADMIN_UPGRADE_PRICE, ANONYMOUS_NAME, RequestedRole, RoleChange, STARTING_BALANCE, User,
    UserName, role_change, role_from_str,
};
use crate::errors::StoreError;
use auth_guard::Role;
use email::Email;
use money::Money;
use spin_sdk::sqlite3::{Connection, Row, Value};
use timestamp::Timestamp;

const COLUMNS: &str = "id, name, email, clerk_id, role, balance, sales_count, purchases_count, \
                       amount_gained, amount_spent, created_at, updated_at, tokens_valid_after";

fn decode(row: &Row<'_>) -> Result<User, StoreError> {
    let bad = |what: &str| StoreError(format!("users row has a bad {what}"));
    let text_col = |name: &str| row.get::<&str>(name).ok_or_else(|| bad(name));
    let int_col = |name: &str| row.get::<i64>(name).ok_or_else(|| bad(name));
    Ok(User {
        id: text_col("id")?.to_owned(),
        name: UserName::lenient(text_col("name")?, ANONYMOUS_NAME),
        email: row.get::<&str>("email").and_then(|e| Email::parse(e).ok()),
        clerk_id: row.get::<&str>("clerk_id").map(str::to_owned),
        role: role_from_str(text_col("role")?).ok_or_else(|| bad("role"))?,
        balance: Money::from_cents(int_col("balance")?),
        sales_count: int_col("sales_count")?,
        purchases_count: int_col("purchases_count")?,
        amount_gained: Money::from_cents(int_col("amount_gained")?),
        amount_spent: Money::from_cents(int_col("amount_spent")?),
        created_at: Timestamp::from_millis(int_col("created_at")?),
        updated_at: Timestamp::from_millis(int_col("updated_at")?),
        tokens_valid_after: row
            .get::<i64>("tokens_valid_after")
            .map(Timestamp::from_millis),
    })
}

fn one(db: &Connection, sql: &str, params: &[Value]) -> Result<Option<User>, StoreError> {
    let result = db.execute(sql, params)?;
    result.rows().next().map(|row| decode(&row)).transpose()
}

/// A live (not deleted) user by id.
pub fn find_live(db: &Connection, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ? AND deleted_at IS NULL");
    one(db, &sql, &[text(id)])
}

/// A live user by id or Clerk id (`users/:id` accepts both).
pub fn find_by_reference(db: &Connection, reference: &str) -> Result<Option<User>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE (id = ? OR clerk_id = ?) AND deleted_at IS NULL"
    );
    one(db, &sql, &[text(reference), text(reference)])
}

/// What the database knows about a Clerk id.
#[derive(Debug)]
pub enum ClerkLookup {
    Live(User),
    /// The account was deleted: the Clerk id stays dead (never re-provisioned).
    Deleted,
    Unknown,
}

/// The user linked to a Clerk id.
pub fn find_by_clerk_id(db: &Connection, clerk_id: &str) -> Result<ClerkLookup, StoreError> {
    let sql = format!("SELECT {COLUMNS}, deleted_at FROM users WHERE clerk_id = ?");
    let result = db.execute(&sql, &[text(clerk_id)])?;
    let Some(row) = result.rows().next() else {
        return Ok(ClerkLookup::Unknown);
    };
    if row.get::<i64>("deleted_at").is_some() {
        return Ok(ClerkLookup::Deleted);
    }
    decode(&row).map(ClerkLookup::Live)
}

/// Every live user, oldest first.
pub fn list_live(db: &Connection) -> Result<Vec<User>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE deleted_at IS NULL ORDER BY created_at, id");
    let result = db.execute(&sql, &[])?;
    result.rows().map(|row| decode(&row)).collect()
}

/// A live password account by email, with its digest.
pub fn credentials(
    db: &Connection,
    email: &Email,
) -> Result<Option<(User, PasswordDigest)>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, password_hash FROM users
         WHERE email = ? AND deleted_at IS NULL AND password_hash IS NOT NULL"
    );
    let result = db.execute(&sql, &[text(email.as_str())])?;
    let Some(row) = result.rows().next() else {
        return Ok(None);
    };
    let digest = row
        .get::<&str>("password_hash")
        .unwrap_or_default()
        .to_owned();
    Ok(Some((decode(&row)?, PasswordDigest::from_stored(digest))))
}

/// A row to insert: who the user is and how they sign in.
struct NewRow<'a> {
    name: &'a UserName,
    email: Option<&'a Email>,
    digest: Option<&'a PasswordDigest>,
    clerk: Option<&'a ClerkProfile>,
    role: Role,
    balance: Money,
}

/// Inserts a user; `None` when a unique constraint (live email, Clerk id, the one ANONYMOUS
/// user) already holds.
fn insert(db: &Connection, row: NewRow<'_>, now: Timestamp) -> Result<Option<String>, StoreError> {
    let id = ids::new_id();
    db.execute(
        "INSERT INTO users (id, name, email, password_hash, clerk_id, clerk_updated_at, role,
            balance, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING",
        &[
            text(&id),
            text(row.name.as_str()),
            opt_text(row.email.map(Email::as_str)),
            opt_text(row.digest.map(PasswordDigest::as_str)),
            opt_text(row.clerk.map(|c| c.clerk_id.as_str())),
            int(row.clerk.map_or(0, |c| c.updated_at)),
            text(row.role.as_str()),
            int(row.balance.cents()),
            int(now.millis()),
            int(now.millis()),
        ],
    )?;
    Ok((db.changes() == 1).then_some(id))
}

/// Creates a password account; `None` when a live account already has the email.
pub fn insert_password_user(
    db: &Connection,
    name: &UserName,
    email: &Email,
    digest: &PasswordDigest,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let row = NewRow {
        name,
        email: Some(email),
        digest: Some(digest),
        clerk: None,
        role: Role::Nadmin,
        balance: STARTING_BALANCE,
    };
    let inserted = insert(db, row, now)?;
    match inserted {
        Some(id) => find_live(db, &id),
        None => Ok(None),
    }
}

/// The ANONYMOUS system user, created on first need (one at most: a unique index on the role).
pub fn ensure_anonymous(db: &Connection, now: Timestamp) -> Result<User, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE role = 'ANONYMOUS'");
    if let Some(user) = one(db, &sql, &[])? {
        return Ok(user);
    }
    let name = UserName::lenient(ANONYMOUS_NAME, ANONYMOUS_NAME);
    let row = NewRow {
        name: &name,
        email: None,
        digest: None,
        clerk: None,
        role: Role::Anonymous,
        balance: Money::ZERO,
    };
    insert(db, row, now)?;
    one(db, &sql, &[])?.ok_or_else(|| StoreError("the ANONYMOUS user vanished".into()))
}

/// Renames a live user.
pub fn rename(
    db: &Connection,
    id: &str,
    name: &UserName,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    db.execute(
        "UPDATE users SET name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        &[text(name.as_str()), int(now.millis()), text(id)],
    )?;
    find_live(db, id)
}

/// The outcome of `update-user-role`.
#[derive(Debug)]
pub enum RoleOutcome {
    Done(User),
    InsufficientBalance,
    NotFound,
}

/// Applies the role rule in one transaction (read the balance, charge, switch).
pub fn change_role(
    db: &Connection,
    id: &str,
    requested: RequestedRole,
    now: Timestamp,
) -> Result<RoleOutcome, StoreError> {
    super::transaction(db, |db| {
        let Some(user) = find_live(db, id)? else {
            return Ok(RoleOutcome::NotFound);
        };
        let (role, charge) = match role_change(user.role, user.balance, requested) {
            RoleChange::Unchanged => return Ok(RoleOutcome::Done(user)),
            RoleChange::InsufficientBalance => return Ok(RoleOutcome::InsufficientBalance),
            RoleChange::PaidUpgrade => (Role::Admin, ADMIN_UPGRADE_PRICE),
            RoleChange::Downgrade => (Role::Nadmin, Money::ZERO),
        };
        db.execute(
            "UPDATE users SET role = ?, balance = balance - ?, amount_spent = amount_spent + ?,
                updated_at = ?
             WHERE id = ?",
            &[
                text(role.as_str()),
                int(charge.cents()),
                int(charge.cents()),
                int(now.millis()),
                text(id),
            ],
        )?;
        Ok(find_live(db, id)?.map_or(RoleOutcome::NotFound, RoleOutcome::Done))
    })
}

fn live_email_owner(db: &Connection, email: &Email) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ? AND deleted_at IS NULL");
    one(db, &sql, &[text(email.as_str())])
}

/// The outcome of creating or updating a user from Clerk.
#[derive(Debug)]
pub enum ClerkUpsert {
    Created(User),
    Existing(User),
    /// The Clerk id belongs to a deleted account.
    Deleted,
}

/// Insert-or-get for a Clerk user, to run inside a transaction. An existing user is returned
/// unchanged unless `update` is set and the profile is newer than the last one applied.
/// A new Clerk user whose verified primary email belongs to a password account without a
/// Clerk link is linked to it (same person, same balance); an email taken otherwise is not
/// stored on the new user.
pub fn upsert_clerk_user(
    db: &Connection,
    profile: &ClerkProfile,
    update: bool,
    now: Timestamp,
) -> Result<ClerkUpsert, StoreError> {
    let clerk_id = profile.clerk_id.as_str();
    match find_by_clerk_id(db, clerk_id)? {
        ClerkLookup::Deleted => return Ok(ClerkUpsert::Deleted),
        ClerkLookup::Live(user) if !update => return Ok(ClerkUpsert::Existing(user)),
        ClerkLookup::Live(user) => {
            let email = match &profile.email {
                Some(e) => match live_email_owner(db, e)? {
                    Some(owner) if owner.id != user.id => user.email.clone(),
                    _ => Some(e.clone()),
                },
                None => user.email.clone(),
            };
            db.execute(
                "UPDATE users SET name = ?, email = ?, clerk_updated_at = ?, updated_at = ?
                 WHERE id = ? AND clerk_updated_at < ?",
                &[
                    text(profile.name.as_str()),
                    opt_text(email.as_ref().map(Email::as_str)),
                    int(profile.updated_at),
                    int(now.millis()),
                    text(&user.id),
                    int(profile.updated_at),
                ],
            )?;
            return Ok(ClerkUpsert::Existing(
                find_live(db, &user.id)?.unwrap_or(user),
            ));
        }
        ClerkLookup::Unknown => {}
    }
    let mut email = profile.email.as_ref();
    if let Some(e) = email
        && let Some(owner) = live_email_owner(db, e)?
    {
        if owner.clerk_id.is_none() && profile.email_verified {
            take_over_password_account(db, &owner, profile, now)?;
            return Ok(ClerkUpsert::Existing(
                find_live(db, &owner.id)?.unwrap_or(owner),
            ));
        }
        email = None;
    }
    let row = NewRow {
        name: &profile.name,
        email,
        digest: None,
        clerk: Some(profile),
        role: Role::Nadmin,
        balance: STARTING_BALANCE,
    };
    let id = insert(db, row, now)?
        .ok_or_else(|| StoreError(format!("inserting Clerk user {clerk_id} conflicted")))?;
    let user = find_live(db, &id)?.ok_or_else(|| StoreError("new user vanished".into()))?;
    Ok(ClerkUpsert::Created(user))
}

/// Links a Clerk identity whose verified email is a password account's. Nothing proved that
/// the account's creator owned the email (sign-up sends no mail), so whoever signed up may be
/// someone else who knows the password: the password is disabled, every refresh family is
/// revoked and access tokens issued until now are refused (`tokens_valid_after`), all in the
/// caller's transaction. The account, its balance and its data go on, reached through Clerk.
fn take_over_password_account(
    db: &Connection,
    owner: &User,
    profile: &ClerkProfile,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE users SET clerk_id = ?, clerk_updated_at = ?, password_hash = NULL,
            tokens_valid_after = ?, updated_at = ?
         WHERE id = ?",
        &[
            text(profile.clerk_id.as_str()),
            int(profile.updated_at),
            int(now.millis()),
            int(now.millis()),
            text(&owner.id),
        ],
    )?;
    super::sessions::revoke_all(db, &owner.id, now)?;
    // An operator can tell a takeover of a pre-registered email from an ordinary sign-in;
    // ids only, no email.
    eprintln!(
        "auth: Clerk user {} linked to password account {}: password disabled, sessions revoked",
        profile.clerk_id.as_str(),
        owner.id
    );
    Ok(())
}

/// Marks a user deleted and records the deletion request with its `account.deleted` event
/// (`deletions::request`), to run inside a transaction. Returns the user as they were, or
/// `None` if there was no live user.
pub fn mark_deleted(
    db: &Connection,
    id: &str,
    source: DeletionSource,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let Some(user) = find_live(db, id)? else {
        return Ok(None);
    };
    db.execute(
        "UPDATE users SET deleted_at = ?, updated_at = ? WHERE id = ?",
        &[int(now.millis()), int(now.millis()), text(id)],
    )?;
    super::deletions::request(db, id, source, now)?;
    super::sessions::revoke_all(db, id, now)?;
    Ok(Some(user))
}

/// The name a deleted user's row keeps once their deletion completed.
const ERASED_NAME: &str = "Deleted user";

/// Erases what identified a deleted user (name, email, password), keeping the row as a
/// tombstone: its id and Clerk id stay (inside a transaction). Returns the user as they were;
/// `None` when no deleted user has this id.
pub fn erase_deleted(
    db: &Connection,
    id: &str,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ? AND deleted_at IS NOT NULL");
    let Some(user) = one(db, &sql, &[text(id)])? else {
        return Ok(None);
    };
    db.execute(
        "UPDATE users SET name = ?, email = NULL, password_hash = NULL, updated_at = ?
         WHERE id = ?",
        &[text(ERASED_NAME), int(now.millis()), text(id)],
    )?;
    Ok(Some(user))
}

/// The current balance of a live user.
pub fn balance(db: &Connection, id: &str) -> Result<Option<Money>, StoreError> {
    Ok(find_live(db, id)?.map(|u| u.balance))
}

/// Adds a movement's deltas to a user's money and counters (inside the ledger transaction).
pub fn add_movement(
    db: &Connection,
    movement: &crate::domain::ledger::Movement,
    now: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE users SET balance = balance + ?, amount_spent = amount_spent + ?,
            amount_gained = amount_gained + ?, sales_count = sales_count + ?,
            purchases_count = purchases_count + ?, updated_at = ?
         WHERE id = ?",
        &[
            int(movement.balance.cents()),
            int(movement.amount_spent.cents()),
            int(movement.amount_gained.cents()),
            int(movement.sales_count),
            int(movement.purchases_count),
            int(now.millis()),
            text(&movement.user_id),
        ],
    )?;
    Ok(())
}
