//! [`DatabaseLimiter`]: counts in a table of the database, shared by every
//! instance of an app.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio_postgres::types::Type;

use super::{Limit, RateLimiter, Verdict};
use crate::exec::{Arg, Executor};
use crate::{DatabaseError, Error, Result};

/// Every this many hits, windows that ended over an hour ago are deleted.
const SWEEP_EVERY: u64 = 1_000;

/// Counts per key in `trom_auth_rate_limits` (created by `create_tables`),
/// one statement per event, so every instance of an app on one database
/// shares them. Keys are stored as their SHA-256, never as the emails or
/// addresses they name.
pub struct DatabaseLimiter {
    exec: Arc<Executor>,
    hits: AtomicU64,
}

impl std::fmt::Debug for DatabaseLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseLimiter").finish_non_exhaustive()
    }
}

impl DatabaseLimiter {
    pub(crate) fn new(exec: Arc<Executor>) -> Self {
        DatabaseLimiter { exec, hits: AtomicU64::new(0) }
    }

    async fn count(&self, key: &str, limit: Limit) -> Result<Verdict> {
        const SQL: &str = "INSERT INTO trom_auth_rate_limits AS r (key_hash, window_ends_at, hits) \
            VALUES ($1, now() + $2::bigint * interval '1 millisecond', 1) \
            ON CONFLICT (key_hash) DO UPDATE SET \
              hits = CASE WHEN r.window_ends_at <= now() THEN 1 ELSE r.hits + 1 END, \
              window_ends_at = CASE WHEN r.window_ends_at <= now() THEN EXCLUDED.window_ends_at ELSE r.window_ends_at END \
            RETURNING hits, (extract(epoch FROM window_ends_at - now()) * 1000)::bigint AS remaining_ms";
        let (hash, window) = (key_hash(key), window_ms(limit));
        let args: [Arg; 2] = [(&hash, Type::TEXT), (&window, Type::INT8)];
        let conn = self.exec.conn().await?;
        let row = conn.query_opt(SQL, &args, "counting an auth event").await?;
        if self.hits.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            const SWEEP: &str =
                "DELETE FROM trom_auth_rate_limits WHERE window_ends_at < now() - interval '1 hour'";
            conn.execute(SWEEP, &[], "sweeping auth event counts").await?;
        }
        verdict(row, limit, 0)
    }

    async fn peek(&self, key: &str, limit: Limit) -> Result<Verdict> {
        const SQL: &str =
            "SELECT hits, (extract(epoch FROM window_ends_at - now()) * 1000)::bigint AS remaining_ms \
            FROM trom_auth_rate_limits WHERE key_hash = $1 AND window_ends_at > now()";
        let hash = key_hash(key);
        let row = self
            .exec
            .conn()
            .await?
            .query_opt(SQL, &[(&hash, Type::TEXT)], "reading an auth event count")
            .await?;
        match row {
            None => Ok(Verdict::Allowed),
            row => verdict(row, limit, 1),
        }
    }

    async fn forget(&self, key: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM trom_auth_rate_limits WHERE key_hash = $1";
        let hash = key_hash(key);
        self.exec.conn().await?.execute(SQL, &[(&hash, Type::TEXT)], "clearing an auth event count").await?;
        Ok(())
    }
}

fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn window_ms(limit: Limit) -> i64 {
    i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX).clamp(1, 366 * 24 * 3600 * 1000)
}

/// The verdict of a counter row, `extra` events ahead of it.
fn verdict(row: Option<tokio_postgres::Row>, limit: Limit, extra: u64) -> Result<Verdict> {
    let row =
        row.ok_or_else(|| Error::Database(DatabaseError::new("counting an auth event", "no row returned")))?;
    let decode = |e| Error::Database(DatabaseError::new("decoding an auth event count", e));
    let hits: i32 = row.try_get("hits").map_err(decode)?;
    let remaining: i64 = row.try_get("remaining_ms").map_err(decode)?;
    let remaining = Duration::from_millis(u64::try_from(remaining).unwrap_or(0));
    Ok(Verdict::of(u64::try_from(hits).unwrap_or(0) + extra, limit, remaining))
}

impl RateLimiter for DatabaseLimiter {
    fn hit<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>> {
        Box::pin(self.count(key, limit))
    }

    fn check<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>> {
        Box::pin(self.peek(key, limit))
    }

    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.forget(key))
    }
}
