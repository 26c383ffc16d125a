//! `#[derive(Entity)]`: attributes are parsed ([`attr`]), turned into a
//! checked IR ([`ir`]), and only then expanded ([`expand`]).

mod attr;
mod crate_casing;
mod expand;
mod ir;

use proc_macro2::TokenStream;

use crate::errors::Errors;

/// Expands the derive; on bad input, returns `compile_error!`s pointing at the
/// offending tokens (all of them, not just the first).
pub fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let entity = ir::Entity::new(&input, &mut errors);
    match (errors.finish(), entity) {
        (Ok(()), Some(entity)) => expand::entity(&entity),
        (Err(tokens), _) => tokens,
        (Ok(()), None) => TokenStream::new(),
    }
}
