//! [`InProcessLimiter`]: counts in this process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::{Limit, RateLimiter, Verdict};
use crate::Result;

/// The most keys held; past it, expired keys are dropped, then the keys
/// whose windows end first, so a flood of keys costs bounded memory.
const MAX_KEYS: usize = 100_000;

/// Counts per key in memory: one process's view (several instances of an
/// app each count their own; use [`DatabaseLimiter`](super::DatabaseLimiter)
/// to share). Holds at most 100,000 keys, each as its SHA-256 (32 bytes
/// however long the email a client sent), so a flood of distinct keys costs
/// a few megabytes at most.
#[derive(Debug, Default)]
pub struct InProcessLimiter {
    windows: Mutex<HashMap<KeyHash, Window>>,
}

type KeyHash = [u8; 32];

#[derive(Debug, Clone, Copy)]
struct Window {
    ends_at: Instant,
    hits: u64,
}

impl InProcessLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        InProcessLimiter::default()
    }

    /// Counts one event of `key` (`count`), or looks whether one more
    /// would fit.
    fn count(&self, key: &str, limit: Limit, count: bool) -> Verdict {
        let key: KeyHash = Sha256::digest(key.as_bytes()).into();
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !windows.contains_key(&key) && windows.len() >= MAX_KEYS {
            make_room(&mut windows, now);
        }
        let fresh = Window { ends_at: now + limit.window, hits: 0 };
        let window = match windows.get_mut(&key) {
            Some(window) if window.ends_at > now => window,
            Some(window) => {
                *window = fresh;
                window
            }
            None if !count => return Verdict::Allowed,
            None => windows.entry(key).or_insert(fresh),
        };
        let remaining = window.ends_at.saturating_duration_since(now);
        if count {
            window.hits += 1;
            Verdict::of(window.hits, limit, remaining)
        } else {
            Verdict::of(window.hits + 1, limit, remaining)
        }
    }
}

/// Drops expired windows; if none had expired, the tenth of the keys whose
/// windows end first.
fn make_room(windows: &mut HashMap<KeyHash, Window>, now: Instant) {
    windows.retain(|_, w| w.ends_at > now);
    if windows.len() < MAX_KEYS {
        return;
    }
    let mut ends: Vec<Instant> = windows.values().map(|w| w.ends_at).collect();
    let cut = MAX_KEYS / 10;
    ends.select_nth_unstable(cut);
    let threshold = ends[cut];
    windows.retain(|_, w| w.ends_at > threshold);
}

impl RateLimiter for InProcessLimiter {
    fn hit<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>> {
        Box::pin(async move { Ok(self.count(key, limit, true)) })
    }

    fn check<'a>(&'a self, key: &'a str, limit: Limit) -> BoxFuture<'a, Result<Verdict>> {
        Box::pin(async move { Ok(self.count(key, limit, false)) })
    }

    fn clear<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key: KeyHash = Sha256::digest(key.as_bytes()).into();
            self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&key);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(future)
    }

    #[test]
    fn allows_max_events_per_window_then_limits_until_it_ends() {
        block_on(async {
            let limiter = InProcessLimiter::new();
            let limit = Limit::new(3, Duration::from_millis(200));
            for _ in 0..3 {
                assert_eq!(limiter.hit("k", limit).await.unwrap(), Verdict::Allowed);
            }
            assert!(matches!(limiter.check("k", limit).await.unwrap(), Verdict::Limited { .. }));
            assert!(matches!(limiter.hit("k", limit).await.unwrap(), Verdict::Limited { .. }));
            assert_eq!(limiter.check("other", limit).await.unwrap(), Verdict::Allowed, "keys are apart");
            tokio::time::sleep(Duration::from_millis(250)).await;
            assert_eq!(limiter.hit("k", limit).await.unwrap(), Verdict::Allowed, "a new window");
            limiter.clear("k").await.unwrap();
            assert_eq!(limiter.check("k", limit).await.unwrap(), Verdict::Allowed);
        });
    }

    #[test]
    fn a_flood_of_keys_holds_bounded_memory() {
        block_on(async {
            let limiter = InProcessLimiter::new();
            let limit = Limit::per_minutes(1, 60);
            for i in 0..(MAX_KEYS + 5_000) {
                limiter.hit(&format!("key-{i}"), limit).await.unwrap();
            }
            assert!(limiter.windows.lock().unwrap().len() <= MAX_KEYS);
        });
    }
}
