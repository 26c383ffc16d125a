//! The auth tables, laid out as the TypeScript library lays them out.

/// The users table.
pub const USERS: &str = "trom_auth_users";
/// The sessions table.
pub const SESSIONS: &str = "trom_auth_sessions";
/// The password resets table.
pub const PASSWORD_RESETS: &str = "trom_auth_password_resets";

/// Statements creating the three auth tables if missing.
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
];
