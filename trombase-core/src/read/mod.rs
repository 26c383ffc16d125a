//! Reads: permissions applied to the query IR, then one statement.

mod permissions;

use tokio_postgres::Row;

use tokio_postgres::types::ToSql;

use crate::exec::{Conn, Executor, ReadFrom};
use crate::query::{check_patterns, page_plan, PageSpec, ReadLimits, SelectNode};
use crate::render::{Param, RenderCache, RenderRead, RowForm};
use crate::schema::Schema;
use crate::sql::BEGIN_READ;
use crate::{Result, Session, Sql};

/// Runs a read: every read permitter of the entities it touches first (a
/// deny fails it, a row filter joins that entity's WHERE everywhere), then
/// the select as one statement, on one of the session user's turns of the
/// pool. With `limits` (untrusted JSON reads), the rendered statement must
/// also stay within their parameter budget.
///
/// A connection the server (a failover, a proxy) dropped: nothing was
/// written, so the read runs once more on a fresh connection (a replica
/// that dropped it is left out meanwhile). The retry is a loop here, not a
/// function around the attempt: a read's future is kilobytes, and each
/// layer of `async fn` copies it once more.
pub(crate) async fn run(
    exec: &Executor,
    session: &Session,
    node: &mut SelectNode,
    read: Read<'_>,
) -> Result<Vec<Row>> {
    check_patterns(node)?;
    let Read { schema, renders, page, form, limits, from } = read;
    let mut retried = false;
    loop {
        let (conn, replica) = exec.read_conn_for(session.user_id, from).await?;
        let rows = if exec.reads_carry_the_timeout() {
            // Behind a pooler the timeout travels in a transaction: its BEGIN is
            // sent, and the read right behind it, without waiting in between.
            let (begun, rows) = futures_util::future::join(
                conn.begin_carrier(BEGIN_READ),
                permitted_rows((schema, renders), session, node, (page, form), limits, &conn),
            )
            .await;
            begun.and(rows)
        } else {
            permitted_rows((schema, renders), session, node, (page, form), limits, &conn).await
        };
        let err = match rows {
            Ok(rows) => {
                conn.end_read_only();
                return Ok(rows);
            }
            Err(err) => err,
        };
        let lost = err.is_connection_lost();
        if lost {
            conn.discard();
            match replica {
                Some(index) => exec.replica_down(index),
                None => exec.forget_idle_connections(),
            }
        }
        conn.rollback().await;
        if !lost || retried {
            return Err(err);
        }
        retried = true;
        node.forget_row_filters();
    }
}

/// How a read runs: its row form, its guard rails (untrusted JSON reads),
/// and which servers may answer it.
#[derive(Clone, Copy)]
pub(crate) struct Read<'a> {
    pub(crate) schema: &'a Schema,
    /// The statements of the read shapes seen so far.
    pub(crate) renders: &'a RenderCache,
    /// A page of the read (its order already made total), or all its rows.
    pub(crate) page: Option<&'a PageSpec>,
    pub(crate) form: RowForm,
    pub(crate) limits: Option<&'a ReadLimits>,
    pub(crate) from: ReadFrom,
}

/// The permission pass and the select, on the read's connection.
async fn permitted_rows(
    (schema, renders): (&Schema, &RenderCache),
    session: &Session,
    node: &mut SelectNode,
    (page, form): (Option<&PageSpec>, RowForm),
    limits: Option<&ReadLimits>,
    conn: &Conn<'_>,
) -> Result<Vec<Row>> {
    permissions::apply(node, schema, session, &Sql::new(conn)).await?;
    let rendered = match page {
        Some(spec) => renders.render(RenderRead::Page(&page_plan(node, spec)?, form)),
        None => renders.render(RenderRead::Select(node, form)),
    };
    if let Some(limits) = limits {
        limits.check_params(rendered.params.len())?;
    }
    const CONTEXT: &str = "running a select";
    let types = rendered.params.iter().map(Param::sql_type).collect();
    let params: Vec<&(dyn ToSql + Sync)> = rendered.params.iter().map(|p| p as _).collect();
    let statement = conn.prepare(&*rendered.sql, types, CONTEXT).await?;
    conn.query_prepared(&statement, &params, CONTEXT).await
}
