//! Pages: a read's rows with the total of rows matching it, and keyset
//! cursors. The order of a page is its order-by fields plus `id` (added
//! last, so the order is total and a page boundary never splits ties); the
//! cursor of a page is the last row's values of those fields, and the next
//! page holds the rows after it in that order: `(a, id) > (va, vid)`,
//! written out per direction with nulls where PostgreSQL puts them (last
//! ascending, first descending). Stable under inserts and deletes, and as
//! fast on page 1000 as on page 1 with an index on the order.

mod cursor;
mod keys;
mod keyset;

pub use cursor::Cursor;
pub(crate) use keys::{decode_json_page, decode_page};

use serde_json::Value as Json;

use super::{Direction, OrderKey, OrderTerm, Predicate, SelectNode};
use crate::schema::{FieldMeta, Managed};
use crate::{Error, Result};

/// The most order-by fields a page may have (each adds a term to every
/// later one's condition).
pub const MAX_PAGE_ORDER: usize = 8;

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
        let after = keyset::after(&rows.order, cursor)?;
        rows.filter = Some(match rows.filter.take() {
            None => after,
            Some(filter) => Predicate::And(vec![filter, after]),
        });
    }
    let limit = rows.limit;
    rows.limit = limit.map(|n| n.saturating_add(1));
    Ok(PagePlan { rows, keys, limit, count })
}

/// A page of `rows` (at most the limit), with the cursor after the last of
/// them when the read found `more` (whose keys `keys_of` gives by index).
fn finish<R>(
    rows: Vec<R>,
    more: bool,
    keys_of: impl FnOnce(usize) -> Result<Json>,
    total: Option<u64>,
    order: &[OrderTerm],
) -> Result<Page<R>> {
    let next = match rows.len() {
        n if more && n > 0 => Some(keyset::cursor_after(order, &keys_of(n - 1)?)),
        _ => None,
    };
    Ok(Page { rows, total, next })
}

/// How many rows a page of `limit` keeps.
fn kept(limit: Option<u64>) -> usize {
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
        Some(Json::String(text)) => Some(Cursor::from_text(text)),
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
