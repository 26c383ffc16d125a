//! The SQL of the auth flows, one function per statement, each on any
//! connection (in a transaction or not). Values are always bind parameters,
//! typed here. Every insert sets every column the library owns (no column
//! defaults are relied on: the TypeScript library's tables have none). Times come from the
//! database clock, so expiry is judged by one clock.

use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::token::{self, TokenHash};
use super::types::AuthUser;
use crate::exec::{Arg, Conn};
use crate::{DatabaseError, DbId, Error, Result, Session};

/// The longest lifetime written to the database (100 years); longer
/// configured lifetimes are cut to it.
const MAX_TTL_MS: i64 = 100 * 366 * 24 * 3600 * 1000;

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, column: &str) -> Result<T> {
    row.try_get(column).map_err(|e| Error::Database(DatabaseError::new("decoding an auth row", e)))
}

/// A token's two hashes as `$1` and `$2` (`token_hash IN ($1, $2)`: two
/// text parameters plan and bind faster than one `text[]`, measured at
/// about 60 µs a lookup).
fn hash_args(hash: &TokenHash) -> [Arg<'_>; 2] {
    [(hash.current() as &(dyn ToSql + Sync), Type::TEXT), (hash.earlier() as &(dyn ToSql + Sync), Type::TEXT)]
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).min(MAX_TTL_MS)
}

fn user_from(row: &Row) -> Result<AuthUser> {
    Ok(AuthUser {
        id: get(row, "id")?,
        email: get(row, "email")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// An address in the forms a row may hold it in: the canonical form, and
/// the spellings earlier versions and the TypeScript library stored.
pub(super) struct EmailForms<'a> {
    pub canonical: &'a str,
    pub earlier: &'a [String; 2],
}

impl EmailForms<'_> {
    fn args(&self) -> [Arg<'_>; 3] {
        [(&self.canonical, Type::TEXT), (&self.earlier[0], Type::TEXT), (&self.earlier[1], Type::TEXT)]
    }
}

/// Whether a user has this email, in either form.
pub(super) async fn email_taken(conn: &Conn<'_>, email: &EmailForms<'_>) -> Result<bool> {
    const SQL: &str = "SELECT 1 FROM trom_auth_users WHERE email IN ($1, $2, $3) LIMIT 1";
    let row = conn.query_opt(SQL, &email.args(), "looking up a user").await?;
    Ok(row.is_some())
}

/// Inserts a user; `None` when the email is taken (the unique constraint
/// decides, so concurrent registrations cannot both win).
pub(super) async fn insert_user(
    conn: &Conn<'_>,
    email: &str,
    password_hash: &str,
) -> Result<Option<AuthUser>> {
    const CONTEXT: &str = "creating a user";
    const SQL: &str = "INSERT INTO trom_auth_users (id, email, password_hash, created_at, updated_at) \
                       VALUES ($1, $2, $3, now(), now()) RETURNING id, email, created_at, updated_at";
    let id = DbId::new();
    let args: [Arg; 3] = [(&id, Type::TEXT), (&email, Type::TEXT), (&password_hash, Type::TEXT)];
    match conn.query_opt(SQL, &args, CONTEXT).await {
        Ok(Some(row)) => user_from(&row).map(Some),
        Ok(None) => Err(Error::Database(DatabaseError::new(CONTEXT, "no row returned"))),
        Err(Error::Conflict(e))
            if e.source.as_ref().and_then(|s| s.code()) == Some(&SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The user with this email and their password hash (the canonical form
/// first, if both forms have a row).
pub(super) async fn user_with_hash(
    conn: &Conn<'_>,
    email: &EmailForms<'_>,
) -> Result<Option<(AuthUser, String)>> {
    const SQL: &str = "SELECT id, email, password_hash, created_at, updated_at FROM trom_auth_users \
                       WHERE email IN ($1, $2, $3) ORDER BY email = $1 DESC LIMIT 1";
    let Some(row) = conn.query_opt(SQL, &email.args(), "looking up a user").await? else {
        return Ok(None);
    };
    Ok(Some((user_from(&row)?, get(&row, "password_hash")?)))
}

/// Starts a session for `user_id`, lasting `ttl`; the returned session
/// carries its token.
pub(super) async fn insert_session(conn: &Conn<'_>, user_id: DbId, ttl: Duration) -> Result<Session> {
    const SQL: &str = "INSERT INTO trom_auth_sessions (id, user_id, token_hash, expires_at, created_at) \
                       VALUES ($1, $2, $3, now() + $4::bigint * interval '1 millisecond', now()) RETURNING expires_at";
    let id = DbId::new();
    let token = token::generate();
    let (hash, ttl) = (token.hash.as_str(), ttl_ms(ttl));
    let args: [Arg; 4] = [(&id, Type::TEXT), (&user_id, Type::TEXT), (&hash, Type::TEXT), (&ttl, Type::INT8)];
    let row = conn
        .query_opt(SQL, &args, "creating a session")
        .await?
        .ok_or_else(|| Error::Database(DatabaseError::new("creating a session", "no row returned")))?;
    Ok(Session { id, user_id, expires_at: get(&row, "expires_at")?, token: Some(token.text) })
}

/// The live (not ended, not expired) session with this token hash. The
/// returned session carries no token.
pub(super) async fn live_session(conn: &Conn<'_>, hash: &TokenHash) -> Result<Option<Session>> {
    const SQL: &str = "SELECT id, user_id, token_hash, expires_at FROM trom_auth_sessions \
                       WHERE token_hash IN ($1, $2) AND invalidated_at IS NULL AND expires_at > now()";
    let Some(row) = conn.query_opt(SQL, &hash_args(hash), "looking up a session").await? else {
        return Ok(None);
    };
    if !hash.matches(&get::<String>(&row, "token_hash")?) {
        return Ok(None);
    }
    Ok(Some(Session {
        id: get(&row, "id")?,
        user_id: get(&row, "user_id")?,
        expires_at: get(&row, "expires_at")?,
        token: None,
    }))
}

/// Ends the live session with this token hash; whether there was one.
pub(super) async fn end_session(conn: &Conn<'_>, hash: &TokenHash) -> Result<bool> {
    const SQL: &str = "UPDATE trom_auth_sessions SET invalidated_at = now() \
                       WHERE token_hash IN ($1, $2) AND invalidated_at IS NULL AND expires_at > now()";
    Ok(conn.execute(SQL, &hash_args(hash), "ending a session").await? > 0)
}

/// Ends every live session of `user_id`; how many.
pub(super) async fn end_sessions_of(conn: &Conn<'_>, user_id: DbId) -> Result<u64> {
    const SQL: &str =
        "UPDATE trom_auth_sessions SET invalidated_at = now() WHERE user_id = $1 AND invalidated_at IS NULL";
    conn.execute(SQL, &[(&user_id, Type::TEXT)], "ending sessions").await
}

/// Records a reset token for the user with this email, in one statement
/// whether or not the user exists, retiring the user's older ones; whether
/// a token was recorded.
pub(super) async fn insert_reset_for_email(
    conn: &Conn<'_>,
    email: &EmailForms<'_>,
    hash: &TokenHash,
    ttl: Duration,
) -> Result<bool> {
    // One statement: the new token, and the user's older unused ones
    // retired (marked used), so one user has at most one live reset token.
    const SQL: &str = "WITH u AS (SELECT id FROM trom_auth_users WHERE email IN ($4, $5, $6) \
                         ORDER BY email = $4 DESC LIMIT 1), \
                         retired AS (UPDATE trom_auth_password_resets SET used_at = now() \
                           WHERE user_id IN (SELECT id FROM u) AND used_at IS NULL) \
                       INSERT INTO trom_auth_password_resets (id, user_id, token_hash, expires_at, created_at) \
                       SELECT $1, id, $2, now() + $3::bigint * interval '1 millisecond', now() FROM u";
    let (id, hash, ttl) = (DbId::new(), hash.as_str(), ttl_ms(ttl));
    let [canonical, typed, ascii] = email.args();
    let args: [Arg; 6] =
        [(&id, Type::TEXT), (&hash, Type::TEXT), (&ttl, Type::INT8), canonical, typed, ascii];
    Ok(conn.execute(SQL, &args, "recording a password reset").await? > 0)
}

/// The user of the unused, unexpired reset token with this hash; with
/// `lock`, the reset row is locked `FOR UPDATE` until the transaction ends
/// (a concurrent use waits, then finds it used).
pub(super) async fn live_reset(conn: &Conn<'_>, hash: &TokenHash, lock: bool) -> Result<Option<DbId>> {
    const SQL: &str = "SELECT user_id, token_hash FROM trom_auth_password_resets \
                       WHERE token_hash IN ($1, $2) AND used_at IS NULL AND expires_at > now()";
    const SQL_LOCKED: &str = "SELECT user_id, token_hash FROM trom_auth_password_resets \
                              WHERE token_hash IN ($1, $2) AND used_at IS NULL AND expires_at > now() FOR UPDATE";
    let sql = if lock { SQL_LOCKED } else { SQL };
    let Some(row) = conn.query_opt(sql, &hash_args(hash), "looking up a password reset").await? else {
        return Ok(None);
    };
    if !hash.matches(&get::<String>(&row, "token_hash")?) {
        return Ok(None);
    }
    get(&row, "user_id").map(Some)
}

/// Marks every unused reset token of `user_id` used (the one being redeemed
/// and any older ones still in mailboxes).
pub(super) async fn use_resets_of(conn: &Conn<'_>, user_id: DbId) -> Result<u64> {
    const SQL: &str =
        "UPDATE trom_auth_password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL";
    conn.execute(SQL, &[(&user_id, Type::TEXT)], "marking a password reset used").await
}

/// Sets the password hash of `user_id`; the updated user.
pub(super) async fn set_password(conn: &Conn<'_>, user_id: DbId, password_hash: &str) -> Result<AuthUser> {
    const SQL: &str = "UPDATE trom_auth_users SET password_hash = $2, updated_at = now() WHERE id = $1 \
                       RETURNING id, email, created_at, updated_at";
    let args: [Arg; 2] = [(&user_id, Type::TEXT), (&password_hash, Type::TEXT)];
    let row = conn.query_opt(SQL, &args, "setting a password").await?.ok_or_else(|| {
        Error::Database(DatabaseError::new("setting a password", "the user does not exist"))
    })?;
    user_from(&row)
}

/// Replaces the password hash of `user_id` with `fresh` if it is still
/// `stored` (a concurrent change wins); whether it was replaced.
pub(super) async fn replace_password_hash(
    conn: &Conn<'_>,
    user_id: DbId,
    stored: &str,
    fresh: &str,
) -> Result<bool> {
    const SQL: &str = "UPDATE trom_auth_users SET password_hash = $3 WHERE id = $1 AND password_hash = $2";
    let args: [Arg; 3] = [(&user_id, Type::TEXT), (&stored, Type::TEXT), (&fresh, Type::TEXT)];
    Ok(conn.execute(SQL, &args, "upgrading a password hash").await? > 0)
}

/// The password hash of `user_id`.
pub(super) async fn password_hash_of(conn: &Conn<'_>, user_id: DbId) -> Result<Option<String>> {
    const SQL: &str = "SELECT password_hash FROM trom_auth_users WHERE id = $1";
    let row = conn.query_opt(SQL, &[(&user_id, Type::TEXT)], "looking up a user").await?;
    row.map(|row| get(&row, "password_hash")).transpose()
}

/// Ends every live session of `user_id` but `keep`; how many.
pub(super) async fn end_other_sessions(conn: &Conn<'_>, user_id: DbId, keep: DbId) -> Result<u64> {
    const SQL: &str = "UPDATE trom_auth_sessions SET invalidated_at = now() \
                       WHERE user_id = $1 AND id <> $2 AND invalidated_at IS NULL";
    conn.execute(SQL, &[(&user_id, Type::TEXT), (&keep, Type::TEXT)], "ending sessions").await
}

/// The live sessions of `user_id`, newest first: (id, created_at, expires_at).
pub(super) async fn live_sessions_of(conn: &Conn<'_>, user_id: DbId) -> Result<Vec<SessionRow>> {
    const SQL: &str = "SELECT id, created_at, expires_at FROM trom_auth_sessions \
                       WHERE user_id = $1 AND invalidated_at IS NULL AND expires_at > now() \
                       ORDER BY created_at DESC, id LIMIT 1000";
    let rows = conn.query(SQL, &[(&user_id, Type::TEXT)], "listing sessions").await?;
    rows.iter()
        .map(|row| {
            Ok(SessionRow {
                id: get(row, "id")?,
                created_at: get(row, "created_at")?,
                expires_at: get(row, "expires_at")?,
            })
        })
        .collect()
}

/// One session as listed.
pub(super) struct SessionRow {
    pub id: DbId,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Whether `user_id` verified `email` (a used verification token of that
/// address).
pub(super) async fn email_verified(conn: &Conn<'_>, user_id: DbId, email: &str) -> Result<bool> {
    const SQL: &str = "SELECT 1 FROM trom_auth_email_verifications \
                       WHERE user_id = $1 AND email = $2 AND used_at IS NOT NULL LIMIT 1";
    let row = conn
        .query_opt(SQL, &[(&user_id, Type::TEXT), (&email, Type::TEXT)], "looking up a verification")
        .await?;
    Ok(row.is_some())
}

/// Records a verification token of `email` for `user_id`, deleting the
/// user's older unused ones (a used token is the record of a verified
/// address).
pub(super) async fn insert_verification(
    conn: &Conn<'_>,
    user_id: DbId,
    email: &str,
    hash: &TokenHash,
    ttl: Duration,
) -> Result<()> {
    const SQL: &str = "WITH retired AS (DELETE FROM trom_auth_email_verifications \
                         WHERE user_id = $2 AND used_at IS NULL) \
                       INSERT INTO trom_auth_email_verifications (id, user_id, email, token_hash, expires_at, created_at) \
                       VALUES ($1, $2, $3, $4, now() + $5::bigint * interval '1 millisecond', now())";
    let (id, hash, ttl) = (DbId::new(), hash.as_str(), ttl_ms(ttl));
    let args: [Arg; 5] = [
        (&id, Type::TEXT),
        (&user_id, Type::TEXT),
        (&email, Type::TEXT),
        (&hash, Type::TEXT),
        (&ttl, Type::INT8),
    ];
    conn.execute(SQL, &args, "recording an email verification").await?;
    Ok(())
}

/// Marks the unused, unexpired verification token with this hash used, if
/// its email is still the user's; the user.
pub(super) async fn use_verification(conn: &Conn<'_>, hash: &TokenHash) -> Result<Option<DbId>> {
    const SQL: &str = "UPDATE trom_auth_email_verifications v SET used_at = now() FROM trom_auth_users u \
                       WHERE v.token_hash IN ($1, $2) AND v.used_at IS NULL AND v.expires_at > now() \
                         AND u.id = v.user_id AND u.email = v.email \
                       RETURNING v.user_id, v.token_hash";
    let Some(row) = conn.query_opt(SQL, &hash_args(hash), "verifying an email").await? else {
        return Ok(None);
    };
    if !hash.matches(&get::<String>(&row, "token_hash")?) {
        return Ok(None);
    }
    get(&row, "user_id").map(Some)
}

/// Sets `updated_at` of `user_id` to now; the user.
pub(super) async fn touch_user(conn: &Conn<'_>, user_id: DbId) -> Result<AuthUser> {
    const SQL: &str = "UPDATE trom_auth_users SET updated_at = now() WHERE id = $1 \
                       RETURNING id, email, created_at, updated_at";
    let row = conn.query_opt(SQL, &[(&user_id, Type::TEXT)], "updating a user").await?;
    row.ok_or_else(|| Error::Database(DatabaseError::new("updating a user", "the user does not exist")))
        .and_then(|row| user_from(&row))
}

/// The user with this id.
pub(super) async fn user_by_id(conn: &Conn<'_>, user_id: DbId) -> Result<Option<AuthUser>> {
    const SQL: &str = "SELECT id, email, created_at, updated_at FROM trom_auth_users WHERE id = $1";
    let row = conn.query_opt(SQL, &[(&user_id, Type::TEXT)], "looking up a user").await?;
    row.map(|row| user_from(&row)).transpose()
}

/// The live session with this id (without its token).
pub(super) async fn live_session_by_id(conn: &Conn<'_>, id: DbId) -> Result<Option<Session>> {
    const SQL: &str = "SELECT id, user_id, expires_at FROM trom_auth_sessions \
                       WHERE id = $1 AND invalidated_at IS NULL AND expires_at > now()";
    let row = conn.query_opt(SQL, &[(&id, Type::TEXT)], "looking up a session").await?;
    row.map(|row| {
        Ok(Session {
            id: get(&row, "id")?,
            user_id: get(&row, "user_id")?,
            expires_at: get(&row, "expires_at")?,
            token: None,
        })
    })
    .transpose()
}
