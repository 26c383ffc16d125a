//! Login with email and password, answering unknown emails and wrong
//! passwords alike, in about the same time.

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
    /// trimmed and lower-cased first, as at registration.
    ///
    /// Stored hashes are verified with their own variant and parameters, so
    /// argon2id/argon2i/argon2d PHC strings from other implementations work.
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
        let Some(email) = email_address::normalize(email) else {
            return Err(invalid_credentials());
        };
        if !password::within_max_len(password) {
            return Err(invalid_credentials());
        }
        // The connection goes back to the pool before hashing, so a burst of
        // logins does not hold connections while they wait for the CPU.
        let found = store::user_with_hash(&self.exec.conn().await?, &email).await?;
        let (user, matches) = match found {
            Some((user, stored)) => {
                let matches = self.passwords.verify(password, Some(&stored)).await?;
                (Some(user), matches)
            }
            None => (None, self.passwords.verify(password, None).await?),
        };
        let user = match user {
            Some(user) if matches => user,
            _ => return Err(invalid_credentials()),
        };
        let session =
            store::insert_session(&self.exec.conn().await?, user.id, self.config.session_ttl).await?;
        Ok(SignedIn { user, session })
    }
}

fn invalid_credentials() -> Error {
    Error::Auth(AuthError::new(AuthErrorCode::InvalidCredentials, "invalid email or password"))
}
