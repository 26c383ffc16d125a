//! Compile-time guarantees: each file under `ui/` is named after the rule it
//! proves, and its `.stderr` is the error a user sees.

#[test]
fn derive_entity_accepts_every_attribute() {
    trybuild::TestCases::new().pass("ui/pass/*.rs");
}

#[test]
fn derive_entity_rejects_mistakes_with_spanned_errors() {
    trybuild::TestCases::new().compile_fail("ui/entity/*.rs");
}

#[test]
fn mutations_are_typed_and_need_a_session() {
    trybuild::TestCases::new().compile_fail("ui/mutation/*.rs");
}

#[test]
fn typed_reads_reject_mistakes() {
    trybuild::TestCases::new().compile_fail("ui/select/*.rs");
}
