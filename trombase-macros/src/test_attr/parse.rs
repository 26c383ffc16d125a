//! Reads `#[trombase::test(...)]` and the function it is on, refusing what
//! cannot become a test with an error at the tokens at fault.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, Token, Type};

use crate::errors::Errors;

const ONE_ARGUMENT: &str = "a `#[trombase::test]` function takes one argument: `db: TestDb` (a fresh, empty \
     database) or `app: TestApp` (the app's TromBase on one, with `#[trombase::test(entities(...))]`)";

/// A checked test function.
pub struct TestFn {
    /// The function as written.
    pub item: ItemFn,
    /// The pattern and type of its one argument.
    pub arg: (Pat, Type),
    /// `entities(A, B)`: the entities of the test's TromBase.
    pub entities: Option<Vec<Type>>,
    /// `multi_thread`: a runtime with a worker per CPU.
    pub multi_thread: bool,
}

impl TestFn {
    /// Parses and checks the attribute's arguments and the function.
    pub fn new(attr: TokenStream, item: TokenStream) -> Result<TestFn, TokenStream> {
        let mut errors = Errors::default();
        let (entities, multi_thread) = options(attr, &mut errors);
        let item: ItemFn = match syn::parse2(item) {
            Ok(item) => item,
            Err(e) => {
                errors.at_span(e.span(), "`#[trombase::test]` goes on an `async fn`");
                return Err(errors.finish().err().unwrap_or_default());
            }
        };
        let arg = check_fn(&item, &mut errors);
        errors.finish()?;
        match arg {
            Some(arg) => Ok(TestFn { item, arg, entities, multi_thread }),
            None => Err(TokenStream::new()),
        }
    }
}

/// `entities(A, B, ...)` and `multi_thread`, each at most once.
fn options(attr: TokenStream, errors: &mut Errors) -> (Option<Vec<Type>>, bool) {
    let mut entities: Option<Vec<Type>> = None;
    let mut multi_thread = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("entities") {
            if entities.is_some() {
                return Err(meta.error("`entities` is given twice: list them all in one `entities(...)`"));
            }
            let content;
            syn::parenthesized!(content in meta.input);
            let list = Punctuated::<Type, Token![,]>::parse_terminated(&content)?;
            if list.is_empty() {
                return Err(meta.error(
                    "`entities()` lists no entity: name the app's entities, `entities(Note, User)`, \
                     or leave `entities` out",
                ));
            }
            entities = Some(list.into_iter().collect());
            Ok(())
        } else if meta.path.is_ident("multi_thread") {
            if multi_thread {
                return Err(meta.error("`multi_thread` is given twice"));
            }
            multi_thread = true;
            Ok(())
        } else {
            Err(meta.error(format!(
                "unknown option `{}` of `#[trombase::test]`: expected `entities(...)` or `multi_thread`",
                path_text(&meta.path)
            )))
        }
    });
    if let Err(e) = parser.parse2(attr) {
        errors.push(e);
    }
    (entities, multi_thread)
}

/// Checks the function's shape; answers its one argument.
fn check_fn(item: &ItemFn, errors: &mut Errors) -> Option<(Pat, Type)> {
    let sig = &item.sig;
    for attr in item.attrs.iter().filter(|attr| is_test_attr(attr)) {
        errors.at(attr, "remove this attribute: `#[trombase::test]` already makes the function a test");
    }
    if sig.asyncness.is_none() {
        errors.at(sig.fn_token, "a `#[trombase::test]` function must be an `async fn`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.at(&sig.generics, "a `#[trombase::test]` function cannot be generic");
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(variadic, ONE_ARGUMENT);
    }
    let mut inputs = sig.inputs.iter();
    let arg = match inputs.next() {
        None => {
            errors.at_span(paren_span(item), ONE_ARGUMENT);
            None
        }
        Some(FnArg::Receiver(receiver)) => {
            errors.at(receiver, ONE_ARGUMENT);
            None
        }
        Some(FnArg::Typed(typed)) => Some(((*typed.pat).clone(), (*typed.ty).clone())),
    };
    for extra in inputs {
        errors.at(extra, ONE_ARGUMENT);
    }
    arg
}

/// `#[test]`, `#[tokio::test]` and the like.
pub fn is_test_attr(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| segment.ident == "test")
}

fn paren_span(item: &ItemFn) -> Span {
    item.sig.paren_token.span.join()
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let text = segments.join("::");
    if text.is_empty() {
        format!("{:?}", path.span())
    } else {
        text
    }
}
