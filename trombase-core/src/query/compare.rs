//! Filters from typed field references: `Note::TITLE.eq("x")`,
//! `Note::STARS.gt(3)`, `Note::BODY.is_null()`. Only type-correct filters
//! compile: values of the field's type ([`CompareWith`]: no implicit
//! conversion), `like` on text only, `is_null` on nullable fields only.

use super::{CompareOp, Filter, Predicate};
use crate::field_type::{CompareWith, FieldType, NotNullFieldType};
use crate::{Entity, Field};

impl<E: Entity, T: FieldType, A> Field<E, T, A> {
    fn compare(self, op: CompareOp, value: T::Inner) -> Filter<E> {
        Filter::__from_predicate(Predicate::Compare { field: self.meta(), op, value: value.to_value() })
    }

    /// `field = value`.
    pub fn eq(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Eq, value.into_field_value())
    }

    /// `field <> value`.
    pub fn ne(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Ne, value.into_field_value())
    }

    /// `field > value`.
    pub fn gt(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Gt, value.into_field_value())
    }

    /// `field >= value`.
    pub fn gte(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Gte, value.into_field_value())
    }

    /// `field < value`.
    pub fn lt(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Lt, value.into_field_value())
    }

    /// `field <= value`.
    pub fn lte(self, value: impl CompareWith<T::Inner>) -> Filter<E> {
        self.compare(CompareOp::Lte, value.into_field_value())
    }

    /// `field IN (values)`; an empty list matches nothing.
    pub fn is_in<V: CompareWith<T::Inner>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let values = values.into_iter().map(|v| v.into_field_value().to_value()).collect();
        Filter::__from_predicate(Predicate::In { field: self.meta(), values })
    }
}

impl<E: Entity, T: FieldType<Inner = String>, A> Field<E, T, A> {
    /// `field LIKE pattern` (text fields only).
    pub fn like(self, pattern: impl CompareWith<String>) -> Filter<E> {
        self.compare(CompareOp::Like, pattern.into_field_value())
    }

    /// `field ILIKE pattern`: case-insensitive `like` (text fields only).
    pub fn ilike(self, pattern: impl CompareWith<String>) -> Filter<E> {
        self.compare(CompareOp::ILike, pattern.into_field_value())
    }
}

impl<E: Entity, T: NotNullFieldType, A> Field<E, Option<T>, A> {
    /// `field IS NULL` (nullable fields only).
    pub fn is_null(self) -> Filter<E> {
        Filter::__from_predicate(Predicate::IsNull(self.meta()))
    }

    /// `field IS NOT NULL` (nullable fields only).
    pub fn not_null(self) -> Filter<E> {
        Filter::__from_predicate(Predicate::NotNull(self.meta()))
    }
}
