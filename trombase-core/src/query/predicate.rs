//! [`Predicate`]: a boolean condition over one entity's fields.

use std::marker::PhantomData;

use crate::schema::FieldMeta;
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
