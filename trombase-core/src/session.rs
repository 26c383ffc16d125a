//! [`Session`]: an authenticated session, the key to all data access.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::DbId;

/// A live authenticated session. Data access goes through
/// `trom.db.with_session(&session)`.
///
/// `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The session's id.
    pub id: DbId,
    /// The user the session belongs to.
    pub user_id: DbId,
    /// When the session stops being valid.
    pub expires_at: DateTime<Utc>,
    /// The bearer token, present only when the session was just created
    /// (the database stores only its hash).
    pub token: Option<String>,
}

impl Session {
    /// Whether the session has expired at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
