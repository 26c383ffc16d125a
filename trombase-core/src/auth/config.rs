//! [`AuthConfig`]: lifetimes of sessions and reset tokens.

use std::time::Duration;

/// How the auth system behaves. `AuthConfig::default()` follows the spec:
/// sessions last 30 days, reset tokens 1 hour.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// How long a session lasts (default 30 days).
    pub session_ttl: Duration,
    /// How long a password-reset token lasts (default 1 hour).
    pub reset_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { session_ttl: Duration::from_secs(30 * 24 * 3600), reset_ttl: Duration::from_secs(3600) }
    }
}
