//! What `#[trombase::test]` expands to calls: the runtime it runs a test
//! on, and the fixture a test takes. Not public API.

use std::future::Future;

use super::{TestApp, TestDb};
use crate::TromBaseBuilder;

pub use tokio;

/// How a test configures its TromBase: the entities of
/// `#[trombase::test(entities(...))]`.
pub type Configure = fn(TromBaseBuilder) -> TromBaseBuilder;

/// The argument of a `#[trombase::test]` function.
#[diagnostic::on_unimplemented(
    message = "a `#[trombase::test]` takes `db: TestDb` or `app: TestApp`, not `{Self}`",
    label = "not `trombase::testing::TestDb` or `trombase::testing::TestApp`",
    note = "`TestDb` is a fresh empty database; `TestApp` is the app's TromBase on one, \
            with the entities of `#[trombase::test(entities(...))]`"
)]
pub trait Fixture: Sized {
    /// Makes the fixture for one test.
    fn create(configure: Configure) -> impl Future<Output = Self>;
}

/// An argument that can take the entities of `entities(...)`.
#[diagnostic::on_unimplemented(
    message = "`#[trombase::test(entities(...))]` builds a TromBase: the test takes `app: TestApp`, not `{Self}`",
    label = "takes no TromBase",
    note = "take `app: TestApp`, or drop `entities(...)` to get an empty `db: TestDb`"
)]
pub trait AppFixture: Fixture {}

impl Fixture for TestDb {
    fn create(_: Configure) -> impl Future<Output = Self> {
        TestDb::new()
    }
}

impl Fixture for TestApp {
    fn create(configure: Configure) -> impl Future<Output = Self> {
        TestApp::new(configure)
    }
}

impl AppFixture for TestApp {}

/// The fixture of a test without `entities(...)`.
pub fn fixture<F: Fixture>(configure: Configure) -> impl Future<Output = F> {
    F::create(configure)
}

/// The fixture of a test with `entities(...)`.
pub fn app_fixture<F: AppFixture>(configure: Configure) -> impl Future<Output = F> {
    F::create(configure)
}

/// The runtime a test runs on: one thread (the default), or a worker per
/// CPU with `#[trombase::test(multi_thread)]`.
pub fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().unwrap_or_else(|e| panic!("trombase::testing: no tokio runtime: {e}"))
}
