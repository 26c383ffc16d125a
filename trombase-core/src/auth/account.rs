//! What a signed-in user does with their account: change the password,
//! list and end their sessions, verify their email.

use super::types::{AuthUser, SessionInfo};
use super::{emails, password, store, token, Auth};
use crate::{AuthError, AuthErrorCode, Error, Result, Session};

impl Auth {
    /// Changes the password of `session`'s user, who must give the current
    /// one (otherwise `INVALID_CREDENTIALS`, counted like a failed login;
    /// `RATE_LIMITED` past the limit). Every other session of the user is
    /// ended; `session` stays live. The new password follows the
    /// registration rules.
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, session: trombase_core::Session) -> trombase_core::Result<()> {
    /// trom.auth.change_password(&session, "correct horse", "battery staple").await?;
    /// # Ok(()) }
    /// ```
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new_password: &str,
    ) -> Result<AuthUser> {
        crate::trace::run(crate::trace::auth_span("change_password"), async {
            let session = self.live(session).await?;
            password::check_new(new_password)?;
            let key = format!("password:user:{}", session.user_id);
            let limit = self.config.rate_limits.login_failures_per_email;
            self.throttle(&key, limit, false).await?;
            let stored = store::password_hash_of(&self.exec.conn().await?, session.user_id).await?;
            let matches = match &stored {
                Some(stored) if password::within_max_len(current) => {
                    self.passwords.verify(current, Some(stored)).await?
                }
                _ => false,
            };
            let (Some(stored), true) = (stored, matches) else {
                self.limiter.hit(&key, limit).await?;
                return Err(Error::Auth(AuthError::new(
                    AuthErrorCode::InvalidCredentials,
                    "the current password is wrong",
                )));
            };
            let fresh = self.passwords.hash(new_password).await?;
            let tx = self.exec.conn().await?;
            tx.begin("BEGIN").await?;
            // Only if the hash is still the one checked: a concurrent change wins.
            if !store::replace_password_hash(&tx, session.user_id, &stored, &fresh).await? {
                tx.rollback().await;
                return Err(Error::Auth(AuthError::new(
                    AuthErrorCode::InvalidCredentials,
                    "the current password is wrong",
                )));
            }
            store::end_other_sessions(&tx, session.user_id, session.id).await?;
            store::use_resets_of(&tx, session.user_id).await?;
            let user = store::touch_user(&tx, session.user_id).await?;
            tx.commit().await?;
            self.limiter.clear(&key).await?;
            Ok(user)
        })
        .await
    }

    /// The live sessions of `session`'s user, newest first (at most 1,000),
    /// marking the one that asked.
    pub async fn sessions(&self, session: &Session) -> Result<Vec<SessionInfo>> {
        crate::trace::run(crate::trace::auth_span("sessions"), async {
            let session = self.live(session).await?;
            let rows = store::live_sessions_of(&self.exec.conn().await?, session.user_id).await?;
            Ok(rows
                .into_iter()
                .map(|row| SessionInfo {
                    current: row.id == session.id,
                    id: row.id,
                    created_at: row.created_at,
                    expires_at: row.expires_at,
                })
                .collect())
        })
        .await
    }

    /// Ends every live session of `session`'s user, `session` included
    /// ("sign out everywhere"); how many.
    pub async fn end_all_sessions(&self, session: &Session) -> Result<u64> {
        crate::trace::run(crate::trace::auth_span("end_all_sessions"), async {
            let session = self.live(session).await?;
            store::end_sessions_of(&self.exec.conn().await?, session.user_id).await
        })
        .await
    }

    /// Sends `session`'s user a fresh email-verification token (retiring
    /// older unused ones), at most
    /// [`RateLimits::verification_emails_per_user`](crate::RateLimits)
    /// times per window (then `RATE_LIMITED`).
    pub async fn request_email_verification(&self, session: &Session) -> Result<()> {
        crate::trace::run(crate::trace::auth_span("request_email_verification"), async {
            let session = self.live(session).await?;
            let key = format!("verify:user:{}", session.user_id);
            self.throttle(&key, self.config.rate_limits.verification_emails_per_user, true).await?;
            let user =
                store::user_by_id(&self.exec.conn().await?, session.user_id).await?.ok_or_else(no_session)?;
            self.send_verification(&user).await
        })
        .await
    }

    /// Redeems an email-verification token: the user's current email is
    /// verified. A token that is unknown, used, expired, or of an address
    /// the user no longer has answers `INVALID_VERIFICATION_TOKEN`.
    pub async fn verify_email(&self, token: &str) -> Result<AuthUser> {
        crate::trace::run(crate::trace::auth_span("verify_email"), async {
            let invalid = || {
                Error::Auth(AuthError::new(
                    AuthErrorCode::InvalidVerificationToken,
                    "the verification token is invalid, used or expired",
                ))
            };
            let hash = token::parse(token).ok_or_else(invalid)?;
            let conn = self.exec.conn().await?;
            let user_id = store::use_verification(&conn, &hash).await?.ok_or_else(invalid)?;
            store::user_by_id(&conn, user_id).await?.ok_or_else(invalid)
        })
        .await
    }

    /// Whether `session`'s user has verified their current email.
    pub async fn email_verified(&self, session: &Session) -> Result<bool> {
        crate::trace::run(crate::trace::auth_span("email_verified"), async {
            let session = self.live(session).await?;
            let conn = self.exec.conn().await?;
            let user = store::user_by_id(&conn, session.user_id).await?.ok_or_else(no_session)?;
            store::email_verified(&conn, user.id, &user.email).await
        })
        .await
    }

    /// Records and sends a verification token for `user`'s email.
    pub(super) async fn send_verification(&self, user: &AuthUser) -> Result<()> {
        let token = token::generate();
        let ttl = self.config.verification_ttl;
        store::insert_verification(&self.exec.conn().await?, user.id, &user.email, &token.hash, ttl).await?;
        let prefix = self.config.verification_link_prefix.as_deref();
        let message = emails::verification(&user.email, &token.text, prefix, ttl.as_secs().div_ceil(3600));
        emails::send(&*self.email, &message, "email verification").await;
        Ok(())
    }

    /// `session` if it is still live (it may have ended since the request
    /// began); `SESSION_NOT_FOUND` otherwise.
    async fn live(&self, session: &Session) -> Result<Session> {
        let live = store::live_session_by_id(&self.exec.conn().await?, session.id).await?;
        live.filter(|s| s.user_id == session.user_id).ok_or_else(no_session)
    }
}

fn no_session() -> Error {
    Error::Auth(AuthError::new(AuthErrorCode::SessionNotFound, "no live session for this token"))
}
