//! [`Sql`]: the handle a permitter gets to run its own queries, inside the
//! transaction of the operation it is checking.

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Transaction};

use crate::{Error, Result};

/// Runs arbitrary SQL on the connection (and, for writes, in the transaction)
/// of the operation being checked, so a permitter sees what will be written
/// against.
pub struct Sql<'a> {
    conn: SqlConn<'a>,
}

enum SqlConn<'a> {
    Client(&'a Client),
    Transaction(&'a Transaction<'a>),
}

const CONTEXT: &str = "running a permitter query";

impl<'a> Sql<'a> {
    #[doc(hidden)]
    pub fn __from_client(client: &'a Client) -> Self {
        Sql { conn: SqlConn::Client(client) }
    }

    #[doc(hidden)]
    pub fn __from_transaction(transaction: &'a Transaction<'a>) -> Self {
        Sql { conn: SqlConn::Transaction(transaction) }
    }

    /// Runs a query and returns all its rows.
    pub async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let rows = match &self.conn {
            SqlConn::Client(c) => c.query(sql, params).await,
            SqlConn::Transaction(t) => t.query(sql, params).await,
        };
        rows.map_err(|e| Error::from_db(e, CONTEXT))
    }

    /// Runs a query that returns at most one row.
    pub async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let row = match &self.conn {
            SqlConn::Client(c) => c.query_opt(sql, params).await,
            SqlConn::Transaction(t) => t.query_opt(sql, params).await,
        };
        row.map_err(|e| Error::from_db(e, CONTEXT))
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let count = match &self.conn {
            SqlConn::Client(c) => c.execute(sql, params).await,
            SqlConn::Transaction(t) => t.execute(sql, params).await,
        };
        count.map_err(|e| Error::from_db(e, CONTEXT))
    }
}
