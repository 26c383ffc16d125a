//! Password rules and hashing: argon2id PHC strings, computed on tokio's
//! blocking pool (never on an executor thread), at most N at a time.
//!
//! Verification accepts any valid argon2 PHC string (argon2id, argon2i or
//! argon2d, any parameters), so hashes made by other implementations verify.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Version};
use rand::rngs::OsRng;
use rand::RngCore;
use tokio::sync::Semaphore;

use super::config::Argon2Params;
use crate::{AuthError, AuthErrorCode, DatabaseError, Error, Result};

/// The fewest characters (not bytes) a new password may have.
pub(crate) const MIN_CHARS: usize = 8;
/// The most characters (not bytes) a password may have.
pub(crate) const MAX_CHARS: usize = 1024;

/// Checks a new password against the rules: 8 to 1024 characters.
pub(crate) fn check_new(password: &str) -> Result<()> {
    // A byte bound first: it caps the work on untrusted input (a char is at
    // most 4 bytes).
    let too_long = password.len() > MAX_CHARS * 4 || password.chars().count() > MAX_CHARS;
    if too_long {
        return Err(invalid_input(format!("the password must have at most {MAX_CHARS} characters")));
    }
    if password.chars().count() < MIN_CHARS {
        return Err(invalid_input(format!("the password must have at least {MIN_CHARS} characters")));
    }
    Ok(())
}

/// Whether a password offered at login is short enough to be worth hashing.
pub(crate) fn within_max_len(password: &str) -> bool {
    password.len() <= MAX_CHARS * 4 && password.chars().count() <= MAX_CHARS
}

fn invalid_input(message: String) -> Error {
    Error::Auth(AuthError::new(AuthErrorCode::InvalidAuthInput, message))
}

/// Hashes and verifies passwords off the executor, bounded by a semaphore.
pub(crate) struct Passwords {
    params: argon2::Params,
    permits: Arc<Semaphore>,
    /// A syntactically valid hash with the configured parameters that no
    /// password matches: verifying against it costs what verifying a real
    /// user's hash costs, so an unknown email answers as slowly as a known
    /// one.
    dummy: Arc<str>,
}

impl Passwords {
    pub(crate) fn new(params: &Argon2Params, max_concurrent: usize) -> Self {
        let params = params.inner().clone();
        let dummy = dummy_hash(&params);
        Passwords { params, permits: Arc::new(Semaphore::new(max_concurrent.max(1))), dummy: dummy.into() }
    }

    /// An argon2id PHC string of `password` with a fresh random salt.
    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| Error::Database(DatabaseError::new("hashing a password", e.to_string())))
        })
        .await?
    }

    /// Whether `password` matches the PHC string `stored`, or, with `None`,
    /// the same work against the dummy hash (always `false`).
    pub(crate) async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let is_dummy = stored.is_none();
        let stored: Arc<str> = stored.map_or_else(|| Arc::clone(&self.dummy), Arc::from);
        let password = password.to_owned();
        let matches = self.run_blocking(move || verify_phc(&password, &stored)).await?;
        Ok(matches && !is_dummy)
    }

    /// Whether a stored hash was made otherwise than new hashes are now
    /// (another variant, version or parameters, or not a PHC string), so a
    /// login that verified it should store a fresh one.
    pub(crate) fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else { return true };
        let current = argon2::Params::try_from(&parsed);
        parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
            || current.map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    != (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
            })
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn run_blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| Error::Database(DatabaseError::new("waiting to hash a password", e)))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| Error::Database(DatabaseError::new("hashing a password", e)))
    }
}

/// Verifies against any argon2 PHC string, with that string's variant,
/// version and parameters. A string that is not a valid argon2 hash never
/// matches (and is logged: the stored data is damaged).
fn verify_phc(password: &str, stored: &str) -> bool {
    let parsed = match PasswordHash::new(stored) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!(target: "trombase::auth", error = %e, "a stored password hash is not a PHC string");
            return false;
        }
    };
    // `verify_password` re-hashes with the stored algorithm, version and
    // parameters, and compares the outputs in constant time.
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::Password) => false,
        Err(e) => {
            tracing::warn!(target: "trombase::auth", error = %e, "a stored password hash cannot be verified");
            false
        }
    }
}

/// A PHC string with `params`, a random salt and a random output: verifying
/// against it costs a full hash, and no password matches it.
fn dummy_hash(params: &argon2::Params) -> String {
    let mut salt = [0u8; 16];
    let mut output = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    OsRng.fill_bytes(&mut salt);
    OsRng.fill_bytes(&mut output);
    let b64 = |bytes: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    };
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64(&salt),
        b64(&output)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        let params = Argon2Params::new(1024, 1, 1).unwrap_or_default();
        Passwords::new(&params, 2)
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(check_new("1234567").is_err());
        assert!(check_new("12345678").is_ok());
        // 7 characters, 14 bytes.
        assert!(check_new("ééééééé").is_err());
        assert!(check_new(&"x".repeat(MAX_CHARS)).is_ok());
        assert!(check_new(&"x".repeat(MAX_CHARS + 1)).is_err());
        assert!(within_max_len(&"é".repeat(MAX_CHARS)));
        assert!(!within_max_len(&"é".repeat(MAX_CHARS + 1)));
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() -> Result<()> {
        let passwords = cheap();
        let hash = passwords.hash("correct horse").await?;
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(passwords.verify("correct horse", Some(&hash)).await?);
        assert!(!passwords.verify("wrong horse", Some(&hash)).await?);
        assert_ne!(passwords.hash("correct horse").await?, hash, "salts are random");
        Ok(())
    }

    #[tokio::test]
    async fn hashes_of_other_parameters_need_a_rehash() -> Result<()> {
        let passwords = cheap();
        let hash = passwords.hash("correct horse").await?;
        assert!(!passwords.needs_rehash(&hash));
        let stronger = Passwords::new(&Argon2Params::new(16, 2, 1)?, 1);
        assert!(stronger.needs_rehash(&hash));
        assert!(passwords.needs_rehash("not a hash"));
        let argon2i = hash.replacen("$argon2id$", "$argon2i$", 1);
        assert!(passwords.needs_rehash(&argon2i));
        Ok(())
    }

    #[tokio::test]
    async fn the_dummy_never_matches_and_is_a_valid_hash() -> Result<()> {
        let passwords = cheap();
        assert!(PasswordHash::new(&passwords.dummy).is_ok(), "{}", passwords.dummy);
        assert!(!passwords.verify("anything", None).await?);
        let default = dummy_hash(&argon2::Params::default());
        assert!(default.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{default}");
        Ok(())
    }

    #[tokio::test]
    async fn garbage_hashes_never_match() -> Result<()> {
        let passwords = cheap();
        for stored in ["", "plaintext", "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=1,t=1,p=1$x$y"] {
            assert!(!passwords.verify("plaintext", Some(stored)).await?);
        }
        Ok(())
    }
}
