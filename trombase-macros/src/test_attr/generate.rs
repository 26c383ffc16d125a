//! Expands a checked test function: a `#[test]` that builds a tokio
//! runtime, makes the fixture (a fresh database, or the app's TromBase on
//! one), runs the user's `async fn` on it, and drops the fixture (and with
//! it the database), also when the test panics.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::parse::TestFn;

/// The test, and a type check of its fixture for builds without `--test`
/// (where `#[test]` functions vanish before their types are checked).
pub fn test(test: &TestFn) -> TokenStream {
    let private = quote!(::trombase::testing::__private);
    let item = &test.item;
    let (attrs, vis, sig, block) = (&item.attrs, &item.vis, &item.sig, &item.block);
    let (name, output) = (&sig.ident, &sig.output);
    let ty = &test.arg.1;
    // The expansion's own names, invisible to the user's code (a test named
    // `configure` still calls itself).
    let [configure, builder, fixture] =
        ["configure", "builder", "fixture"].map(|name| Ident::new(name, Span::mixed_site()));

    let entities =
        test.entities.iter().flatten().map(|entity| quote_spanned!(entity.span()=> .entity::<#entity>()));
    let configured = quote! {
        let #configure: #private::Configure = |#builder| #builder #(#entities)*;
    };
    let make = match test.entities {
        Some(_) => quote_spanned!(ty.span()=> #private::app_fixture::<#ty>),
        None => quote_spanned!(ty.span()=> #private::fixture::<#ty>),
    };
    let multi_thread = test.multi_thread;

    quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() #output {
            #sig #block
            #configured
            #private::runtime(#multi_thread).block_on(async move {
                let #fixture = #make(#configure).await;
                #name(#fixture).await
            })
        }

        #[cfg(not(test))]
        const _: () = {
            #[allow(dead_code)]
            fn check() {
                #configured
                let _ = (#configure, #make);
            }
        };
    }
}

/// The function as the user wrote it, minus the attributes that would make
/// it a test, for when the attribute is misused.
pub fn plain(mut item: syn::ItemFn) -> TokenStream {
    item.attrs.retain(|attr| !super::parse::is_test_attr(attr));
    quote! {
        #[allow(dead_code)]
        #item
    }
}
