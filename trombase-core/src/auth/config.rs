//! [`AuthConfig`]: lifetimes of sessions and reset tokens, password hashing
//! parameters, and the bound on concurrent hash computations.

use std::fmt;
use std::time::Duration;

use super::limiter::RateLimits;
use crate::{Error, Result, ValidationError};

/// How the auth system behaves. `AuthConfig::default()` follows the spec:
/// sessions last 30 days, reset tokens 1 hour, passwords are hashed with
/// argon2id at the OWASP parameters ([`Argon2Params::default`]), and at most
/// as many hashes run at once as the machine has CPUs.
///
/// The struct is `#[non_exhaustive]`; change it with the builder-style
/// setters:
///
/// ```
/// use std::time::Duration;
/// use trombase_core::{Argon2Params, AuthConfig};
///
/// # fn main() -> trombase_core::Result<()> {
/// let config = AuthConfig::default()
///     .session_ttl(Duration::from_secs(7 * 24 * 3600))
///     .reset_ttl(Duration::from_secs(15 * 60))
///     .argon2(Argon2Params::new(65_536, 3, 1)?)
///     .max_concurrent_hashes(4)
///     .reset_link_prefix("https://example.com/reset?token=");
/// assert_eq!(config.argon2.memory_kib(), 65_536);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// How long a session lasts (default 30 days).
    pub session_ttl: Duration,
    /// How long a password-reset token lasts (default 1 hour).
    pub reset_ttl: Duration,
    /// The argon2id parameters new password hashes are made with (default:
    /// the OWASP recommendation, m = 19456 KiB, t = 2, p = 1). Stored hashes
    /// made with other parameters or variants still verify.
    pub argon2: Argon2Params,
    /// The most password hashes computed at the same time (default: the
    /// number of CPUs). Further logins wait, without blocking any thread.
    pub max_concurrent_hashes: usize,
    /// Where the reset email's link points: the token is appended to this
    /// prefix (`https://example.com/reset?token=`). Without it (the default)
    /// the email carries only the token.
    pub reset_link_prefix: Option<String>,
    /// Throttling of logins, registrations and reset requests
    /// ([`RateLimits::default`]: OWASP's guidance).
    pub rate_limits: RateLimits,
    /// Whether registration sends an email-verification token, and whether
    /// login requires a verified email (default: off).
    pub email_verification: EmailVerification,
    /// How long an email-verification token lasts (default 24 hours).
    pub verification_ttl: Duration,
    /// Where the verification email's link points (the token is appended).
    pub verification_link_prefix: Option<String>,
}

/// Opt-in email verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerification {
    /// No verification emails; `verify_email` still works for tokens asked
    /// for with `request_email_verification`.
    #[default]
    Off,
    /// Registration sends a verification token; login does not need it.
    Optional,
    /// Registration sends a verification token, and login answers
    /// `EMAIL_NOT_VERIFIED` until the email is verified.
    Required,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            reset_ttl: Duration::from_secs(3600),
            argon2: Argon2Params::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(1, |n| n.get()),
            reset_link_prefix: None,
            rate_limits: RateLimits::default(),
            email_verification: EmailVerification::Off,
            verification_ttl: Duration::from_secs(24 * 3600),
            verification_link_prefix: None,
        }
    }
}

impl AuthConfig {
    /// The throttling of the auth flows.
    #[must_use]
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Opt-in email verification.
    #[must_use]
    pub fn email_verification(mut self, mode: EmailVerification) -> Self {
        self.email_verification = mode;
        self
    }

    /// How long an email-verification token lasts.
    #[must_use]
    pub fn verification_ttl(mut self, ttl: Duration) -> Self {
        self.verification_ttl = ttl;
        self
    }

    /// Where the verification email's link points.
    #[must_use]
    pub fn verification_link_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.verification_link_prefix = Some(prefix.into());
        self
    }

    /// How long a session lasts.
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How long a password-reset token lasts.
    #[must_use]
    pub fn reset_ttl(mut self, ttl: Duration) -> Self {
        self.reset_ttl = ttl;
        self
    }

    /// The argon2id parameters for new password hashes.
    #[must_use]
    pub fn argon2(mut self, params: Argon2Params) -> Self {
        self.argon2 = params;
        self
    }

    /// The most password hashes computed at the same time (at least 1).
    #[must_use]
    pub fn max_concurrent_hashes(mut self, n: usize) -> Self {
        self.max_concurrent_hashes = n.max(1);
        self
    }

    /// The prefix the reset token is appended to in the reset email's link.
    #[must_use]
    pub fn reset_link_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.reset_link_prefix = Some(prefix.into());
        self
    }
}

/// Checked argon2id cost parameters: memory in KiB, iterations, lanes.
///
/// `Display` shows them as `m=19456 KiB, t=2, p=1`.
#[derive(Clone, PartialEq, Eq)]
pub struct Argon2Params {
    params: argon2::Params,
}

impl Argon2Params {
    /// The OWASP recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP_MEMORY_KIB: u32 = 19_456;
    /// Iterations of the OWASP recommendation.
    pub const OWASP_ITERATIONS: u32 = 2;
    /// Lanes of the OWASP recommendation.
    pub const OWASP_PARALLELISM: u32 = 1;

    /// Checks and wraps the parameters: memory of at least 8 KiB per lane,
    /// at least one iteration, 1 to 2^24 - 1 lanes.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        argon2::Params::new(memory_kib, iterations, parallelism, None)
            .map(|params| Argon2Params { params })
            .map_err(|e| {
                Error::Validation(ValidationError::new(
                    "auth.argon2",
                    format!("invalid argon2 parameters: {e}"),
                ))
            })
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.params.m_cost()
    }

    /// Number of iterations.
    pub fn iterations(&self) -> u32 {
        self.params.t_cost()
    }

    /// Degree of parallelism (lanes).
    pub fn parallelism(&self) -> u32 {
        self.params.p_cost()
    }

    pub(crate) fn inner(&self) -> &argon2::Params {
        &self.params
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        let params = argon2::Params::new(
            Self::OWASP_MEMORY_KIB,
            Self::OWASP_ITERATIONS,
            Self::OWASP_PARALLELISM,
            None,
        )
        // These constants are within argon2's limits; the fallback is never taken.
        .unwrap_or_default();
        Argon2Params { params }
    }
}

impl fmt::Display for Argon2Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} KiB, t={}, p={}", self.memory_kib(), self.iterations(), self.parallelism())
    }
}

impl fmt::Debug for Argon2Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Argon2Params({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec() {
        let config = AuthConfig::default();
        assert_eq!(config.session_ttl, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(config.reset_ttl, Duration::from_secs(3600));
        assert_eq!(config.argon2.to_string(), "m=19456 KiB, t=2, p=1");
        assert!(config.max_concurrent_hashes >= 1);
        assert!(config.reset_link_prefix.is_none());
    }

    #[test]
    fn setters_change_one_thing_each() {
        let config = AuthConfig::default().session_ttl(Duration::from_secs(5)).max_concurrent_hashes(0);
        assert_eq!(config.session_ttl, Duration::from_secs(5));
        assert_eq!(config.max_concurrent_hashes, 1);
        assert_eq!(config.reset_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn bad_argon2_parameters_are_refused() {
        assert!(Argon2Params::new(0, 1, 1).is_err());
        assert!(Argon2Params::new(1024, 0, 1).is_err());
        assert!(Argon2Params::new(1024, 1, 0).is_err());
        assert_eq!(Argon2Params::new(1024, 1, 1).map(|p| p.memory_kib()).ok(), Some(1024));
    }
}
