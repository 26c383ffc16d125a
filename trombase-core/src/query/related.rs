//! Relation filters: conditions on the rows a relation leads to, as in
//! `Note::TAGS.any(Tag::LABEL.eq("rust"))` ("notes with a tag `rust`") or
//! `User::NOTES.none(Note::DONE.eq(false))`. Rendered as correlated
//! `EXISTS` subqueries, each carrying the target's read row filter (and a
//! many-via junction's), so a relation filter never tests a row the reader
//! may not read.

use super::{Filter, Predicate};
use crate::permit::EntityHandle;
use crate::schema::{EntityMeta, RelationMeta};
use crate::{Entity, Relation};

/// Which of the related rows must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// At least one related row matches (`some`).
    Some,
    /// No related row matches (`none`).
    None,
    /// Every related row matches (`every`; true when there is none).
    Every,
}

impl Quantifier {
    /// The name of the quantifier in the JSON query language.
    pub const fn json_name(self) -> &'static str {
        match self {
            Quantifier::Some => "some",
            Quantifier::None => "none",
            Quantifier::Every => "every",
        }
    }
}

/// A condition on the rows one relation leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationFilter {
    /// The entity whose rows are tested (the relation's owner).
    pub owner: &'static EntityMeta,
    /// The relation followed.
    pub relation: &'static RelationMeta,
    /// The entity it leads to.
    pub target: EntityHandle,
    /// Which related rows must match.
    pub quantifier: Quantifier,
    /// The condition on a related row (over the target's fields).
    pub filter: Predicate,
    /// The target's read row filters; the permission pass adds them.
    pub row_filters: Vec<Predicate>,
    /// A many-via junction's read row filters; the permission pass adds them.
    pub junction_filters: Vec<Predicate>,
}

impl RelationFilter {
    /// A relation filter before the permission pass.
    pub fn new(
        owner: &'static EntityMeta,
        relation: &'static RelationMeta,
        target: EntityHandle,
        quantifier: Quantifier,
        filter: Predicate,
    ) -> Self {
        RelationFilter {
            owner,
            relation,
            target,
            quantifier,
            filter,
            row_filters: Vec::new(),
            junction_filters: Vec::new(),
        }
    }
}

impl<P: Entity, T: Entity, C> Relation<P, T, C> {
    fn related(self, quantifier: Quantifier, filter: Filter<T>) -> Filter<P> {
        let related = RelationFilter::new(
            P::META,
            self.meta(),
            EntityHandle::of::<T>(),
            quantifier,
            filter.into_predicate(),
        );
        Filter::__from_predicate(Predicate::Related(Box::new(related)))
    }

    /// Rows with at least one related row matching `filter`:
    /// `Note::TAGS.any(Tag::LABEL.eq("rust"))`.
    pub fn any(self, filter: Filter<T>) -> Filter<P> {
        self.related(Quantifier::Some, filter)
    }

    /// Rows with no related row matching `filter`:
    /// `User::NOTES.none(Note::DONE.eq(false))`.
    pub fn none(self, filter: Filter<T>) -> Filter<P> {
        self.related(Quantifier::None, filter)
    }

    /// Rows whose related rows all match `filter` (also rows with none):
    /// `User::NOTES.every(Note::DONE.eq(true))`.
    pub fn every(self, filter: Filter<T>) -> Filter<P> {
        self.related(Quantifier::Every, filter)
    }

    /// Rows with at least one related row: `User::NOTES.exists()`.
    pub fn exists(self) -> Filter<P> {
        self.related(Quantifier::Some, Filter::__from_predicate(Predicate::And(Vec::new())))
    }
}
