//! [`TromBase::create_tables`](crate::TromBase::create_tables): the auth
//! tables and the schema's, where missing, in one transaction.

use tokio_postgres::types::Type;

use crate::auth::tables as auth_tables;
use crate::exec::{Conn, Executor};
use crate::schema::Schema;
use crate::Result;

const CONTEXT: &str = "creating tables";

/// Runs the DDL in one transaction, serialised against other bootstraps.
/// `CREATE ... IF NOT EXISTS` of a relation that exists makes PostgreSQL
/// send a NOTICE, which the driver logs at INFO on every start-up: the
/// transaction asks for warnings only (`SET LOCAL`, so a pooled server
/// connection keeps its own setting), and what exists already is logged
/// here, at DEBUG, when that is enabled.
pub(crate) async fn create_tables(exec: &Executor, schema: &Schema) -> Result<()> {
    let statements: Vec<String> =
        auth_tables::DDL.iter().map(|s| s.to_string()).chain(schema.ddl()).collect();
    let conn = exec.conn().await?;
    conn.begin("BEGIN").await?;
    // Serialise concurrent bootstraps: CREATE ... IF NOT EXISTS races.
    let prelude = "SET LOCAL client_min_messages = warning; SELECT pg_advisory_xact_lock(7419001)";
    conn.batch(prelude, CONTEXT).await?;
    if let Err(err) = run(&conn, &statements).await {
        conn.rollback().await;
        return Err(err);
    }
    conn.commit().await
}

async fn run(conn: &Conn<'_>, statements: &[String]) -> Result<()> {
    if tracing::enabled!(target: "trombase::schema", tracing::Level::DEBUG) {
        log_existing(conn, statements).await?;
    }
    for statement in statements {
        conn.batch(statement, CONTEXT).await?;
    }
    Ok(())
}

/// Logs which of the tables and indexes the statements create exist
/// already (their names only), and how many are new.
async fn log_existing(conn: &Conn<'_>, statements: &[String]) -> Result<()> {
    let names: Vec<&str> = statements.iter().filter_map(|s| created_relation(s)).collect();
    let sql = "SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NOT NULL";
    let rows = conn.query(sql, &[(&names, Type::TEXT_ARRAY)], CONTEXT).await?;
    let existing: Vec<&str> = rows.iter().filter_map(|row| row.try_get(0).ok()).collect();
    tracing::debug!(
        target: "trombase::schema",
        existing = existing.len(),
        missing = names.len().saturating_sub(existing.len()),
        relations = %existing.join(", "),
        "create_tables: tables and indexes that exist already are left as they are"
    );
    Ok(())
}

/// The relation a `CREATE TABLE IF NOT EXISTS` or `CREATE INDEX IF NOT
/// EXISTS` statement of the library's creates, as written (an identifier,
/// quoted where it must be).
fn created_relation(statement: &str) -> Option<&str> {
    let rest = ["CREATE TABLE IF NOT EXISTS ", "CREATE INDEX IF NOT EXISTS "]
        .iter()
        .find_map(|prefix| statement.strip_prefix(prefix))?;
    if let Some(quoted) = rest.strip_prefix('"') {
        // A quoted identifier ends at a `"` that is not doubled.
        let bytes = quoted.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                return Some(&rest[..i + 2]);
            }
            i += 1;
        }
        None
    } else {
        let end = rest.find([' ', '(']).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::created_relation;

    #[test]
    fn names_of_created_relations() {
        assert_eq!(
            created_relation("CREATE TABLE IF NOT EXISTS trom_auth_users (id text)"),
            Some("trom_auth_users")
        );
        assert_eq!(created_relation("CREATE TABLE IF NOT EXISTS \"Notes\" (\"id\" text)"), Some("\"Notes\""));
        assert_eq!(created_relation("CREATE INDEX IF NOT EXISTS \"a\"\"b\" ON x (y)"), Some("\"a\"\"b\""));
        assert_eq!(created_relation("CREATE INDEX IF NOT EXISTS notes_idx ON notes (a)"), Some("notes_idx"));
        assert_eq!(created_relation("DO $trombase$ BEGIN END $trombase$"), None);
    }
}
