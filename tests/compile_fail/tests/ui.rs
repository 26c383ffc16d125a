//! Compile-time guarantees: each file under `ui/` is named after the rule it
//! proves, and its `.stderr` is the error a user sees. One `TestCases` for
//! all of them, so their shared dependencies compile once.

#[test]
fn compile_time_guarantees() {
    let cases = trybuild::TestCases::new();
    // The derive accepts every attribute...
    cases.pass("ui/pass/*.rs");
    // ...and rejects each mistake with an error at the user's tokens.
    cases.compile_fail("ui/entity/*.rs");
    // Mutations are typed and need a session.
    cases.compile_fail("ui/mutation/*.rs");
    // Typed reads reject unknown fields, wrong types, misplaced operators.
    cases.compile_fail("ui/select/*.rs");
    // `#[trombase::test]` refuses what cannot be a test, in its own words.
    cases.compile_fail("ui/test_attr/*.rs");
}
