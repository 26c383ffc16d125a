//! Password reset: request a single-use token by email, then redeem it for
//! a new password and a fresh session.

use super::types::{ResetRequested, SignedIn};
use super::{email_address, emails, password, store, token, Auth};
use crate::{AuthError, AuthErrorCode, Error, Result};

impl Auth {
    /// Starts a password reset. The answer is the same
    /// (`{"accepted":true}`) whether or not the email belongs to a user.
    ///
    /// When it does, a single-use token (43 base64url characters, stored
    /// only as its SHA-256, valid for [`AuthConfig::reset_ttl`], 1 hour by
    /// default) goes out through the email sender, as a link when
    /// [`AuthConfig::reset_link_prefix`] is set. An unknown email sends
    /// nothing. A failing sender is logged, not returned. The database work
    /// is one statement either way; the sender runs only for a known email,
    /// so a sender that wants equal response times should queue rather than
    /// deliver inline.
    ///
    /// An email that does not look like an address answers
    /// `INVALID_AUTH_INPUT` (it cannot belong to any account, so this reveals
    /// nothing about accounts).
    ///
    /// [`AuthConfig::reset_ttl`]: crate::AuthConfig::reset_ttl
    /// [`AuthConfig::reset_link_prefix`]: crate::AuthConfig::reset_link_prefix
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase) -> trombase_core::Result<()> {
    /// let answer = trom.auth.request_password_reset("ada@example.com").await?;
    /// assert!(answer.accepted);
    /// # Ok(()) }
    /// ```
    pub async fn request_password_reset(&self, email: &str) -> Result<ResetRequested> {
        crate::trace::run(crate::trace::auth_span("request_password_reset"), async {
            let input_email = email;
            let email = email_address::normalize(email).ok_or_else(|| {
                Error::Auth(AuthError::new(
                    AuthErrorCode::InvalidAuthInput,
                    "the email must be a valid address",
                ))
            })?;
            let limits = self.config.rate_limits;
            if let Some(key) = self.client_key("reset") {
                self.throttle(&key, limits.reset_requests_per_client, true).await?;
            }
            // Past the per-address cap the answer stays "accepted" (it says
            // nothing about accounts) and nothing is recorded or sent.
            match self.throttle(&format!("reset:email:{email}"), limits.reset_emails_per_email, true).await {
                Err(Error::Auth(e)) if e.code == AuthErrorCode::RateLimited => {
                    return Ok(ResetRequested::ACCEPTED)
                }
                other => other?,
            }
            let earlier = email_address::earlier_spellings(input_email, &email);
            let forms = store::EmailForms { canonical: &email, earlier: &earlier };
            let token = token::generate();
            let ttl = self.config.reset_ttl;
            let recorded =
                store::insert_reset_for_email(&self.exec.conn().await?, &forms, &token.hash, ttl).await?;
            if recorded {
                let prefix = self.config.reset_link_prefix.as_deref();
                let message = emails::password_reset(&email, &token.text, prefix, ttl.as_secs().div_ceil(60));
                emails::send(&*self.email, &message, "password reset").await;
            }
            Ok(ResetRequested::ACCEPTED)
        })
        .await
    }

    /// Completes a password reset: sets `new_password` for the token's user
    /// and signs them in.
    ///
    /// The token must be known, unused and unexpired (otherwise
    /// `INVALID_RESET_TOKEN`); the new password follows the registration
    /// rules (otherwise `INVALID_AUTH_INPUT`). In one transaction, with the
    /// reset row locked `FOR UPDATE` so two concurrent uses cannot both
    /// succeed: the password is replaced, the token (and any other unused
    /// reset token of the user) is marked used, every existing session of
    /// the user is ended, and a fresh session is created.
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, token_from_email: &str) -> trombase_core::Result<()> {
    /// let signed_in = trom.auth.validate_password_reset(token_from_email, "a new passphrase").await?;
    /// # let _ = signed_in;
    /// # Ok(()) }
    /// ```
    pub async fn validate_password_reset(&self, token: &str, new_password: &str) -> Result<SignedIn> {
        crate::trace::run(crate::trace::auth_span("reset_password"), async {
            let hash = token::parse(token).ok_or_else(invalid_reset_token)?;
            password::check_new(new_password)?;
            // An unlocked look first, so a bad token costs no hash and the hash
            // is computed without holding a lock or a connection.
            if store::live_reset(&self.exec.conn().await?, &hash, false).await?.is_none() {
                return Err(invalid_reset_token());
            }
            let password_hash = self.passwords.hash(new_password).await?;

            let tx = self.exec.conn().await?;
            tx.begin("BEGIN").await?;
            // Locked: a concurrent use waits here, then finds the token used.
            let user_id = store::live_reset(&tx, &hash, true).await?.ok_or_else(invalid_reset_token)?;
            let user = store::set_password(&tx, user_id, &password_hash).await?;
            store::use_resets_of(&tx, user_id).await?;
            store::end_sessions_of(&tx, user_id).await?;
            let session = store::insert_session(&tx, user_id, self.config.session_ttl).await?;
            tx.commit().await?;
            Ok(SignedIn { user, session })
        })
        .await
    }
}

fn invalid_reset_token() -> Error {
    Error::Auth(AuthError::new(
        AuthErrorCode::InvalidResetToken,
        "the reset token is invalid, used or expired",
    ))
}
