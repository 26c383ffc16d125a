//! The last touches on JSON rows of reads, one walk per row:
//!
//! - aggregate columns: the SQL names them itself (`#agg0`, ...), so no
//!   client text reaches SQL; here they get the caller's aliases back;
//! - timestamps: PostgreSQL writes `2026-12-01T07:49:58.880675+00:00`; rows
//!   carry the TypeScript library's form, UTC with a `Z`
//!   (`2026-12-01T07:49:58.880675Z`), every digit kept, so a time sent back
//!   as a filter value is the same instant.

use serde_json::Value as Json;

use super::SelectNode;
use crate::render::aggregate_column;
use crate::schema::FieldKind;
use crate::value::{parse_timestamp, timestamp_text};

/// Finishes `rows` of the read `node`, at every level.
pub(crate) fn finish_rows(rows: &mut [Json], node: &SelectNode) {
    for row in rows {
        finish_row(row, node);
    }
}

fn finish_row(row: &mut Json, node: &SelectNode) {
    let Json::Object(object) = row else { return };
    for (i, term) in node.aggregates.iter().enumerate() {
        if let Some(mut value) = object.remove(&aggregate_column(i)) {
            if term.func.result_kind(term.field.map(|f| f.kind)) == FieldKind::Timestamp {
                utc(&mut value);
            }
            object.insert(term.alias.clone(), value);
        }
    }
    for field in node.columns.iter().filter(|f| f.kind == FieldKind::Timestamp) {
        if let Some(value) = object.get_mut(field.name) {
            utc(value);
        }
    }
    for embed in &node.embeds {
        match object.get_mut(embed.relation.name) {
            Some(Json::Array(items)) => items.iter_mut().for_each(|item| finish_row(item, &embed.node)),
            Some(item @ Json::Object(_)) => finish_row(item, &embed.node),
            _ => {}
        }
    }
}

/// A timestamp string in UTC with a `Z`.
fn utc(value: &mut Json) {
    let Json::String(text) = value else { return };
    if text.ends_with("+00:00") {
        // The common case, the server in UTC: rewritten in place.
        text.truncate(text.len() - "+00:00".len());
        text.push('Z');
    } else if !text.ends_with('Z') {
        if let Some(t) = parse_timestamp(text) {
            *text = timestamp_text(&t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::utc;
    use serde_json::json;

    #[test]
    fn timestamps_become_utc_with_a_z_and_keep_every_digit() {
        for (from, to) in [
            ("2026-12-01T07:49:58.880675+00:00", "2026-12-01T07:49:58.880675Z"),
            ("2026-12-01T09:49:58.88+02:00", "2026-12-01T07:49:58.88Z"),
            ("2026-12-01T07:49:58Z", "2026-12-01T07:49:58Z"),
        ] {
            let mut value = json!(from);
            utc(&mut value);
            assert_eq!(value, json!(to));
        }
        let mut not_a_time = json!(5);
        utc(&mut not_a_time);
        assert_eq!(not_a_time, json!(5));
    }
}
