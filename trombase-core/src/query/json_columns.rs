//! JSON rows written from a read's columns: the root's fields and its
//! joined embeds arrive as plain columns (PostgreSQL's binary values, no
//! `row_to_json` on the server), nested embeds as one JSON column each
//! (walked by [`json_text`](super::json_text)); each row becomes the same
//! JSON object the JSON form of the read returns, written straight into
//! the answer's bytes.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::json_text::{write_value, Malformed};
use super::shape::JsonText;
use super::SelectNode;
use crate::schema::{FieldKind, FieldMeta};
use crate::value::timestamp_text;

/// Whether [`write_rows`] can write the rows of `node`: a read that does
/// not aggregate at the top (aggregate columns keep the JSON form, where
/// PostgreSQL types their values) and returns fields (with none, the
/// columns start with a placeholder).
pub(crate) fn writes(node: &SelectNode) -> bool {
    !node.is_aggregate() && !node.columns.is_empty()
}

/// Writes `rows` of the read `node`, rendered as columns, as a JSON array
/// into `out`.
pub(crate) fn write_rows(rows: &[Row], node: &SelectNode, out: &mut Vec<u8>) -> Result<(), Malformed> {
    out.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_row(row, node, out)?;
    }
    out.push(b']');
    Ok(())
}

fn write_row(row: &Row, node: &SelectNode, out: &mut Vec<u8>) -> Result<(), Malformed> {
    out.push(b'{');
    let mut first = true;
    for (i, field) in node.columns.iter().enumerate() {
        key(out, field.name, &mut first);
        column(row, i, field, out)?;
    }
    for (k, embed) in node.embeds.iter().enumerate() {
        key(out, embed.relation.name, &mut first);
        let at = node.embed_column(k);
        if embed.is_joined() {
            // Its marker, then its columns: no marker, no row.
            let present: Option<bool> = row.try_get(at).map_err(|_| Malformed)?;
            if present.is_none() {
                out.extend_from_slice(b"null");
                continue;
            }
            out.push(b'{');
            let mut first = true;
            for (i, field) in embed.node.columns.iter().enumerate() {
                key(out, field.name, &mut first);
                column(row, at + 1 + i, field, out)?;
            }
            out.push(b'}');
        } else {
            match row.try_get::<_, Option<JsonText<'_>>>(at).map_err(|_| Malformed)? {
                Some(text) => write_value(text.0, &embed.node, out)?,
                None => out.extend_from_slice(b"null"),
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// `"name":` (names are the schema's identifiers: nothing to escape).
fn key(out: &mut Vec<u8>, name: &str, first: &mut bool) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Column `i` as JSON, as `row_to_json` writes it (floats that are not
/// numbers as the strings PostgreSQL writes), times in UTC with a `Z`.
fn column(row: &Row, i: usize, field: &FieldMeta, out: &mut Vec<u8>) -> Result<(), Malformed> {
    fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
        row: &'a Row,
        i: usize,
    ) -> Result<Option<T>, Malformed> {
        row.try_get(i).map_err(|_| Malformed)
    }
    match field.kind {
        FieldKind::Text | FieldKind::DbId => scalar(out, get::<&str>(row, i)?),
        FieldKind::I16 => scalar(out, get::<i16>(row, i)?),
        FieldKind::I32 => scalar(out, get::<i32>(row, i)?),
        FieldKind::I64 => scalar(out, get::<i64>(row, i)?),
        FieldKind::F64 => match get::<f64>(row, i)? {
            Some(x) if x.is_nan() => put(out, b"\"NaN\""),
            Some(x) if x.is_infinite() => put(out, if x > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" }),
            // PostgreSQL writes whole numbers below 10^15 without a
            // fraction (`9`, not `9.0`): so does this, so the number reads
            // back as the same JSON number.
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                if x == 0.0 && x.is_sign_negative() {
                    put(out, b"-0")
                } else {
                    scalar(out, Some(x as i64))
                }
            }
            x => scalar(out, x),
        },
        FieldKind::Bool => scalar(out, get::<bool>(row, i)?),
        FieldKind::Timestamp => match get::<DateTime<Utc>>(row, i)? {
            Some(t) => {
                out.push(b'"');
                out.extend_from_slice(timestamp_text(&t).as_bytes());
                out.push(b'"');
                Ok(())
            }
            None => put(out, b"null"),
        },
        FieldKind::Json => match get::<JsonText<'_>>(row, i)? {
            Some(text) => put(out, text.0),
            None => put(out, b"null"),
        },
    }
}

/// Bytes written as they are.
fn put(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), Malformed> {
    out.extend_from_slice(bytes);
    Ok(())
}

/// A string (escaped), a number or a boolean, or `null`.
fn scalar<T: serde::Serialize>(out: &mut Vec<u8>, value: Option<T>) -> Result<(), Malformed> {
    serde_json::to_writer(out, &value).map_err(|_| Malformed)
}
