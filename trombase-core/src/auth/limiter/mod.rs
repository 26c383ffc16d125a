//! Throttling of the auth flows: a [`RateLimiter`] counts events per key
//! (a normalized email, a client key such as an IP) within a [`Limit`]'s
//! window. Login failures, registrations and reset requests consult it
//! ([`RateLimits`]); an event over its limit is `RATE_LIMITED` (429 with
//! `Retry-After` in the API).
//!
//! Two stores come with the library: [`InProcessLimiter`] (the default: one
//! process's counts, in memory) and [`DatabaseLimiter`] (a table of the
//! library's own, `trom_auth_rate_limits`, so every instance of an app on
//! one database shares the counts). Any other store (Redis, ...) implements
//! the trait.
//!
//! Each key's window starts with its first event and lasts the limit's
//! window; within it at most `max` events are allowed.

mod database;
mod in_process;

pub use database::DatabaseLimiter;
pub use in_process::InProcessLimiter;

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::Result;

/// At most `max` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed per window.
    pub max: u32,
    /// The window, from a key's first event.
    pub window: Duration,
}

impl Limit {
    /// At most `max` events per `window`.
    pub const fn new(max: u32, window: Duration) -> Limit {
        Limit { max, window }
    }

    /// At most `max` events per `minutes` minutes.
    pub const fn per_minutes(max: u32, minutes: u64) -> Limit {
        Limit::new(max, Duration::from_secs(minutes * 60))
    }
}

/// What a limiter says about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit.
    Allowed,
    /// Over it, until `retry_after` has passed.
    Limited {
        /// When the key's window ends.
        retry_after: Duration,
    },
}

impl Verdict {
    /// The verdict of a key that has seen `hits` events in a window ending
    /// in `remaining`.
    pub fn of(hits: u64, limit: Limit, remaining: Duration) -> Verdict {
        if hits > u64::from(limit.max) {
            Verdict::Limited { retry_after: remaining.max(Duration::from_secs(1)) }
        } else {
            Verdict::Allowed
        }
    }
}

/// A store of event counts per key. Keys are opaque strings the library
/// builds (`login:email:ada@example.com`, `register:client:203.0.113.9`).
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one event of `key`; whether it is within `limit`.
    fn hit<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>>;

    /// Whether one more event of `key` would be within `limit`, without
    /// counting one.
    fn check<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>>;

    /// Forgets the events of `key` (a successful login clears its failures).
    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// Which events are limited, and how much. The defaults follow OWASP's
/// authentication guidance: failed logins are counted per account and per
/// client, with a lockout that ends by itself (no permanent lockout an
/// attacker could impose), and the other flows are bounded per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Failed logins of one email, from any client (default 10 per 15
    /// minutes). Unknown emails are counted alike, so the limit reveals
    /// nothing about accounts.
    pub login_failures_per_email: Limit,
    /// Failed logins from one client key, for any email (default 100 per 15
    /// minutes).
    pub login_failures_per_client: Limit,
    /// Registrations from one client key (default 20 per hour).
    pub registrations_per_client: Limit,
    /// Password reset requests from one client key (default 20 per hour).
    pub reset_requests_per_client: Limit,
    /// Reset emails sent to one address (default 3 per hour); requests past
    /// it are still answered "accepted" and send nothing.
    pub reset_emails_per_email: Limit,
    /// Email verification requests of one user (default 5 per hour).
    pub verification_emails_per_user: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_failures_per_email: Limit::per_minutes(10, 15),
            login_failures_per_client: Limit::per_minutes(100, 15),
            registrations_per_client: Limit::per_minutes(20, 60),
            reset_requests_per_client: Limit::per_minutes(20, 60),
            reset_emails_per_email: Limit::per_minutes(3, 60),
            verification_emails_per_user: Limit::per_minutes(5, 60),
        }
    }
}

impl RateLimits {
    /// Sets `login_failures_per_email`.
    #[must_use]
    pub fn login_failures_per_email(mut self, limit: Limit) -> Self {
        self.login_failures_per_email = limit;
        self
    }

    /// Sets `login_failures_per_client`.
    #[must_use]
    pub fn login_failures_per_client(mut self, limit: Limit) -> Self {
        self.login_failures_per_client = limit;
        self
    }

    /// Sets `registrations_per_client`.
    #[must_use]
    pub fn registrations_per_client(mut self, limit: Limit) -> Self {
        self.registrations_per_client = limit;
        self
    }

    /// Sets `reset_requests_per_client`.
    #[must_use]
    pub fn reset_requests_per_client(mut self, limit: Limit) -> Self {
        self.reset_requests_per_client = limit;
        self
    }

    /// Sets `reset_emails_per_email`.
    #[must_use]
    pub fn reset_emails_per_email(mut self, limit: Limit) -> Self {
        self.reset_emails_per_email = limit;
        self
    }

    /// Sets `verification_emails_per_user`.
    #[must_use]
    pub fn verification_emails_per_user(mut self, limit: Limit) -> Self {
        self.verification_emails_per_user = limit;
        self
    }
}
