//! Writes sent without waiting for their answers, so a batch of N writes
//! costs about one round trip, not N.
//!
//! tokio-postgres sends a statement when its future is first polled and
//! answers in order on one connection, so anything sent later (a permitter's
//! query, the next write) runs after, and sees, every write sent before it.

use std::future::poll_fn;
use std::task::Poll;

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, StreamExt};

use crate::{Error, Result};

type Write<'a> = BoxFuture<'a, (usize, Result<u64>)>;

/// Writes in flight, each tagged with the index of its mutation.
#[derive(Default)]
pub(super) struct Pipeline<'a> {
    in_flight: FuturesOrdered<Write<'a>>,
    failed: Option<(usize, Error)>,
}

impl<'a> Pipeline<'a> {
    /// Sends a write now; its answer is collected later.
    pub(super) async fn send(&mut self, write: Write<'a>) {
        self.in_flight.push_back(write);
        self.collect_ready().await;
    }

    /// Polls every write in flight once: sends the new ones, keeps the
    /// first failure among those already answered.
    async fn collect_ready(&mut self) {
        poll_fn(|cx| {
            while let Poll::Ready(Some((index, result))) = self.in_flight.poll_next_unpin(cx) {
                if let (Err(err), None) = (result, &self.failed) {
                    self.failed = Some((index, err));
                }
            }
            Poll::Ready(())
        })
        .await;
    }

    /// Waits for every write in flight; the first that failed, as an error
    /// at its mutation's index.
    pub(super) async fn finish(&mut self) -> Result<()> {
        while let Some((index, result)) = self.in_flight.next().await {
            if let (Err(err), None) = (result, &self.failed) {
                self.failed = Some((index, err));
            }
        }
        match self.failed.take() {
            Some((index, err)) => Err(err.at_operation(index)),
            None => Ok(()),
        }
    }

    /// The error to report when mutation `index` failed with `error`: an
    /// earlier write's failure comes first (it is why later statements fail).
    pub(super) async fn first_failure(&mut self, error: Error) -> Error {
        match self.finish().await {
            Err(earlier) => earlier,
            Ok(()) => error,
        }
    }
}
