//! Writes sent without waiting for their answers, so a batch of N writes
//! costs about one round trip, not N.
//!
//! tokio-postgres sends a statement when its future is first polled and
//! answers in order on one connection, so anything sent later (a permitter's
//! query, the next write) runs after, and sees, every write sent before it.

use std::future::poll_fn;
use std::task::Poll;

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio_postgres::Row;

use crate::{Error, Result};

/// A write, tagged with the index of its mutation; the rows it returned
/// (none without `RETURNING`).
type Write<'a> = BoxFuture<'a, (usize, Result<Vec<Row>>)>;

/// Writes in flight, each tagged with the index of its mutation.
#[derive(Default)]
pub(super) struct Pipeline<'a> {
    in_flight: FuturesOrdered<Write<'a>>,
    failed: Option<(usize, Error)>,
    returned: HashMap<usize, Vec<Row>>,
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
                self.answered(index, result);
            }
            Poll::Ready(())
        })
        .await;
    }

    fn answered(&mut self, index: usize, result: Result<Vec<Row>>) {
        match result {
            Ok(rows) if !rows.is_empty() => {
                self.returned.insert(index, rows);
            }
            Ok(_) => {}
            Err(err) if self.failed.is_none() => self.failed = Some((index, err)),
            Err(_) => {}
        }
    }

    /// Waits for every write in flight; the rows they returned, by
    /// mutation index, or the first that failed, as an error at its index.
    pub(super) async fn finish(&mut self) -> Result<HashMap<usize, Vec<Row>>> {
        while let Some((index, result)) = self.in_flight.next().await {
            self.answered(index, result);
        }
        match self.failed.take() {
            Some((index, err)) => Err(err.at_operation(index)),
            None => Ok(std::mem::take(&mut self.returned)),
        }
    }

    /// The error to report when mutation `index` failed with `error`: an
    /// earlier write's failure comes first (it is why later statements fail).
    pub(super) async fn first_failure(&mut self, error: Error) -> Error {
        match self.finish().await {
            Err(earlier) => earlier,
            Ok(_) => error,
        }
    }
}
