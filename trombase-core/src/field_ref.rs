//! Typed references to an entity's fields and relations, generated as
//! constants on the entity (`Note::TITLE`, `Note::AUTHOR`).

use std::fmt;
use std::marker::PhantomData;

use crate::field_type::FieldType;
use crate::schema::{FieldMeta, RelationMeta};
use crate::Entity;

/// The field of entity `E` whose Rust type is `T`.
///
/// A reference to a field another entity has, or a comparison with a value of
/// another type, does not compile.
pub struct Field<E, T> {
    index: usize,
    marker: PhantomData<fn() -> (E, T)>,
}

impl<E: Entity, T: FieldType> Field<E, T> {
    #[doc(hidden)]
    pub const fn __new(index: usize) -> Self {
        Field { index, marker: PhantomData }
    }

    /// The field's metadata.
    pub fn meta(self) -> &'static FieldMeta {
        &E::META.fields[self.index]
    }

    /// The field's logical name (`userId`).
    pub fn name(self) -> &'static str {
        self.meta().name
    }
}

impl<E, T> Field<E, T> {
    /// The field's position in the entity.
    pub const fn index(self) -> usize {
        self.index
    }
}

impl<E, T> Clone for Field<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T> Copy for Field<E, T> {}

impl<E: Entity, T: FieldType> fmt::Debug for Field<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", E::META.rust_name, self.meta().rust_name)
    }
}

/// Marks a relation to one parent row (points-to).
#[derive(Debug, Clone, Copy)]
pub enum One {}

/// Marks a relation to many child rows (resolves-to-many).
#[derive(Debug, Clone, Copy)]
pub enum Many {}

/// The relation of entity `E` to entity `T`, of cardinality `C` ([`One`] or [`Many`]).
pub struct Relation<E, T, C> {
    index: usize,
    marker: PhantomData<RelationMarker<E, T, C>>,
}

type RelationMarker<E, T, C> = fn() -> (E, T, C);

impl<E: Entity, T: Entity, C> Relation<E, T, C> {
    #[doc(hidden)]
    pub const fn __new(index: usize) -> Self {
        Relation { index, marker: PhantomData }
    }

    /// The relation's metadata.
    pub fn meta(self) -> &'static RelationMeta {
        &E::META.relations[self.index]
    }

    /// The relation's name (`author`).
    pub fn name(self) -> &'static str {
        self.meta().name
    }
}

impl<E, T, C> Clone for Relation<E, T, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T, C> Copy for Relation<E, T, C> {}

impl<E: Entity, T: Entity, C> fmt::Debug for Relation<E, T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", E::META.rust_name, self.meta().name)
    }
}
