//! Filters from typed field references: `Note::TITLE.eq("x")`,
//! `Note::STARS.gt(3)`, `Note::BODY.is_null()`. Only type-correct filters
//! compile: values of the field's type, `like` on text only, `is_null` on
//! nullable fields only.

use super::{CompareOp, Filter, Predicate};
use crate::field_type::{FieldType, NotNullFieldType};
use crate::{Entity, Field};

impl<E: Entity, T: FieldType> Field<E, T> {
    fn compare(self, op: CompareOp, value: T::Inner) -> Filter<E> {
        Filter::__from_predicate(Predicate::Compare { field: self.meta(), op, value: value.to_value() })
    }

    /// `field = value`.
    pub fn eq(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Eq, value.into())
    }

    /// `field <> value`.
    pub fn ne(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Ne, value.into())
    }

    /// `field > value`.
    pub fn gt(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Gt, value.into())
    }

    /// `field >= value`.
    pub fn gte(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Gte, value.into())
    }

    /// `field < value`.
    pub fn lt(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Lt, value.into())
    }

    /// `field <= value`.
    pub fn lte(self, value: impl Into<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Lte, value.into())
    }

    /// `field IN (values)`; an empty list matches nothing.
    pub fn is_in<V: Into<T::Inner>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let values = values.into_iter().map(|v| v.into().to_value()).collect();
        Filter::__from_predicate(Predicate::In { field: self.meta(), values })
    }
}

impl<E: Entity, T: FieldType<Inner = String>> Field<E, T> {
    /// `field LIKE pattern` (text fields only).
    pub fn like(self, pattern: impl Into<String>) -> Filter<E> {
        self.compare(CompareOp::Like, pattern.into())
    }

    /// `field ILIKE pattern`: case-insensitive `like` (text fields only).
    pub fn ilike(self, pattern: impl Into<String>) -> Filter<E> {
        self.compare(CompareOp::ILike, pattern.into())
    }
}

impl<E: Entity, T: NotNullFieldType> Field<E, Option<T>> {
    /// `field IS NULL` (nullable fields only).
    pub fn is_null(self) -> Filter<E> {
        Filter::__from_predicate(Predicate::IsNull(self.meta()))
    }

    /// `field IS NOT NULL` (nullable fields only).
    pub fn not_null(self) -> Filter<E> {
        Filter::__from_predicate(Predicate::NotNull(self.meta()))
    }
}
