//! [`Predicate`]: a boolean condition over one entity's fields.

use std::marker::PhantomData;

use super::RelationFilter;
use crate::schema::{FieldKind, FieldMeta};
use crate::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `LIKE` (text only)
    Like,
    /// `ILIKE` (text only)
    ILike,
}

/// A condition over the fields of one entity. Values are always bound as
/// parameters when rendered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Predicate {
    /// `field <op> value`.
    Compare {
        /// The field compared.
        field: &'static FieldMeta,
        /// The operator.
        op: CompareOp,
        /// The value, of the field's kind.
        value: Value,
    },
    /// `field IN (values)`; an empty list matches nothing.
    In {
        /// The field tested.
        field: &'static FieldMeta,
        /// The values, of the field's kind.
        values: Vec<Value>,
    },
    /// `field IS NULL`.
    IsNull(&'static FieldMeta),
    /// `field IS NOT NULL`.
    NotNull(&'static FieldMeta),
    /// All of these (true when empty).
    And(Vec<Predicate>),
    /// Any of these (false when empty).
    Or(Vec<Predicate>),
    /// Not this.
    Not(Box<Predicate>),
    /// A condition on the rows a relation leads to.
    Related(Box<RelationFilter>),
}

impl Predicate {
    /// Whether evaluating this on any row can neither fail nor reveal
    /// anything but its truth: made only of comparisons whose PostgreSQL
    /// functions are marked leakproof (equality and order on text, numbers,
    /// booleans, timestamps and ids; `IS NULL`). `LIKE`/`ILIKE` (which raise
    /// on a malformed pattern) and comparisons of JSON are not. Only
    /// leakproof conditions may be evaluated next to a row filter; the rest
    /// wait until it has excluded what the reader may not see, as PostgreSQL
    /// does below its own security barriers.
    pub fn is_leakproof(&self) -> bool {
        match self {
            Predicate::Compare { field, op, .. } => {
                !matches!(op, CompareOp::Like | CompareOp::ILike) && field.kind != FieldKind::Json
            }
            Predicate::In { field, .. } => field.kind != FieldKind::Json,
            Predicate::IsNull(_) | Predicate::NotNull(_) => true,
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().all(Predicate::is_leakproof),
            Predicate::Not(inner) => inner.is_leakproof(),
            // The target's row filters are the app's; what the caller adds
            // is the inner condition, evaluated (fenced) behind them.
            Predicate::Related(related) => related.filter.is_leakproof(),
        }
    }

    /// How many terms this holds, one per comparison (an `in` list is one
    /// term: one array parameter; its length has a limit of its own). What a
    /// query's filter budget counts.
    pub fn terms(&self) -> usize {
        match self {
            Predicate::Compare { .. }
            | Predicate::IsNull(_)
            | Predicate::NotNull(_)
            | Predicate::In { .. } => 1,
            Predicate::And(parts) | Predicate::Or(parts) => {
                parts.iter().map(Predicate::terms).sum::<usize>().max(1)
            }
            Predicate::Not(inner) => inner.terms(),
            // The subquery is a term of its own, plus what it tests.
            Predicate::Related(related) => 1 + related.filter.terms(),
        }
    }

    /// Calls `f` on every relation filter in this predicate, outermost
    /// first (those nested inside a relation filter's condition included).
    pub(crate) fn for_each_related_mut(&mut self, f: &mut impl FnMut(&mut RelationFilter)) {
        match self {
            Predicate::And(parts) | Predicate::Or(parts) => {
                parts.iter_mut().for_each(|p| p.for_each_related_mut(f));
            }
            Predicate::Not(inner) => inner.for_each_related_mut(f),
            Predicate::Related(related) => {
                f(related);
                related.filter.for_each_related_mut(f);
            }
            _ => {}
        }
    }

    /// Every relation filter in this predicate, outermost first.
    pub(crate) fn related(&self) -> Vec<&RelationFilter> {
        let mut found = Vec::new();
        fn walk<'a>(p: &'a Predicate, found: &mut Vec<&'a RelationFilter>) {
            match p {
                Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| walk(p, found)),
                Predicate::Not(inner) => walk(inner, found),
                Predicate::Related(related) => {
                    found.push(related);
                    walk(&related.filter, found);
                }
                _ => {}
            }
        }
        walk(self, &mut found);
        found
    }

    /// Its top-level conjuncts split into those that are leakproof and the rest.
    pub(crate) fn split_leakproof(&self) -> (Vec<&Predicate>, Vec<&Predicate>) {
        let parts: Vec<&Predicate> = match self {
            Predicate::And(parts) => parts.iter().collect(),
            other => vec![other],
        };
        parts.into_iter().partition(|p| p.is_leakproof())
    }
}

/// Checks a `LIKE`/`ILIKE` pattern: a `\` escapes the character after it,
/// so one at the very end escapes nothing, which PostgreSQL refuses (only
/// when a row reaches the comparison: the error would say something about
/// the rows). Refused before any SQL runs.
pub(crate) fn check_like_pattern(pattern: &str) -> Result<(), &'static str> {
    let mut escaped = false;
    for c in pattern.chars() {
        escaped = !escaped && c == '\\';
    }
    if escaped {
        return Err(
            "ends in an escape character (`\\`) that escapes nothing; write `\\\\` for a literal backslash",
        );
    }
    Ok(())
}

/// A [`Predicate`] over entity `E`, built from `E`'s typed field references.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter<E> {
    predicate: Predicate,
    marker: PhantomData<fn() -> E>,
}

impl<E> Filter<E> {
    #[doc(hidden)]
    pub fn __from_predicate(predicate: Predicate) -> Self {
        Filter { predicate, marker: PhantomData }
    }

    /// The untyped predicate.
    pub fn predicate(&self) -> &Predicate {
        &self.predicate
    }

    /// The untyped predicate, by value.
    pub fn into_predicate(self) -> Predicate {
        self.predicate
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter<E>) -> Self {
        Filter::__from_predicate(Predicate::And(vec![self.predicate, other.predicate]))
    }

    /// This or `other`.
    pub fn or(self, other: Filter<E>) -> Self {
        Filter::__from_predicate(Predicate::Or(vec![self.predicate, other.predicate]))
    }
}

impl<E> std::ops::Not for Filter<E> {
    type Output = Filter<E>;

    /// Not this: `!Note::DONE.eq(true)`.
    fn not(self) -> Self {
        Filter::__from_predicate(Predicate::Not(Box::new(self.predicate)))
    }
}
