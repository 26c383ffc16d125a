//! Registration: a new user and their first session, in one transaction.

use super::config::EmailVerification;
use super::types::SignedIn;
use super::{email_address, emails, password, store, Auth};
use crate::{AuthError, AuthErrorCode, Error, Result};

impl Auth {
    /// Registers a user and signs them in.
    ///
    /// The email is trimmed and lower-cased and must look like an address;
    /// the password must have 8 to 1024 characters (otherwise
    /// `INVALID_AUTH_INPUT`). An email that is taken, also in another case or
    /// with surrounding spaces, answers `USERNAME_TAKEN`, even when two
    /// registrations race (the unique constraint decides). The password is
    /// stored as an argon2id PHC string; the user and the first session are
    /// created in one transaction. After the commit a welcome email goes out
    /// through the email sender; if the sender fails, the failure is logged
    /// and the registration still succeeds.
    ///
    /// The answer's `session.token` is the bearer token, shown this once.
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase) -> trombase_core::Result<()> {
    /// let signed_in = trom.auth.register_with_username_password("ada@example.com", "correct horse").await?;
    /// let token = signed_in.session.token.clone(); // give this to the client
    /// let db = trom.db.with_session(&signed_in.session);
    /// # let _ = (token, db);
    /// # Ok(()) }
    /// ```
    pub async fn register_with_username_password(&self, email: &str, password: &str) -> Result<SignedIn> {
        crate::trace::run(crate::trace::auth_span("register"), async {
            let input_email = email;
            let email = email_address::normalize(email).ok_or_else(|| {
                Error::Auth(AuthError::new(
                    AuthErrorCode::InvalidAuthInput,
                    "the email must be a valid address",
                ))
            })?;
            password::check_new(password)?;
            if let Some(key) = self.client_key("register") {
                self.throttle(&key, self.config.rate_limits.registrations_per_client, true).await?;
            }
            // A cheap early answer that spares a hash; the insert below is what
            // settles a race.
            let earlier = email_address::earlier_spellings(input_email, &email);
            let forms = store::EmailForms { canonical: &email, earlier: &earlier };
            if store::email_taken(&self.exec.conn().await?, &forms).await? {
                return Err(username_taken());
            }
            let password_hash = self.passwords.hash(password).await?;

            let tx = self.exec.conn().await?;
            tx.begin("BEGIN").await?;
            let user = store::insert_user(&tx, &email, &password_hash).await?.ok_or_else(username_taken)?;
            let session = store::insert_session(&tx, user.id, self.config.session_ttl).await?;
            tx.commit().await?;
            drop(tx);

            emails::send(&*self.email, &emails::welcome(&user.email), "welcome").await;
            if self.config.email_verification != EmailVerification::Off {
                self.send_verification(&user).await?;
            }
            Ok(SignedIn { user, session })
        })
        .await
    }
}

fn username_taken() -> Error {
    Error::Auth(AuthError::new(AuthErrorCode::UsernameTaken, "this email is already registered"))
}
