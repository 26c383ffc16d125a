//! Read replicas: which one may answer a read, and how far behind each is.
//!
//! A poller samples the primary's WAL position (`pg_current_wal_lsn()`) and
//! each replica's replay position (`pg_last_wal_replay_lsn()`) every
//! [`POLL`]. A replica has *caught up to* time `t` when it has replayed
//! everything the primary had written when it was sampled at `t`. A read may
//! go to a replica that caught up to a time after the reading user's last
//! write (read-your-writes) and no longer ago than the lag bound; otherwise
//! it goes to the primary. A replica that stops answering stops catching up,
//! so it falls out by the same rule.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio_postgres::SimpleQueryMessage;

use crate::DbId;

/// How often positions are sampled.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// One replica and how far it has caught up.
struct Replica {
    pool: Pool,
    caught_up_to: Mutex<Option<Instant>>,
}

/// The replicas of one primary, and the users' last writes.
pub(crate) struct Replicas {
    primary: Pool,
    replicas: Vec<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    /// When each user's last batch committed (this process's writes).
    last_writes: Mutex<HashMap<DbId, Instant>>,
}

impl Replicas {
    /// The replicas, and the poller that keeps their positions (it ends when
    /// the returned value is dropped).
    pub(crate) fn start(primary: Pool, pools: Vec<Pool>, max_lag: Duration) -> Arc<Replicas> {
        let replicas =
            pools.into_iter().map(|pool| Replica { pool, caught_up_to: Mutex::new(None) }).collect();
        let set = Arc::new(Replicas {
            primary,
            replicas,
            max_lag,
            next: AtomicUsize::new(0),
            last_writes: Mutex::new(HashMap::new()),
        });
        tokio::spawn(poll(Arc::downgrade(&set)));
        set
    }

    /// A replica that may answer a read of `user` now, if any (round robin).
    pub(crate) fn pick(&self, user: DbId) -> Option<(usize, &Pool)> {
        let now = Instant::now();
        let written = lock(&self.last_writes).get(&user).copied();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..self.replicas.len()).map(|i| (start + i) % self.replicas.len()).find_map(|i| {
            let replica = &self.replicas[i];
            let caught_up = (*lock(&replica.caught_up_to))?;
            let fresh = now.saturating_duration_since(caught_up) <= self.max_lag;
            let has_the_write = match written {
                Some(w) => caught_up > w,
                None => true,
            };
            (fresh && has_the_write).then_some((i, &replica.pool))
        })
    }

    /// Notes that `user`'s batch just committed: their reads go to the
    /// primary until a replica has replayed it.
    pub(crate) fn wrote(&self, user: DbId) {
        let now = Instant::now();
        let mut writes = lock(&self.last_writes);
        writes.insert(user, now);
        if writes.len() > 10_000 {
            // Older writes are on every replica within the lag bound.
            let horizon = self.max_lag + POLL * 2;
            writes.retain(|_, at| now.saturating_duration_since(*at) <= horizon);
        }
    }

    /// Takes replica `index` out until it catches up again (a read on it
    /// lost its connection).
    pub(crate) fn down(&self, index: usize) {
        if let Some(replica) = self.replicas.get(index) {
            *lock(&replica.caught_up_to) = None;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Samples the positions until the replicas are dropped.
async fn poll(set: Weak<Replicas>) {
    let mut samples: VecDeque<(Instant, u64)> = VecDeque::new();
    loop {
        tokio::time::sleep(POLL).await;
        let Some(set) = set.upgrade() else { return };
        let taken = Instant::now();
        let Some(primary) = position(&set.primary, "SELECT pg_current_wal_lsn()::text").await else {
            continue;
        };
        samples.push_back((taken, primary));
        let keep = set.max_lag + POLL * 4;
        while samples.front().is_some_and(|(t, _)| taken.saturating_duration_since(*t) > keep) {
            samples.pop_front();
        }
        for replica in &set.replicas {
            let Some(replayed) = position(&replica.pool, "SELECT pg_last_wal_replay_lsn()::text").await
            else {
                continue;
            };
            // The latest primary sample the replica has replayed past.
            if let Some((t, _)) = samples.iter().rev().find(|(_, lsn)| *lsn <= replayed) {
                let mut caught_up = lock(&replica.caught_up_to);
                match *caught_up {
                    Some(c) if c >= *t => {}
                    _ => *caught_up = Some(*t),
                }
            }
        }
    }
}

/// A WAL position from `sql` (simple protocol: safe behind a pooler), or
/// `None` when the server does not answer or is not what was expected.
async fn position(pool: &Pool, sql: &str) -> Option<u64> {
    let conn = tokio::time::timeout(POLL * 10, pool.get()).await.ok()?.ok()?;
    let messages = tokio::time::timeout(POLL * 10, conn.simple_query(sql)).await.ok()?.ok()?;
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).and_then(parse_lsn),
        _ => None,
    })
}

/// `16/B374D848` as a number.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    Some((u64::from_str_radix(high, 16).ok()? << 32) | u64::from_str_radix(low, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn wal_positions_parse_and_order() {
        assert_eq!(parse_lsn("0/16B3748"), Some(0x16B3748));
        assert!(parse_lsn("1/0").unwrap() > parse_lsn("0/FFFFFFFF").unwrap());
        assert_eq!(parse_lsn("nonsense"), None);
    }
}
