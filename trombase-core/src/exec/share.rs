//! A fair share of the pool: one user holds at most so many connections at
//! once, so a flood of heavy requests from one account queues behind itself
//! while every other account is still served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::BusyError;
use crate::hash::KeyHash;
use crate::{DbId, Result};

/// The connections each user may hold at once, and how long a request
/// waits for one of its user's turns.
pub(crate) struct Shares {
    per_user: usize,
    wait: Option<Duration>,
    users: Mutex<Users>,
}

/// Each user's turns. A user's entry stays when their last turn ends (a
/// request is not charged an allocation and two map updates); idle
/// entries are swept when the map has doubled since the last sweep.
struct Users {
    turns: HashMap<DbId, Arc<Semaphore>, KeyHash>,
    sweep_at: usize,
}

/// The fewest entries at which idle users are swept.
const SWEEP_AT_LEAST: usize = 1024;

/// One of a user's turns; handed back when dropped.
pub(crate) struct Turn {
    _permit: OwnedSemaphorePermit,
}

impl Shares {
    pub(crate) fn new(per_user: usize, wait: Option<Duration>) -> Self {
        let users = Users { turns: HashMap::default(), sweep_at: SWEEP_AT_LEAST };
        Shares { per_user: per_user.max(1), wait, users: Mutex::new(users) }
    }

    /// Waits for one of `user`'s turns; a busy error past the wait timeout.
    pub(crate) async fn turn(&self, user: DbId) -> Result<Turn> {
        let semaphore = self.semaphore(user);
        // The common case, a turn free at once, sets no timer.
        let permit = match Arc::clone(&semaphore).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let acquire = semaphore.acquire_owned();
                let permit = match self.wait {
                    Some(wait) => tokio::time::timeout(wait, acquire).await.map_err(|_| busy_user())?,
                    None => acquire.await,
                };
                // The semaphore is never closed.
                permit.map_err(|_| busy_user())?
            }
        };
        Ok(Turn { _permit: permit })
    }

    /// `user`'s semaphore, made on their first request.
    fn semaphore(&self, user: DbId) -> Arc<Semaphore> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(semaphore) = users.turns.get(&user) {
            return Arc::clone(semaphore);
        }
        if users.turns.len() >= users.sweep_at {
            // Only the map holds it: nobody has or awaits a turn of that user.
            users.turns.retain(|_, s| Arc::strong_count(s) > 1);
            users.sweep_at = (users.turns.len() * 2).max(SWEEP_AT_LEAST);
        }
        let semaphore = Arc::new(Semaphore::new(self.per_user));
        users.turns.insert(user, Arc::clone(&semaphore));
        semaphore
    }

    /// Users remembered (diagnostics and tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).turns.len()
    }
}

fn busy_user() -> crate::Error {
    BusyError::new("too many requests of this user are running at once; try again shortly").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_user_gets_at_most_its_share_and_others_are_served() {
        let shares = Shares::new(2, Some(Duration::from_millis(50)));
        let (a, b) = (DbId::new(), DbId::new());
        let first = shares.turn(a).await.unwrap();
        let second = shares.turn(a).await.unwrap();
        let third = shares.turn(a).await;
        assert!(matches!(third, Err(crate::Error::Busy(_))));
        let other = shares.turn(b).await.unwrap();
        drop((first, other));
        let again = shares.turn(a).await.unwrap();
        drop((second, again));
    }

    #[tokio::test]
    async fn idle_users_are_forgotten_as_the_map_grows() {
        let shares = Shares::new(1, None);
        let busy = DbId::new();
        let held = shares.turn(busy).await.unwrap();
        for _ in 0..SWEEP_AT_LEAST * 3 {
            drop(shares.turn(DbId::new()).await.unwrap());
        }
        assert!(shares.tracked() <= SWEEP_AT_LEAST, "{} users remembered", shares.tracked());
        // A user with a turn held keeps it through a sweep.
        let blocked = tokio::time::timeout(Duration::from_millis(20), shares.turn(busy)).await;
        assert!(blocked.is_err(), "the busy user's one turn is still taken");
        drop(held);
        drop(shares.turn(busy).await.unwrap());
    }
}
