//! The auth tables, laid out as the TypeScript library lays them out.

/// The users table.
pub const USERS: &str = "trom_auth_users";
/// The sessions table.
pub const SESSIONS: &str = "trom_auth_sessions";
/// The password resets table.
pub const PASSWORD_RESETS: &str = "trom_auth_password_resets";

/// The counters of [`DatabaseLimiter`](crate::DatabaseLimiter).
pub const RATE_LIMITS: &str = "trom_auth_rate_limits";
/// Email verification tokens.
pub const EMAIL_VERIFICATIONS: &str = "trom_auth_email_verifications";

/// Statements creating the auth tables if missing: the three of the
/// TypeScript library, as it lays them out, and two of this library's own.
pub(crate) const DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS trom_auth_users (\
        id text PRIMARY KEY, \
        email text NOT NULL UNIQUE, \
        password_hash text NOT NULL, \
        created_at timestamptz NOT NULL DEFAULT now(), \
        updated_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS trom_auth_sessions (\
        id text PRIMARY KEY, \
        user_id text NOT NULL REFERENCES trom_auth_users (id) ON DELETE CASCADE, \
        token_hash text NOT NULL UNIQUE, \
        expires_at timestamptz NOT NULL, \
        created_at timestamptz NOT NULL DEFAULT now(), \
        invalidated_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS trom_auth_sessions_user_id_idx ON trom_auth_sessions (user_id)",
    "CREATE TABLE IF NOT EXISTS trom_auth_password_resets (\
        id text PRIMARY KEY, \
        user_id text NOT NULL REFERENCES trom_auth_users (id) ON DELETE CASCADE, \
        token_hash text NOT NULL UNIQUE, \
        expires_at timestamptz NOT NULL, \
        created_at timestamptz NOT NULL DEFAULT now(), \
        used_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS trom_auth_password_resets_user_id_idx ON trom_auth_password_resets (user_id)",
    "CREATE TABLE IF NOT EXISTS trom_auth_rate_limits (\
        key_hash text PRIMARY KEY, \
        window_ends_at timestamptz NOT NULL, \
        hits integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS trom_auth_email_verifications (\
        id text PRIMARY KEY, \
        user_id text NOT NULL REFERENCES trom_auth_users (id) ON DELETE CASCADE, \
        email text NOT NULL, \
        token_hash text NOT NULL UNIQUE, \
        expires_at timestamptz NOT NULL, \
        created_at timestamptz NOT NULL, \
        used_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS trom_auth_email_verifications_user_id_idx ON trom_auth_email_verifications (user_id)",
];
