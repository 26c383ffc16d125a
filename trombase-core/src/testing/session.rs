//! In-memory sessions, for tests of data access that need no auth system.

use crate::{DbId, Session};

/// A live session of `user_id`, valid for an hour, as the auth system
/// would hand one out, but made in memory: no session row, no token. Data
/// access (`trom.db.with_session(&session)`) needs nothing more; for a
/// session that logs in over HTTP, use
/// [`TestApp::session_for_new_user`](super::TestApp::session_for_new_user).
pub fn session_for(user_id: DbId) -> Session {
    Session {
        id: DbId::new(),
        user_id,
        expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(1),
        token: None,
    }
}
