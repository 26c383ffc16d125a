//! Writes sent without waiting for their answers, so a batch of N writes
//! costs about one round trip, not N.
//!
//! tokio-postgres sends a statement when its future is first polled and
//! answers in order on one connection, so anything sent later (a permitter's
//! query, the next write) runs after, and sees, every write sent before it.

use std::collections::HashMap;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio_postgres::Row;

use crate::{Error, Result};

/// A write's answer: the index of the mutation to blame if it failed, and
/// on success the rows it returned (none without `RETURNING`), each tagged
/// with the index of the mutation that wrote it (one write may carry
/// several inserts).
pub(super) type Answer = (usize, Result<Vec<(usize, Row)>>);

type Write<'a> = BoxFuture<'a, Answer>;

/// Writes in flight.
#[derive(Default)]
pub(super) struct Pipeline<'a> {
    in_flight: FuturesOrdered<Write<'a>>,
    failed: Option<(usize, Error)>,
    returned: HashMap<usize, Vec<Row>>,
}

impl<'a> Pipeline<'a> {
    /// Sends a write now; its answer is collected later.
    pub(super) fn send(&mut self, write: Write<'a>) {
        self.in_flight.push_back(write);
        self.collect_ready();
    }

    /// Polls every write in flight once: sends the new ones, keeps what
    /// those already answered said. (A waker that does nothing is enough
    /// here: the answers are awaited in [`finish`](Self::finish), which
    /// polls again with its own.)
    fn collect_ready(&mut self) {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        while let Poll::Ready(Some(answer)) = self.in_flight.poll_next_unpin(&mut cx) {
            self.answered(answer);
        }
    }

    fn answered(&mut self, (index, result): Answer) {
        match result {
            Ok(rows) => {
                for (index, row) in rows {
                    self.returned.entry(index).or_default().push(row);
                }
            }
            Err(err) if self.failed.is_none() => self.failed = Some((index, err)),
            Err(_) => {}
        }
    }

    /// Waits for every write in flight; the rows they returned, by
    /// mutation index, or the first that failed, as an error at its index.
    pub(super) async fn finish(&mut self) -> Result<HashMap<usize, Vec<Row>>> {
        while let Some(answer) = self.in_flight.next().await {
            self.answered(answer);
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
