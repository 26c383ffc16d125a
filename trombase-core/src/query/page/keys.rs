//! A page's rows as the page read returns them: each row's keys after its
//! own columns (`#k0`, ...), the total last, and an empty page as one row
//! whose keys are null.

use serde_json::Value as Json;
use tokio_postgres::Row;

use super::{finish, kept, Page};
use crate::query::{OrderTerm, RowShape, SelectNode};
use crate::schema::{FieldKind, FieldMeta};
use crate::{DatabaseError, Result, Value};

/// The typed page of a page read's rows (column form), `node` its read.
pub(crate) fn decode_page<R: RowShape>(rows: &[Row], node: &SelectNode) -> Result<Page<R>> {
    let keys: Vec<_> = node.order.iter().filter_map(OrderTerm::field).collect();
    let keys_at = node.width();
    let total = match rows.first() {
        Some(row) => Some(count(row.try_get::<_, i64>(keys_at + keys.len()))?),
        None => None,
    };
    // One row more than the limit says there is a next page; it is not decoded.
    let (kept, mut more) = (kept(node.limit), false);
    let mut decoded = Vec::with_capacity(rows.len().min(kept));
    for row in rows {
        if !is_row(row, keys_at, &keys)? {
            continue;
        }
        if decoded.len() == kept {
            more = true;
            break;
        }
        decoded.push(R::decode_row(row, node, &mut 0)?);
    }
    finish(decoded, more, |i| column_keys(&rows[i], keys_at, &keys), total, &node.order)
}

/// The JSON page of a page read's rows (JSON form: the row object, then
/// the total when asked for), before the rows are finished.
pub(crate) fn decode_json_page(rows: &[Row], node: &SelectNode, total: bool) -> Result<Page<Json>> {
    let total = match (total, rows.first()) {
        (true, Some(row)) => Some(count(row.try_get::<_, i64>(1))?),
        _ => None,
    };
    let (mut decoded, mut keys) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
    for row in rows {
        let json: Option<Json> = row.try_get(0).map_err(|e| DatabaseError::new("decoding a JSON row", e))?;
        let Some(Json::Object(mut object)) = json else { continue };
        keys.push(json_keys(&mut object, node.order.len()));
        decoded.push(Json::Object(object));
    }
    let more = decoded.len() > kept(node.limit);
    decoded.truncate(kept(node.limit));
    finish(decoded, more, |i| Ok(std::mem::take(&mut keys[i])), total, &node.order)
}

/// A count as PostgreSQL returns it (never negative).
fn count(n: std::result::Result<i64, tokio_postgres::Error>) -> Result<u64> {
    let n = n.map_err(|e| DatabaseError::new("decoding a page's total", e))?;
    Ok(u64::try_from(n).unwrap_or_default())
}

/// The keys of a page row in column form (columns `first..`, one per key
/// field) as the JSON array a cursor records.
fn column_keys(row: &Row, first: usize, keys: &[&'static FieldMeta]) -> Result<Json> {
    let mut values = Vec::with_capacity(keys.len());
    for (i, field) in keys.iter().enumerate() {
        values.push(key_value(row, first + i, field.kind)?.to_json());
    }
    Ok(Json::Array(values))
}

/// Whether a page row in column form is a row, not the one an empty page
/// comes back as (all of whose keys are null, `id` among them).
fn is_row(row: &Row, first: usize, keys: &[&'static FieldMeta]) -> Result<bool> {
    let Some(last) = keys.last() else { return Ok(true) };
    Ok(key_value(row, first + keys.len() - 1, last.kind)? != Value::Null)
}

fn key_value(row: &Row, i: usize, kind: FieldKind) -> Result<Value> {
    Value::from_column(row, i, kind)
        .map_err(|e| crate::DatabaseError::new("decoding a page's keys", e).into())
}

/// The keys of a page row in JSON form, taken out of its object.
fn json_keys(object: &mut serde_json::Map<String, Json>, n: usize) -> Json {
    Json::Array((0..n).map(|i| object.remove(&crate::render::key_column(i)).unwrap_or_default()).collect())
}
