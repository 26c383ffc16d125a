//! What a read may cost: the rows it can return, the terms of its filters,
//! and the patterns it may send. Pure checks over the IR, run before any
//! SQL, each breach a validation error naming the limit.

use super::{CompareOp, OrderKey, Predicate, ReadLimits, SelectNode};
use crate::query::predicate::check_like_pattern;
use crate::schema::RelationKind;
use crate::{Error, Result};

/// The most rows `node` can return, embedded rows included: its limit times
/// (one plus what each of its embeds can return per row), summed down the
/// tree. A points-to embed is part of its parent's row (one object per row:
/// it adds no row, only what is embedded below it); an aggregate without
/// group-by is one row; a node without a limit is unbounded.
pub fn max_rows(node: &SelectNode) -> u128 {
    rows(node, None)
}

fn rows(node: &SelectNode, via: Option<RelationKind>) -> u128 {
    let points_to = via == Some(RelationKind::PointsTo) && !node.is_aggregate();
    let single = points_to || (node.is_aggregate() && node.columns.is_empty());
    let own = if single { 1 } else { node.limit.map_or(u128::from(u64::MAX), u128::from) };
    let per_row = node
        .embeds
        .iter()
        .map(|e| rows(&e.node, Some(e.relation.kind)))
        .fold(u128::from(!points_to), |sum, n| sum.saturating_add(n));
    own.saturating_mul(per_row)
}

/// How many filter terms the caller's filters hold, over the whole tree.
pub fn filter_terms(node: &SelectNode) -> usize {
    node.walk().iter().filter_map(|n| n.filter.as_ref()).map(Predicate::terms).sum()
}

/// Checks a parsed JSON read against the budget of `limits`.
pub(crate) fn check_budget(node: &SelectNode, limits: &ReadLimits) -> Result<()> {
    let rows = max_rows(node);
    if rows > u128::from(limits.max_rows) {
        return Err(Error::validation(
            "",
            format!(
                "the query could return {} rows with its embedded relations (the limits multiplied along \
                 each embed path, summed); at most {} are allowed: lower a limit",
                display_rows(rows),
                limits.max_rows
            ),
        ));
    }
    let terms = filter_terms(node);
    if terms > limits.max_filter_terms {
        return Err(Error::validation(
            "where",
            format!(
                "the query's filters hold {terms} terms (comparisons); at most {} are allowed",
                limits.max_filter_terms
            ),
        ));
    }
    Ok(())
}

/// Refuses, in any read, `LIKE`/`ILIKE` patterns PostgreSQL would reject
/// and orderings by an aggregate the node does not have.
pub(crate) fn check_patterns(node: &SelectNode) -> Result<()> {
    if let Some(term) =
        node.order.iter().find(|t| matches!(t.key, OrderKey::Aggregate(i) if i >= node.aggregates.len()))
    {
        let OrderKey::Aggregate(i) = term.key else { return Ok(()) };
        return Err(Error::validation(
            "orderBy",
            format!("orders by aggregate {i}, but the query has {} aggregates", node.aggregates.len()),
        ));
    }
    fn walk(predicate: &Predicate) -> Result<()> {
        match predicate {
            Predicate::Compare {
                field,
                op: CompareOp::Like | CompareOp::ILike,
                value: crate::Value::Text(p),
            } => check_like_pattern(p).map_err(|m| Error::validation(format!("where.{}", field.name), m)),
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().try_for_each(walk),
            Predicate::Not(inner) => walk(inner),
            Predicate::Related(related) => walk(&related.filter),
            _ => Ok(()),
        }
    }
    if let Some(filter) = &node.filter {
        walk(filter)?;
    }
    node.embeds.iter().try_for_each(|e| check_patterns(&e.node))
}

fn display_rows(rows: u128) -> String {
    if rows >= u128::from(u64::MAX) {
        "unboundedly many".to_owned()
    } else {
        rows.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangling_escapes_are_refused_and_escaped_backslashes_are_not() {
        assert!(check_like_pattern("abc\\").is_err());
        assert!(check_like_pattern("abc\\\\\\").is_err());
        assert!(check_like_pattern("abc\\\\").is_ok());
        assert!(check_like_pattern("a\\%b").is_ok());
        assert!(check_like_pattern("").is_ok());
    }
}
