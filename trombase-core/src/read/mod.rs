//! Reads: permissions applied to the query IR, then one statement.

mod conn;
mod permissions;

use std::sync::atomic::Ordering;

use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::client::Core;
use crate::query::SelectNode;
use crate::render::{render_select, RowForm};
use crate::{Error, Result, Session, Sql};

use conn::ReadConn;

/// Runs a read: every read permitter of the entities it touches first (a
/// deny fails it, a row filter joins that entity's WHERE everywhere), then
/// the select as one statement.
pub(crate) async fn run(
    core: &Core,
    session: &Session,
    node: &mut SelectNode,
    form: RowForm,
) -> Result<Vec<Row>> {
    let conn = ReadConn::get(&core.pool).await?;
    match permitted_rows(core, session, node, form, &conn).await {
        Ok(rows) => {
            conn.finish(&core.statements).await?;
            Ok(rows)
        }
        Err(err) => {
            conn.abort(&core.statements).await;
            Err(err)
        }
    }
}

/// The permission pass and the select, on the read's connection.
async fn permitted_rows(
    core: &Core,
    session: &Session,
    node: &mut SelectNode,
    form: RowForm,
    conn: &ReadConn,
) -> Result<Vec<Row>> {
    {
        let sql = Sql::lazy_read(conn.client(), conn.begun(), &core.statements);
        permissions::apply(node, session, &sql).await?;
    }
    let rendered = render_select(node, form);
    let statement = conn.prepare(&rendered.sql).await?;
    let params: Vec<&(dyn ToSql + Sync)> = rendered.params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    core.statements.fetch_add(1, Ordering::Relaxed);
    conn.client().query(&statement, &params).await.map_err(|e| Error::from_db(e, "running a select"))
}
