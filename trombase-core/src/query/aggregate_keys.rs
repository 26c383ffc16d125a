//! JSON rows of reads with aggregates: the SQL names aggregate columns itself
//! (`#agg0`, ...), so no client text reaches SQL; here they get the
//! caller's aliases back.

use serde_json::Value as Json;

use super::SelectNode;
use crate::render::aggregate_column;

/// Renames aggregate columns to their aliases in `rows`, at every node.
pub(crate) fn restore_aliases(rows: &mut [Json], node: &SelectNode) {
    if !node.walk().iter().any(|n| n.is_aggregate()) {
        return;
    }
    for row in rows {
        restore_row(row, node);
    }
}

fn restore_row(row: &mut Json, node: &SelectNode) {
    let Json::Object(object) = row else { return };
    for (i, term) in node.aggregates.iter().enumerate() {
        if let Some(value) = object.remove(&aggregate_column(i)) {
            object.insert(term.alias.clone(), value);
        }
    }
    for embed in &node.embeds {
        match object.get_mut(embed.relation.name) {
            Some(Json::Array(items)) => items.iter_mut().for_each(|item| restore_row(item, &embed.node)),
            Some(item @ Json::Object(_)) => restore_row(item, &embed.node),
            _ => {}
        }
    }
}
