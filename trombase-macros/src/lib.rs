//! Derive macros of TromBase. Use them through the `trombase` crate:
//! `use trombase::prelude::*;` then `#[derive(Entity)]`.

mod entity;
mod errors;

use proc_macro::TokenStream;

/// Derives `trombase::Entity` for a struct with named fields.
///
/// See the `trombase` crate documentation for the attributes
/// (`#[entity]`, `#[field]`, `#[relation]`, `#[permit]`).
#[proc_macro_derive(Entity, attributes(entity, field, relation, permit))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    entity::expand(input.into()).into()
}
