//! The versioned schema. A migration is a list of single statements (Spin runs one per
//! `execute`); applied versions are recorded in `schema_version`, so each runs once.

/// Every schema version in order. Append; never edit a released one.
pub const MIGRATIONS: &[sqlite_store::Migration] = &[
    (
        1,
        &[
            "CREATE TABLE users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT,
            password_hash TEXT,
            clerk_id TEXT UNIQUE,
            clerk_updated_at INTEGER NOT NULL DEFAULT 0,
            role TEXT NOT NULL CHECK (role IN ('ADMIN', 'NADMIN', 'ANONYMOUS')),
            balance INTEGER NOT NULL,
            sales_count INTEGER NOT NULL DEFAULT 0,
            purchases_count INTEGER NOT NULL DEFAULT 0,
            amount_gained INTEGER NOT NULL DEFAULT 0,
            amount_spent INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER)",
            // A deleted account frees its email for a new sign-up; Clerk ids are never reused.
            "CREATE UNIQUE INDEX users_live_email ON users (email)
            WHERE deleted_at IS NULL AND email IS NOT NULL",
            "CREATE UNIQUE INDEX users_one_anonymous ON users (role) WHERE role = 'ANONYMOUS'",
            "CREATE TABLE token_families (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER)",
            "CREATE INDEX token_families_user ON token_families (user_id)",
            "CREATE TABLE refresh_tokens (
            token_hash TEXT PRIMARY KEY,
            family_id TEXT NOT NULL REFERENCES token_families (id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            rotated_at INTEGER)",
            "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
            "CREATE TABLE sign_in_failures (
            email TEXT NOT NULL,
            client TEXT NOT NULL,
            failed_at INTEGER NOT NULL)",
            "CREATE INDEX sign_in_failures_pair ON sign_in_failures (email, client, failed_at)",
            "CREATE TABLE clerk_deliveries (
            svix_id TEXT PRIMARY KEY,
            event_type TEXT NOT NULL,
            received_at INTEGER NOT NULL)",
            // The seam to the cross-domain deletion flow: a row per requested deletion, `pending`
            // until the events component reports carts and products handled.
            "CREATE TABLE account_deletions (
            user_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            requested_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending')",
            "CREATE TABLE ledger_entries (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            movements TEXT NOT NULL,
            result TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            reversed_at INTEGER,
            reversal_result TEXT)",
        ],
    ),
    (
        2,
        &[
            // Pairs are keyed by the email's SHA-256 now (a fixed size whatever was typed);
            // rows keyed by the raw email would never match again, and count for 15 minutes
            // at most anyway.
            "DELETE FROM sign_in_failures",
            // The global purge of attempts that left the window.
            "CREATE INDEX sign_in_failures_time ON sign_in_failures (failed_at)",
        ],
    ),
    (
        3,
        &[
            // Unix ms; our access tokens issued at or before it and refresh families started
            // at or before it are refused (a Clerk identity took over a password account).
            "ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER",
        ],
    ),
    (
        4,
        &[
            // A checkout's hold on its buyer's balance, keyed by our checkout id (`store::holds`).
            // A key released before any hold arrived is void: `released`, no user, amount 0.
            "CREATE TABLE balance_holds (
            key TEXT PRIMARY KEY,
            user_id TEXT,
            amount INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('held', 'released', 'captured')),
            created_at INTEGER NOT NULL,
            settled_at INTEGER,
            CHECK ((user_id IS NOT NULL AND amount > 0)
                OR (user_id IS NULL AND amount = 0 AND state = 'released')))",
        ],
    ),
    (
        5,
        &[
            // Account deletion across the domains (`store::deletions`): `account.deleted` is
            // recorded in the outbox with the deletion mark, the events component completes it
            // (`completed`, with its time), and the re-drive finds the pending ones.
            outbox::SCHEMA[0],
            outbox::SCHEMA[1],
            "ALTER TABLE account_deletions ADD COLUMN completed_at INTEGER",
            "CREATE INDEX account_deletions_pending ON account_deletions (requested_at)
            WHERE status = 'pending'",
        ],
    ),
];
