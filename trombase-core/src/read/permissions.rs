//! The read permitters of a select: once per entity, before the SQL.

use crate::permit::{ErasedOp, Verdict};
use crate::query::{Predicate, SelectNode};
use crate::schema::FieldMeta;
use crate::{Error, Result, Session, Sql};

/// One entity of the select and what is asked of it.
struct Touched<'a> {
    node: &'a SelectNode,
    columns: Vec<&'static FieldMeta>,
}

/// Asks the read permitter of every entity the select touches; a deny fails
/// the read, a row filter is added to every node of that entity.
pub(super) async fn apply(root: &mut SelectNode, session: &Session, sql: &Sql<'_>) -> Result<()> {
    let mut filters: Vec<(&'static str, Predicate)> = Vec::new();
    {
        let mut touched: Vec<Touched> = Vec::new();
        for node in root.walk() {
            let asked = node.columns.iter().copied().chain(node.aggregates.iter().filter_map(|a| a.field));
            match touched.iter_mut().find(|t| t.node.entity.meta().name == node.entity.meta().name) {
                Some(t) => {
                    for field in asked {
                        if !t.columns.iter().any(|c| c.name == field.name) {
                            t.columns.push(field);
                        }
                    }
                }
                None => touched.push(Touched { node, columns: asked.collect() }),
            }
        }
        for t in &touched {
            let op = ErasedOp::Read { columns: &t.columns, filter: t.node.filter.as_ref() };
            match t.node.entity.check(session, sql, op).await? {
                Verdict::Allow => {}
                Verdict::Deny(err) => return Err(Error::Permission(err)),
                Verdict::Filter(predicate) => filters.push((t.node.entity.meta().name, predicate)),
            }
        }
    }
    for (entity, predicate) in filters {
        root.for_each_mut(&mut |node| {
            if node.entity.meta().name == entity {
                node.row_filters.push(predicate.clone());
            }
        });
    }
    Ok(())
}
