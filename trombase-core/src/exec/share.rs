//! A fair share of the pool: one user holds at most so many connections at
//! once, so a flood of heavy requests from one account queues behind itself
//! while every other account is still served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::BusyError;
use crate::{DbId, Result};

/// The connections each user may hold at once, and how long a request
/// waits for one of its user's turns.
pub(crate) struct Shares {
    per_user: usize,
    wait: Option<Duration>,
    users: Mutex<HashMap<DbId, Arc<Semaphore>>>,
}

/// One of a user's turns; handed back when dropped.
pub(crate) struct Turn<'s> {
    permit: Option<OwnedSemaphorePermit>,
    shares: &'s Shares,
    user: DbId,
}

impl Shares {
    pub(crate) fn new(per_user: usize, wait: Option<Duration>) -> Self {
        Shares { per_user: per_user.max(1), wait, users: Mutex::new(HashMap::new()) }
    }

    /// Waits for one of `user`'s turns; a busy error past the wait timeout.
    pub(crate) async fn turn(&self, user: DbId) -> Result<Turn<'_>> {
        let semaphore = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(users.entry(user).or_insert_with(|| Arc::new(Semaphore::new(self.per_user))))
        };
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
        Ok(Turn { permit: Some(permit), shares: self, user })
    }

    /// Users with a turn held or awaited (diagnostics and tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut users = self.shares.users.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map holds it: nobody has or awaits a turn of this user.
        if users.get(&self.user).is_some_and(|s| Arc::strong_count(s) == 1) {
            users.remove(&self.user);
        }
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
        assert_eq!(shares.tracked(), 0, "idle users are forgotten");
    }
}
