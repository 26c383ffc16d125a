//! Login with email and password, answering unknown emails and wrong
//! passwords alike, in about the same time; failures throttled per email
//! and per client; hashes of older parameters upgraded.

use super::config::EmailVerification;
use super::types::SignedIn;
use super::{email_address, password, store, Auth};
use crate::{AuthError, AuthErrorCode, Error, Result};

impl Auth {
    /// Signs a user in with their email and password.
    ///
    /// An unknown email and a wrong password both answer
    /// `INVALID_CREDENTIALS`, and take about as long: for an unknown email
    /// the password is checked against a dummy hash with the configured
    /// parameters. An email that does not look like an address, or a
    /// password over 1024 characters, also answers `INVALID_CREDENTIALS`
    /// (without touching the database or hashing: such input matches no
    /// account, so the answer reveals nothing about accounts). The email is
    /// normalized first, as at registration.
    ///
    /// Failed logins are counted per email and, for an auth system
    /// [`with_client`](Auth::with_client), per client; past
    /// [`RateLimits::login_failures_per_email`](crate::RateLimits) or
    /// its per-client twin the answer is `RATE_LIMITED`, before any
    /// password is checked, until the window ends. A successful login clears
    /// the email's count.
    ///
    /// Stored hashes are verified with their own variant and parameters, so
    /// argon2id/argon2i/argon2d PHC strings from other implementations work;
    /// a hash made otherwise than the configured argon2id parameters is
    /// replaced by a fresh one after it verified (only if it is still the
    /// stored one: a concurrent password change wins).
    ///
    /// With [`EmailVerification::Required`](crate::EmailVerification),
    /// an account whose email is not verified answers `EMAIL_NOT_VERIFIED`
    /// (only to the right password).
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase) -> trombase_core::Result<()> {
    /// use trombase_core::{AuthErrorCode, Error};
    /// match trom.auth.login_with_username_password("ada@example.com", "correct horse").await {
    ///     Ok(signed_in) => println!("welcome back, {}", signed_in.user.email),
    ///     Err(Error::Auth(e)) if e.code == AuthErrorCode::InvalidCredentials => println!("try again"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn login_with_username_password(&self, email: &str, password: &str) -> Result<SignedIn> {
        crate::trace::run(crate::trace::auth_span("login"), async {
            let input_email = email;
            let limits = self.config.rate_limits;
            let client_key = self.client_key("login");
            if let Some(key) = &client_key {
                self.throttle(key, limits.login_failures_per_client, false).await?;
            }
            let Some(email) = email_address::normalize(email) else {
                return Err(self.login_failed(None, client_key.as_deref()).await);
            };
            let email_key = format!("login:email:{email}");
            self.throttle(&email_key, limits.login_failures_per_email, false).await?;
            if !password::within_max_len(password) {
                return Err(self.login_failed(Some(&email_key), client_key.as_deref()).await);
            }
            // The connection goes back to the pool before hashing, so a burst of
            // logins does not hold connections while they wait for the CPU.
            let earlier = email_address::earlier_spellings(input_email, &email);
            let forms = store::EmailForms { canonical: &email, earlier: &earlier };
            let found = store::user_with_hash(&self.exec.conn().await?, &forms).await?;
            let (user, stored, matches) = match found {
                Some((user, stored)) => {
                    let matches = self.passwords.verify(password, Some(&stored)).await?;
                    (Some(user), Some(stored), matches)
                }
                None => (None, None, self.passwords.verify(password, None).await?),
            };
            let (Some(user), Some(stored), true) = (user, stored, matches) else {
                return Err(self.login_failed(Some(&email_key), client_key.as_deref()).await);
            };
            self.limiter.clear(&email_key).await?;
            if self.config.email_verification == EmailVerification::Required
                && !store::email_verified(&self.exec.conn().await?, user.id, &user.email).await?
            {
                return Err(Error::Auth(AuthError::new(
                    AuthErrorCode::EmailNotVerified,
                    "verify your email address before signing in",
                )));
            }
            if self.passwords.needs_rehash(&stored) {
                let fresh = self.passwords.hash(password).await?;
                store::replace_password_hash(&self.exec.conn().await?, user.id, &stored, &fresh).await?;
            }
            let session =
                store::insert_session(&self.exec.conn().await?, user.id, self.config.session_ttl).await?;
            Ok(SignedIn { user, session })
        })
        .await
    }

    /// Counts a failed login against the email and the client; the error
    /// to answer (a limiter that fails is the error then).
    async fn login_failed(&self, email_key: Option<&str>, client_key: Option<&str>) -> Error {
        let limits = self.config.rate_limits;
        for (key, limit) in
            [(email_key, limits.login_failures_per_email), (client_key, limits.login_failures_per_client)]
        {
            if let Some(key) = key {
                if let Err(err) = self.limiter.hit(key, limit).await {
                    return err;
                }
            }
        }
        invalid_credentials()
    }
}

fn invalid_credentials() -> Error {
    Error::Auth(AuthError::new(AuthErrorCode::InvalidCredentials, "invalid email or password"))
}
