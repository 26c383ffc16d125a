//! Keyset conditions: the rows after a cursor's row in a page's order.

use serde_json::Value as Json;

use super::Cursor;
use crate::query::{CompareOp, Direction, OrderTerm, Predicate};
use crate::schema::FieldMeta;
use crate::{Error, Result, Value};

/// The names a cursor records its keys under: `-createdAt` for descending.
fn key_names(order: &[OrderTerm]) -> Vec<String> {
    order
        .iter()
        .filter_map(|t| {
            let field = t.field()?;
            Some(match t.direction {
                Direction::Asc => field.name.to_owned(),
                Direction::Desc => format!("-{}", field.name),
            })
        })
        .collect()
}

/// The cursor after a row whose key values (as the page read returns them,
/// a JSON array) are `values`.
pub(super) fn cursor_after(order: &[OrderTerm], values: &Json) -> Cursor {
    Cursor::encode(&key_names(order), values)
}

/// The condition "after the cursor's row" in `order`.
pub(super) fn after(order: &[OrderTerm], cursor: &Cursor) -> Result<Predicate> {
    const PATH: &str = "page.after";
    let invalid =
        || Error::validation(PATH, "is not a cursor of this read (pass back the `next` of its last page)");
    let (keys, values) = cursor.decode().ok_or_else(invalid)?;
    if keys != key_names(order) || values.len() != keys.len() {
        return Err(Error::validation(PATH, "is a cursor of a read in another order"));
    }
    let mut terms = Vec::with_capacity(order.len());
    for (term, json) in order.iter().zip(&values) {
        let Some(field) = term.field() else { return Err(invalid()) };
        let value = Value::from_json(field.kind, json).map_err(|m| Error::validation(PATH, m))?;
        if value == Value::Null && !field.nullable {
            return Err(invalid());
        }
        terms.push((field, term.direction, value));
    }
    // After (v1, v2, ...): past v1; or at v1 and past v2; and so on.
    let mut any = Vec::with_capacity(terms.len());
    for i in 0..terms.len() {
        let mut all: Vec<Predicate> = terms[..i].iter().map(|(f, _, v)| at(f, v)).collect();
        let (field, direction, value) = &terms[i];
        all.push(past(field, *direction, value));
        any.push(Predicate::And(all));
    }
    Ok(Predicate::Or(any))
}

fn at(field: &'static FieldMeta, value: &Value) -> Predicate {
    match value {
        Value::Null => Predicate::IsNull(field),
        value => Predicate::Compare { field, op: CompareOp::Eq, value: value.clone() },
    }
}

/// Rows past `value` in `direction`, nulls last ascending and first
/// descending (PostgreSQL's defaults).
fn past(field: &'static FieldMeta, direction: Direction, value: &Value) -> Predicate {
    match (direction, value) {
        (Direction::Asc, Value::Null) => Predicate::Or(Vec::new()),
        (Direction::Desc, Value::Null) => Predicate::NotNull(field),
        (direction, value) => {
            let op = if direction == Direction::Asc { CompareOp::Gt } else { CompareOp::Lt };
            let past = Predicate::Compare { field, op, value: value.clone() };
            if direction == Direction::Asc && field.nullable {
                Predicate::Or(vec![past, Predicate::IsNull(field)])
            } else {
                past
            }
        }
    }
}
