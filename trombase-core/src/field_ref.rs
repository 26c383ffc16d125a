//! Typed references to an entity's fields and relations, generated as
//! constants on the entity (`Note::TITLE`, `Note::AUTHOR`).

use std::fmt;
use std::marker::PhantomData;

use crate::field_type::FieldType;
use crate::schema::{FieldMeta, RelationMeta};
use crate::Entity;

/// The field of entity `E` whose Rust type is `T`; `A` says whether an update
/// may set it: [`Settable`] (the default), [`Immutable`]
/// (`#[field(immutable)]`) or [`Managed`] (`id`, `created_at`, `updated_at`).
///
/// A reference to a field another entity has, a comparison with a value of
/// another type, or an update of an immutable or managed field does not
/// compile.
pub struct Field<E, T, A = Settable> {
    index: usize,
    marker: PhantomData<FieldMarker<E, T, A>>,
}

type FieldMarker<E, T, A> = fn() -> (E, T, A);

/// Marks a field an update may set (see [`Field`]).
#[derive(Debug, Clone, Copy)]
pub enum Settable {}

/// Marks an `#[field(immutable)]` field: set on insert, never by an update.
#[derive(Debug, Clone, Copy)]
pub enum Immutable {}

/// Marks a field the library manages (`id`, `created_at`, `updated_at`):
/// an update never sets it.
#[derive(Debug, Clone, Copy)]
pub enum Managed {}

/// What [`Field::set`](crate::Field::set) asks of a field's access marker:
/// that it is not [`Immutable`].
#[diagnostic::on_unimplemented(
    message = "this field of `{E}` is immutable: it cannot be set in an update",
    label = "an `#[field(immutable)]` field",
    note = "an immutable field is set once, by `Mutation::insert`; it never changes after"
)]
pub trait NotImmutable<E> {}

/// What [`Field::set`](crate::Field::set) asks of a field's access marker:
/// that it is not [`Managed`].
#[diagnostic::on_unimplemented(
    message = "this field of `{E}` is managed by the library: it cannot be set in an update",
    label = "a managed field",
    note = "`id` is chosen on insert and never changes; the library sets `created_at` and `updated_at`"
)]
pub trait NotManaged<E> {}

// Hidden from the error's list of what does qualify (`do_not_recommend`,
// which compilers before 1.85 do not know and skip).
macro_rules! access {
    ($($marker:ident: $trait:ident;)*) => {$(
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl<E> $trait<E> for $marker {}
    )*};
}

access! {
    Settable: NotImmutable;
    Settable: NotManaged;
    Managed: NotImmutable;
    Immutable: NotManaged;
}

impl<E: Entity, T: FieldType, A> Field<E, T, A> {
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

impl<E, T, A> Field<E, T, A> {
    /// The field's position in the entity.
    pub const fn index(self) -> usize {
        self.index
    }
}

impl<E, T, A> Clone for Field<E, T, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T, A> Copy for Field<E, T, A> {}

impl<E: Entity, T: FieldType, A> fmt::Debug for Field<E, T, A> {
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
