//! [`Conn`]: one pooled connection, the transaction open on it (if any),
//! and every way the library sends SQL over it.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::Object;
use futures_util::{pin_mut, FutureExt, TryStreamExt};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::share::Turn;
use super::statement::{cacheable, Arg, Prepared, MAX_CACHED_STATEMENTS, MAX_PARAMS};
use super::Executor;
use crate::{Error, Result};

/// A connection checked out of the pool for one operation. If it is
/// dropped with a transaction still open (a request cancelled half-way),
/// it is taken out of the pool (closing it rolls the transaction back)
/// rather than handed to the next request dirty.
pub(crate) struct Conn<'e> {
    exec: &'e Executor,
    object: Option<Object>,
    in_transaction: AtomicBool,
    /// The open transaction only carries a read's statement timeout.
    carrier: AtomicBool,
    /// The connection was lost: never back to the pool.
    lost: AtomicBool,
    _turn: Option<Turn>,
}

impl<'e> Conn<'e> {
    pub(super) fn new(exec: &'e Executor, object: Object, turn: Option<Turn>) -> Self {
        Conn {
            exec,
            object: Some(object),
            in_transaction: AtomicBool::new(false),
            carrier: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            _turn: turn,
        }
    }

    fn object(&self) -> &Object {
        self.object.as_ref().expect("present until dropped")
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.in_transaction.load(Ordering::SeqCst)
    }

    /// Opens a transaction with `begin` (`BEGIN ...`), unless one is open.
    pub(crate) async fn begin(&self, begin: &'static str) -> Result<()> {
        self.open(begin, true).await
    }

    /// Opens a transaction that only carries the statement timeout of a
    /// read (not counted as a statement of the read).
    pub(crate) async fn begin_carrier(&self, begin: &'static str) -> Result<()> {
        self.open(begin, false).await
    }

    async fn open(&self, begin: &'static str, counted: bool) -> Result<()> {
        if counted && self.carrier.swap(false, Ordering::SeqCst) {
            // A permitter's query in a read's carrier transaction: from now
            // on it is the read's snapshot, counted like one it opened.
            self.exec.count(1);
            return Ok(());
        }
        if !self.in_transaction.swap(true, Ordering::SeqCst) {
            self.carrier.store(!counted, Ordering::SeqCst);
            if counted {
                self.exec.count(1);
            }
            let sql = self.exec.begin_statement(begin);
            self.object()
                .batch_execute(&sql)
                .await
                .map_err(|e| Error::from_db(e, "beginning a transaction"))?;
        }
        Ok(())
    }

    /// Commits the open transaction, if any. A connection lost with the
    /// `COMMIT` sent and unanswered is [`Error::CommitUnknown`].
    pub(crate) async fn commit(&self) -> Result<()> {
        if self.in_transaction() {
            self.exec.count(1);
            match self.object().batch_execute("COMMIT").await {
                Ok(()) => self.in_transaction.store(false, Ordering::SeqCst),
                Err(e) if e.as_db_error().is_none() || crate::error::from_db::is_lost(&e) => {
                    return Err(crate::CommitUnknownError { source: Some(Box::new(e)) }.into())
                }
                Err(e) => return Err(Error::from_db(e, "committing")),
            }
        }
        Ok(())
    }

    /// Ends a read-only transaction without waiting for the answer: the
    /// `COMMIT` is sent, and whatever runs next on this connection is queued
    /// behind it. (Nothing was written, so its outcome changes nothing.)
    pub(crate) fn end_read_only(&self) {
        if self.in_transaction.swap(false, Ordering::SeqCst) {
            if !self.carrier.load(Ordering::SeqCst) {
                self.exec.count(1);
            }
            // The first poll sends it; the connection reads and drops the answer.
            let _ = self.object().batch_execute("COMMIT").now_or_never();
        }
    }

    /// Rolls the open transaction back, if any. If even that fails, the
    /// connection is dropped from the pool when this handle goes.
    pub(crate) async fn rollback(&self) {
        if self.in_transaction() {
            // A read's carrier transaction is not counted (its BEGIN and
            // COMMIT are not either): the read sent no statement of its own.
            if !self.carrier.load(Ordering::SeqCst) {
                self.exec.count(1);
            }
            if self.object().batch_execute("ROLLBACK").await.is_ok() {
                self.in_transaction.store(false, Ordering::SeqCst);
            }
        }
    }

    /// Marks the connection as lost: it is closed when this handle goes,
    /// never handed to another request.
    pub(crate) fn discard(&self) {
        self.lost.store(true, Ordering::SeqCst);
    }

    /// Runs SQL text of the library's own (DDL, several statements), with
    /// no parameters, as a simple query.
    pub(crate) async fn batch(&self, sql: &str, context: &'static str) -> Result<()> {
        self.exec.count(1);
        self.object().batch_execute(sql).await.map_err(|e| Error::from_db(e, context))
    }

    /// Gets `sql` ready to run with parameters of `types`: a cached named
    /// statement where the statement strategy allows one, else unnamed.
    pub(crate) async fn prepare<'s>(
        &self,
        sql: impl Into<Cow<'s, str>>,
        types: Vec<Type>,
        context: &'static str,
    ) -> Result<Prepared<'s>> {
        let sql = sql.into();
        check_param_count(types.len())?;
        if !cacheable(self.exec.mode, &sql) {
            return Ok(Prepared { sql, types, named: None });
        }
        let object = self.object();
        let named = {
            let cached = object.prepare_typed_cached(&sql, &types);
            pin_mut!(cached);
            // A statement already cached is ready at the first poll: the
            // cache only grows when it is not, and only then is it counted
            // (counting walks every entry).
            match cached.as_mut().now_or_never() {
                Some(named) => named,
                None => {
                    let named = cached.await;
                    if object.statement_cache.size() > MAX_CACHED_STATEMENTS {
                        // Dropping the statements closes them on the server
                        // (this one once it has run).
                        object.statement_cache.clear();
                    }
                    named
                }
            }
        };
        let named = named.map_err(|e| Error::from_db(e, context))?;
        Ok(Prepared { sql, types, named: Some(named) })
    }

    /// Runs a prepared statement with `params` (of its types); its rows.
    pub(crate) async fn query_prepared(
        &self,
        prepared: &Prepared<'_>,
        params: &[&(dyn ToSql + Sync)],
        context: &'static str,
    ) -> Result<Vec<Row>> {
        self.exec.count(1);
        let rows = match &prepared.named {
            Some(statement) => self.object().query(statement, params).await,
            None => self.object().query_typed(&prepared.sql, &typed(prepared, params)).await,
        };
        rows.map_err(|e| self.failed(prepared, e, context))
    }

    /// Runs a prepared statement with `params` (of its types); how many rows
    /// it affected. The statement is sent when the future is first polled
    /// (so writes can be pipelined in order).
    pub(crate) async fn execute_prepared(
        &self,
        prepared: &Prepared<'_>,
        params: &[&(dyn ToSql + Sync)],
        context: &'static str,
    ) -> Result<u64> {
        self.exec.count(1);
        let count = match &prepared.named {
            Some(statement) => self.object().execute(statement, params).await,
            None => self.execute_unnamed(&prepared.sql, typed(prepared, params)).await,
        };
        count.map_err(|e| self.failed(prepared, e, context))
    }

    async fn execute_unnamed(&self, sql: &str, args: Vec<Arg<'_>>) -> Result<u64, tokio_postgres::Error> {
        let rows = self.object().query_typed_raw(sql, args).await?;
        pin_mut!(rows);
        while rows.try_next().await?.is_some() {}
        Ok(rows.rows_affected().unwrap_or(0))
    }

    /// Prepares and runs `sql`; its rows.
    pub(crate) async fn query(&self, sql: &str, args: &[Arg<'_>], context: &'static str) -> Result<Vec<Row>> {
        let (params, types) = split(args);
        let prepared = self.prepare(sql, types, context).await?;
        self.query_prepared(&prepared, &params, context).await
    }

    /// Prepares and runs `sql`; its one row, if any.
    pub(crate) async fn query_opt(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        context: &'static str,
    ) -> Result<Option<Row>> {
        let mut rows = self.query(sql, args, context).await?;
        if rows.len() > 1 {
            return Err(crate::DatabaseError::new(context, "more than one row returned").into());
        }
        Ok(rows.pop())
    }

    /// Prepares and runs `sql`; how many rows it affected.
    pub(crate) async fn execute(&self, sql: &str, args: &[Arg<'_>], context: &'static str) -> Result<u64> {
        let (params, types) = split(args);
        let prepared = self.prepare(sql, types, context).await?;
        self.execute_prepared(&prepared, &params, context).await
    }

    /// Runs SQL an application wrote (a permitter's own query) with
    /// parameters whose types the server infers.
    pub(crate) async fn query_untyped(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        context: &'static str,
    ) -> Result<Vec<Row>> {
        check_param_count(params.len())?;
        self.exec.count(1);
        self.object().query(sql, params).await.map_err(|e| Error::from_db(e, context))
    }

    /// Runs SQL an application wrote; how many rows it affected.
    pub(crate) async fn execute_untyped(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        context: &'static str,
    ) -> Result<u64> {
        check_param_count(params.len())?;
        self.exec.count(1);
        self.object().execute(sql, params).await.map_err(|e| Error::from_db(e, context))
    }

    /// A statement that failed to run is not kept: the next use prepares it
    /// afresh.
    fn failed(&self, prepared: &Prepared<'_>, err: tokio_postgres::Error, context: &'static str) -> Error {
        if prepared.named.is_some() {
            self.object().statement_cache.remove(&prepared.sql, &prepared.types);
        }
        Error::from_db(err, context)
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if self.in_transaction() || self.lost.load(Ordering::SeqCst) {
            if let Some(object) = self.object.take() {
                drop(Object::take(object));
            }
        }
    }
}

fn split<'a>(args: &'a [Arg<'a>]) -> (Vec<&'a (dyn ToSql + Sync)>, Vec<Type>) {
    args.iter().map(|(v, t)| (*v, t.clone())).unzip()
}

fn typed<'a>(prepared: &Prepared<'_>, params: &[&'a (dyn ToSql + Sync)]) -> Vec<Arg<'a>> {
    params.iter().copied().zip(prepared.types.iter().cloned()).collect()
}

fn check_param_count(n: usize) -> Result<()> {
    if n > MAX_PARAMS {
        return Err(Error::validation(
            "",
            format!("the query needs {n} parameters; at most {MAX_PARAMS} are allowed"),
        ));
    }
    Ok(())
}
