//! Pages: a read's rows with the total of rows matching it, and keyset
//! cursors. The order of a page is its order-by fields plus `id` (added
//! last, so the order is total and a page boundary never splits ties); the
//! cursor of a page is the last row's values of those fields, and the next
//! page holds the rows after it in that order: `(a, id) > (va, vid)`,
//! written out per direction with nulls where PostgreSQL puts them (last
//! ascending, first descending). Stable under inserts and deletes, and as
//! fast on page 1000 as on page 1 with an index on the order.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use serde_json::{json, Value as Json};

use super::{CompareOp, Direction, OrderKey, OrderTerm, Predicate, SelectNode};
use tokio_postgres::Row;

use crate::schema::{FieldKind, FieldMeta, Managed};
use crate::{Error, Result, Value};

/// The most order-by fields a page may have (each adds a term to every
/// later one's condition).
pub const MAX_PAGE_ORDER: usize = 8;

/// Where a page starts: an opaque token naming the last row of the page
/// before (its values of the order-by fields and `id`). Its text is
/// base64url; clients pass it back as they got it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// The cursor's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn encode(keys: &[String], values: &Json) -> Cursor {
        let text = json!({"k": keys, "v": values}).to_string();
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text))
    }

    /// The key names and values, if the text is a cursor at all.
    fn decode(&self) -> Option<(Vec<String>, Vec<Json>)> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        let json: Json = serde_json::from_slice(&bytes).ok()?;
        let keys: Option<Vec<String>> =
            json.get("k")?.as_array()?.iter().map(|k| k.as_str().map(str::to_owned)).collect();
        Some((keys?, json.get("v")?.as_array()?.clone()))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.0)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Cursor {
    type Err = std::convert::Infallible;

    /// Any text: whether it is a cursor of the query is checked when the
    /// page is read.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Cursor(s.to_owned()))
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// One page of a read: its rows, the total of rows the read matches (row
/// filters applied, the cursor and limit not), and the cursor of the next
/// page when there are more rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page<R> {
    /// The page's rows.
    pub rows: Vec<R>,
    /// How many rows the read matches in all; `None` when not asked for.
    pub total: Option<u64>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
}

/// What a page read asks for beyond its rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageSpec {
    /// Start after this cursor (the first page without one).
    pub after: Option<Cursor>,
    /// Also count the rows the read matches.
    pub total: bool,
}

/// A read prepared as a page: the node of the page's rows (order made
/// total, the cursor's condition added, one row more than the limit to know
/// whether a next page exists), the fields the cursor is made of, and the
/// node counting the total.
#[derive(Debug, Clone)]
pub struct PagePlan {
    /// The rows' read.
    pub rows: SelectNode,
    /// The fields of the order, `id` last.
    pub keys: Vec<&'static FieldMeta>,
    /// The page's own limit (the read asks for one more).
    pub limit: Option<u64>,
    /// The count of every matching row, when asked for.
    pub count: Option<SelectNode>,
}

/// Checks that `node` can be paged and makes its order total (`id` last).
/// Runs on the caller's read, before permissions, so errors name the
/// caller's mistakes.
pub(crate) fn prepare(node: &mut SelectNode) -> Result<()> {
    if node.is_aggregate() {
        return Err(Error::validation("page", "pages are of rows: a read with aggregates cannot be paged"));
    }
    let id = node
        .entity
        .meta()
        .managed(Managed::Id)
        .ok_or_else(|| Error::validation("page", "the entity has no id to page by"))?;
    if node.order.len() > MAX_PAGE_ORDER {
        return Err(Error::validation(
            "orderBy",
            format!("a page may be ordered by at most {MAX_PAGE_ORDER} fields"),
        ));
    }
    if !node.order.iter().any(|t| t.field().is_some_and(|f| f.name == id.name)) {
        node.order.push(OrderTerm { key: OrderKey::Field(id), direction: Direction::Asc });
    }
    // A page's order ends at `id`: what follows it never breaks a tie.
    let at_id = node.order.iter().position(|t| t.field().is_some_and(|f| f.name == id.name));
    node.order.truncate(at_id.map_or(node.order.len(), |i| i + 1));
    Ok(())
}

/// The plan of a page of `node` (permissions applied, order made total by
/// [`prepare`]).
pub(crate) fn plan(node: &SelectNode, spec: &PageSpec) -> Result<PagePlan> {
    let keys = node.order.iter().filter_map(OrderTerm::field).collect();
    let count = spec.total.then(|| {
        let mut count = node.clone();
        count.columns.clear();
        count.embeds.clear();
        count.order.clear();
        count.limit = None;
        count.offset = None;
        count.aggregates = vec![super::AggregateTerm {
            alias: "total".to_owned(),
            func: super::AggregateFn::Count,
            field: None,
            distinct: false,
        }];
        count
    });
    let mut rows = node.clone();
    if let Some(cursor) = &spec.after {
        let after = after(&rows.order, cursor)?;
        rows.filter = Some(match rows.filter.take() {
            None => after,
            Some(filter) => Predicate::And(vec![filter, after]),
        });
    }
    let limit = rows.limit;
    rows.limit = limit.map(|n| n.saturating_add(1));
    Ok(PagePlan { rows, keys, limit, count })
}

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
fn cursor_after(order: &[OrderTerm], values: &Json) -> Cursor {
    Cursor::encode(&key_names(order), values)
}

/// The condition "after the cursor's row" in `order`.
fn after(order: &[OrderTerm], cursor: &Cursor) -> Result<Predicate> {
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

/// A page of `rows` (at most the limit), with the cursor after the last of
/// them when the read found `more` (whose keys `keys_of` gives by index).
pub(crate) fn finish<R>(
    rows: Vec<R>,
    more: bool,
    keys_of: impl FnOnce(usize) -> Result<Json>,
    total: Option<u64>,
    order: &[OrderTerm],
) -> Result<Page<R>> {
    let next = match rows.len() {
        n if more && n > 0 => Some(cursor_after(order, &keys_of(n - 1)?)),
        _ => None,
    };
    Ok(Page { rows, total, next })
}

/// How many rows a page of `limit` keeps.
pub(crate) fn kept(limit: Option<u64>) -> usize {
    limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Reads a JSON page spec: `{"after": "<cursor>", "total": true}`, both
/// optional (`total` defaults to true). With `coerce_strings`, `total`
/// may be the text `"true"` or `"false"` (as a query string sends it).
pub(crate) fn parse_spec(json: &Json, coerce_strings: bool) -> Result<PageSpec> {
    const KEYS: &[&str] = &["after", "total"];
    let Json::Object(object) = json else {
        return Err(Error::validation(
            "page",
            "expected an object like {\"after\": \"<cursor>\", \"total\": true}",
        ));
    };
    if let Some(key) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(Error::unknown_key(format!("page.{}", crate::value::clip(key)), KEYS));
    }
    let after = match object.get("after") {
        None | Some(Json::Null) => None,
        Some(Json::String(text)) => Some(Cursor(text.clone())),
        Some(_) => return Err(Error::validation("page.after", "expected a cursor (a string)")),
    };
    let total = match object.get("total") {
        None => true,
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) if coerce_strings && (s == "true" || s == "false") => s == "true",
        Some(_) => return Err(Error::validation("page.total", "expected a boolean")),
    };
    Ok(PageSpec { after, total })
}

/// The keys of a page row in column form (columns `first..`, one per key
/// field) as the JSON array a cursor records.
pub(crate) fn column_keys(row: &Row, first: usize, keys: &[&'static FieldMeta]) -> Result<Json> {
    let mut values = Vec::with_capacity(keys.len());
    for (i, field) in keys.iter().enumerate() {
        values.push(key_value(row, first + i, field.kind)?.to_json());
    }
    Ok(Json::Array(values))
}

/// Whether a page row in column form is a row, not the one an empty page
/// comes back as (all of whose keys are null, `id` among them).
pub(crate) fn is_row(row: &Row, first: usize, keys: &[&'static FieldMeta]) -> Result<bool> {
    let Some(last) = keys.last() else { return Ok(true) };
    Ok(key_value(row, first + keys.len() - 1, last.kind)? != Value::Null)
}

fn key_value(row: &Row, i: usize, kind: FieldKind) -> Result<Value> {
    Value::from_column(row, i, kind)
        .map_err(|e| crate::DatabaseError::new("decoding a page's keys", e).into())
}

/// The keys of a page row in JSON form, taken out of its object.
pub(crate) fn json_keys(object: &mut serde_json::Map<String, Json>, n: usize) -> Json {
    Json::Array((0..n).map(|i| object.remove(&crate::render::key_column(i)).unwrap_or_default()).collect())
}
