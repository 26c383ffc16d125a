//! [`Sql`]: the handle a permitter gets to run its own queries, inside the
//! transaction of the operation it is checking.

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::exec::Conn;
use crate::{Error, Result};

/// Runs arbitrary SQL on the connection (and in the transaction) of the
/// operation being checked, so a permitter sees what will be written
/// against. For reads, the first query opens a repeatable-read transaction
/// that the select then shares (one snapshot for both); a read whose
/// permitters never query opens none.
pub struct Sql<'a> {
    conn: &'a Conn<'a>,
    before: Option<&'a (dyn BeforeQuery + 'a)>,
}

/// What must happen before a permitter's query: a batch sends the writes it
/// holds back (several inserts sent as one), so the query sees them.
pub(crate) trait BeforeQuery: Sync {
    /// Sends what is held back.
    fn before_query(&self) -> futures_util::future::BoxFuture<'_, Result<()>>;
}

const CONTEXT: &str = "running a permitter query";

/// Opens a read snapshot on a connection that has none yet.
pub(crate) const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

impl<'a> Sql<'a> {
    /// On a connection whose transaction is open (a mutation batch), or
    /// one that opens a read snapshot on first use (a read).
    pub(crate) fn new(conn: &'a Conn<'a>) -> Self {
        Sql { conn, before: None }
    }

    /// On a batch's connection, with what must happen before each query.
    pub(crate) fn with_before(conn: &'a Conn<'a>, before: &'a (dyn BeforeQuery + 'a)) -> Self {
        Sql { conn, before: Some(before) }
    }

    /// Opens the read transaction on first use (a no-op in a batch's), and
    /// sends what a batch holds back.
    async fn ready(&self) -> Result<()> {
        if let Some(before) = self.before {
            before.before_query().await?;
        }
        self.conn.begin(BEGIN_READ).await
    }

    /// Runs a query and returns all its rows.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.ready().await?;
        self.conn.query_untyped(sql, params, CONTEXT).await
    }

    /// Runs a query that returns at most one row.
    pub async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let mut rows = self.query(sql, params).await?;
        if rows.len() > 1 {
            return Err(Error::Database(crate::DatabaseError::new(
                CONTEXT,
                "the query returned more than one row",
            )));
        }
        Ok(rows.pop())
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.ready().await?;
        self.conn.execute_untyped(sql, params, CONTEXT).await
    }
}
