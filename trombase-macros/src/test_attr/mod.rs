//! `#[trombase::test]`: the attribute and the function are parsed and
//! checked ([`parse`]), and only then expanded ([`generate`]).

mod generate;
mod parse;

use proc_macro2::TokenStream;

/// Expands the attribute; on misuse, returns `compile_error!`s at the
/// user's tokens (all of them at once), next to the function as a plain
/// one (so that its imports and names still resolve, with no more noise).
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match parse::TestFn::new(attr, item.clone()) {
        Ok(test) => generate::test(&test),
        Err(mut errors) => {
            if let Ok(item) = syn::parse2::<syn::ItemFn>(item) {
                errors.extend(generate::plain(item));
            }
            errors
        }
    }
}
