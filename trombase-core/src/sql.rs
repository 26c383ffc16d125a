//! [`Sql`]: the handle a permitter gets to run its own queries, inside the
//! transaction of the operation it is checking.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Transaction};

use crate::{Error, Result};

/// Runs arbitrary SQL on the connection (and in the transaction) of the
/// operation being checked, so a permitter sees what will be written
/// against. For reads, the first query opens a repeatable-read transaction
/// that the select then shares (one snapshot for both); a read whose
/// permitters never query opens none.
pub struct Sql<'a> {
    conn: SqlConn<'a>,
    statements: &'a AtomicU64,
}

enum SqlConn<'a> {
    Transaction(&'a Transaction<'a>),
    LazyRead { client: &'a Client, begun: &'a AtomicBool },
}

const CONTEXT: &str = "running a permitter query";

/// Opens a read snapshot on a connection that has none yet.
pub(crate) const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

impl<'a> Sql<'a> {
    pub(crate) fn in_transaction(transaction: &'a Transaction<'a>, statements: &'a AtomicU64) -> Self {
        Sql { conn: SqlConn::Transaction(transaction), statements }
    }

    pub(crate) fn lazy_read(client: &'a Client, begun: &'a AtomicBool, statements: &'a AtomicU64) -> Self {
        Sql { conn: SqlConn::LazyRead { client, begun }, statements }
    }

    /// Opens the read transaction on first use.
    async fn ready(&self) -> Result<()> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if let SqlConn::LazyRead { client, begun } = &self.conn {
            if !begun.swap(true, Ordering::SeqCst) {
                self.statements.fetch_add(1, Ordering::Relaxed);
                client.batch_execute(BEGIN_READ).await.map_err(|e| Error::from_db(e, CONTEXT))?;
            }
        }
        Ok(())
    }

    /// Runs a query and returns all its rows.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.ready().await?;
        let rows = match &self.conn {
            SqlConn::LazyRead { client: c, .. } => c.query(sql, params).await,
            SqlConn::Transaction(t) => t.query(sql, params).await,
        };
        rows.map_err(|e| Error::from_db(e, CONTEXT))
    }

    /// Runs a query that returns at most one row.
    pub async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        self.ready().await?;
        let row = match &self.conn {
            SqlConn::LazyRead { client: c, .. } => c.query_opt(sql, params).await,
            SqlConn::Transaction(t) => t.query_opt(sql, params).await,
        };
        row.map_err(|e| Error::from_db(e, CONTEXT))
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.ready().await?;
        let count = match &self.conn {
            SqlConn::LazyRead { client: c, .. } => c.execute(sql, params).await,
            SqlConn::Transaction(t) => t.execute(sql, params).await,
        };
        count.map_err(|e| Error::from_db(e, CONTEXT))
    }
}
