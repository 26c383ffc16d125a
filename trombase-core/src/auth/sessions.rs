//! Sessions by token: look one up, require one, end one.

use super::types::LogoutResult;
use super::{store, token, Auth};
use crate::{AuthError, AuthErrorCode, Error, Result, Session};

impl Auth {
    /// The live session of a bearer token, or `None` when the token is
    /// unknown, expired, invalidated or malformed (a malformed token never
    /// reaches the database).
    ///
    /// The returned session's `token` is `None`: the database holds only
    /// the token's hash, and the caller already has the token.
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, header: &str) -> trombase_core::Result<()> {
    /// if let Some(session) = trom.auth.get_session_by_token(header).await? {
    ///     let db = trom.db.with_session(&session);
    ///     # let _ = db;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_session_by_token(&self, token: &str) -> Result<Option<Session>> {
        crate::trace::run(crate::trace::auth_span("session"), self.session_of(token)).await
    }

    /// The live session of `token`, if any (untraced: each caller is a span).
    async fn session_of(&self, token: &str) -> Result<Option<Session>> {
        let Some(hash) = token::parse(token) else {
            return Ok(None);
        };
        store::live_session(&self.exec.conn().await?, &hash).await
    }

    /// Like [`get_session_by_token`](Self::get_session_by_token), but no live
    /// session is an error: `SESSION_NOT_FOUND` (HTTP 401), ready for a
    /// handler's `?`.
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, header: &str) -> trombase_core::Result<()> {
    /// let session = trom.auth.require_session(header).await?;
    /// let db = trom.db.with_session(&session);
    /// # let _ = db;
    /// # Ok(()) }
    /// ```
    pub async fn require_session(&self, token: &str) -> Result<Session> {
        crate::trace::run(crate::trace::auth_span("require_session"), async {
            self.session_of(token).await?.ok_or_else(|| {
                let whole_header =
                    token.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "));
                let message = if whole_header {
                    "no live session for this token (pass the token itself, not the whole `Authorization` \
                     value: `trombase::api::session_token` reads it from the headers)"
                } else {
                    "no live session for this token"
                };
                Error::Auth(AuthError::new(AuthErrorCode::SessionNotFound, message))
            })
        })
        .await
    }

    /// Logs out: ends the session of `token`. `invalidated` says whether a
    /// live session was ended; it is `false` for an unknown, expired, already
    /// ended or malformed token (a malformed token never reaches the
    /// database).
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, token: &str) -> trombase_core::Result<()> {
    /// let result = trom.auth.invalidate_session_token(token).await?;
    /// assert!(trom.auth.get_session_by_token(token).await?.is_none());
    /// # let _ = result;
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_session_token(&self, token: &str) -> Result<LogoutResult> {
        crate::trace::run(crate::trace::auth_span("logout"), async {
            let Some(hash) = token::parse(token) else {
                return Ok(LogoutResult { invalidated: false });
            };
            let invalidated = store::end_session(&self.exec.conn().await?, &hash).await?;
            Ok(LogoutResult { invalidated })
        })
        .await
    }
}
