//! Derive macros of TromBase. Use them through the `trombase` crate:
//! `use trombase::prelude::*;` then `#[derive(Entity)]`.

mod entity;
mod errors;
mod test_attr;

use proc_macro::TokenStream;

/// Derives `trombase::Entity` for a struct with named fields.
///
/// See the `trombase` crate documentation for the attributes
/// (`#[entity]`, `#[field]`, `#[relation]`, `#[permit]`).
#[proc_macro_derive(Entity, attributes(entity, field, relation, permit))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    entity::expand(input.into()).into()
}

/// Makes an `async fn` taking a [`TestDb`] or a [`TestApp`] a test (like
/// `#[tokio::test]`, with no tokio macros needed): it runs on a fresh
/// database of its own, dropped when the test ends, also when it panics.
/// Needs the `testing` feature of `trombase`, where it is `trombase::test`.
///
/// ```ignore
/// use trombase::testing::{TestApp, TestDb};
///
/// #[trombase::test]
/// async fn starts_empty(db: TestDb) {
///     let client = db.client().await;
///     // ...
/// }
///
/// #[trombase::test(entities(User, Note))]
/// async fn notes_are_private(app: TestApp) {
///     let ann = app.session_for_new_user().await;
///     // ... app.as_user(&ann.session).select(...)
/// }
/// ```
///
/// Options: `entities(A, B, ...)` registers those entities on the test's
/// TromBase and creates their tables (the test takes `app: TestApp`);
/// `multi_thread` runs the test on a runtime with a worker per CPU
/// instead of the current thread. The function may return a `Result`, and
/// keeps its other attributes (`#[should_panic]`, `#[ignore]`).
///
/// [`TestDb`]: ../trombase/testing/struct.TestDb.html
/// [`TestApp`]: ../trombase/testing/struct.TestApp.html
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    test_attr::expand(attr.into(), item.into()).into()
}
