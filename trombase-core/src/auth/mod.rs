//! Authentication: users, sessions and password resets in the library's own
//! tables.
//!
//! - Passwords: argon2id PHC strings (`password`), hashed on the blocking
//!   pool with bounded concurrency.
//! - Tokens: 32 random bytes, base64url on the wire, SHA-256 at rest
//!   (`token`).
//! - Flows: `register`, `login`, `sessions`, `reset`; their SQL in `store`;
//!   their emails in `emails`.

mod account;
mod config;
mod email_address;
mod emails;
mod limiter;
mod login;
pub(crate) mod password;
mod register;
mod reset;
mod sessions;
mod store;
pub(crate) mod tables;
pub(crate) mod token;
mod types;
pub(crate) mod wire;

pub use config::{Argon2Params, AuthConfig, EmailVerification};
pub use limiter::{DatabaseLimiter, InProcessLimiter, Limit, RateLimiter, RateLimits, Verdict};
pub use types::{AuthUser, LogoutResult, ResetRequested, SessionInfo, SignedIn};

use std::sync::Arc;

use crate::email::EmailSender;
use crate::exec::Executor;
use password::Passwords;

/// The auth side of a [`TromBase`](crate::TromBase):
/// `trom.auth.register_with_username_password(...)` and friends.
///
/// Every method answers the library's [`Error`](crate::Error); auth
/// failures are [`Error::Auth`](crate::Error::Auth) with an
/// [`AuthErrorCode`](crate::AuthErrorCode). The result types serialize to
/// the JSON of the HTTP API, so a handler can return them as they are.
///
/// ```no_run
/// # async fn run() -> trombase_core::Result<()> {
/// let trom = trombase_core::TromBase::builder()
///     .database_url("postgres://postgres@127.0.0.1:5432/postgres")
///     .connect()
///     .await?;
/// trom.create_tables().await?;
///
/// let signed_in = trom.auth.register_with_username_password("ada@example.com", "correct horse").await?;
/// let token = signed_in.session.token.clone().unwrap_or_default();
/// let session = trom.auth.require_session(&token).await?;
/// assert_eq!(session.user_id, signed_in.user.id);
/// trom.auth.invalidate_session_token(&token).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Auth {
    exec: Arc<Executor>,
    config: Arc<AuthConfig>,
    email: Arc<dyn EmailSender>,
    passwords: Arc<Passwords>,
    limiter: Arc<dyn RateLimiter>,
    /// The client key of the request (an IP), for the per-client limits.
    client: Option<Arc<str>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    pub(crate) fn new(
        exec: Arc<Executor>,
        config: AuthConfig,
        email: Arc<dyn EmailSender>,
        limiter: Arc<dyn RateLimiter>,
    ) -> Self {
        let passwords = Arc::new(Passwords::new(&config.argon2, config.max_concurrent_hashes));
        Auth { exec, config: Arc::new(config), email, passwords, limiter, client: None }
    }

    /// This auth system for a request from `client` (its IP address, or any
    /// key the app trusts to tell clients apart): logins, registrations and
    /// reset requests are then also limited per client
    /// ([`RateLimits`]).
    ///
    /// ```no_run
    /// # async fn run(trom: trombase_core::TromBase, peer: std::net::SocketAddr) -> trombase_core::Result<()> {
    /// let auth = trom.auth.with_client(peer.ip().to_string());
    /// let signed_in = auth.login_with_username_password("ada@example.com", "correct horse").await?;
    /// # let _ = signed_in; Ok(()) }
    /// ```
    pub fn with_client(&self, client: impl Into<String>) -> Auth {
        Auth { client: Some(client.into().into()), ..self.clone() }
    }

    /// The limiter the auth flows consult (to clear a lockout from an
    /// admin screen, say: `trom.auth.limiter().clear("login:email:ada@example.com")`).
    pub fn limiter(&self) -> &dyn RateLimiter {
        &*self.limiter
    }

    /// Counts one event of `key` (or, with `count` false, looks whether one
    /// more would fit): `RATE_LIMITED` past `limit`.
    async fn throttle(&self, key: &str, limit: Limit, count: bool) -> crate::Result<()> {
        let verdict =
            if count { self.limiter.hit(key, limit).await? } else { self.limiter.check(key, limit).await? };
        match verdict {
            Verdict::Allowed => Ok(()),
            Verdict::Limited { retry_after } => {
                Err(crate::Error::Auth(crate::AuthError::rate_limited(retry_after)))
            }
        }
    }

    /// The per-client key of `flow`, when the request names a client.
    fn client_key(&self, flow: &str) -> Option<String> {
        self.client.as_deref().map(|client| format!("{flow}:client:{client}"))
    }
}
