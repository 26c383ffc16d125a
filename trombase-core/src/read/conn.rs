//! The connection of one read, and the transaction a permitter's query may
//! open on it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use deadpool_postgres::{Object, Pool};
use tokio_postgres::{Client, Statement};

use crate::{Error, Result};

/// Prepared statements kept per connection before the cache is emptied
/// (JSON reads come in shapes chosen by clients).
const MAX_CACHED_STATEMENTS: usize = 512;

/// A pooled connection for one read. If a permitter opened a transaction
/// and the read is dropped half-way, the connection is taken out of the
/// pool (closing it rolls the transaction back) rather than returned dirty.
pub(crate) struct ReadConn {
    object: Option<Object>,
    begun: AtomicBool,
}

impl ReadConn {
    pub(crate) async fn get(pool: &Pool) -> Result<ReadConn> {
        Ok(ReadConn { object: Some(pool.get().await?), begun: AtomicBool::new(false) })
    }

    fn object(&self) -> &Object {
        self.object.as_ref().expect("present until finished or dropped")
    }

    pub(crate) fn client(&self) -> &Client {
        self.object()
    }

    pub(crate) fn begun(&self) -> &AtomicBool {
        &self.begun
    }

    /// A statement prepared once per connection and cached.
    pub(crate) async fn prepare(&self, sql: &str) -> Result<Statement> {
        let object = self.object();
        if object.statement_cache.size() > MAX_CACHED_STATEMENTS {
            object.statement_cache.clear();
        }
        object.prepare_cached(sql).await.map_err(|e| Error::from_db(e, "preparing a select"))
    }

    /// Ends the read transaction, if a permitter opened one.
    pub(crate) async fn finish(mut self, statements: &AtomicU64) -> Result<()> {
        if self.begun.load(Ordering::SeqCst) {
            statements.fetch_add(1, Ordering::Relaxed);
            self.client().batch_execute("COMMIT").await.map_err(|e| Error::from_db(e, "ending a read"))?;
            self.begun.store(false, Ordering::SeqCst);
        }
        drop(self.object.take());
        Ok(())
    }
}

impl ReadConn {
    /// Ends a failed read: rolls back the transaction a permitter opened, so
    /// the connection goes back to the pool clean (or, if even that fails,
    /// is dropped from the pool on drop).
    pub(crate) async fn abort(self, statements: &AtomicU64) {
        if self.begun.load(Ordering::SeqCst) {
            statements.fetch_add(1, Ordering::Relaxed);
            if self.client().batch_execute("ROLLBACK").await.is_ok() {
                self.begun.store(false, Ordering::SeqCst);
            }
        }
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if self.begun.load(Ordering::SeqCst) {
            if let Some(object) = self.object.take() {
                drop(Object::take(object));
            }
        }
    }
}
