//! The JSON mutation batch: parse and validate against the schema. Nothing
//! is executed; the invariant is that untrusted input never panics and is
//! either a batch of the same length or a validation error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trombase::{Error, Mutation};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = trombase::parse_json_body(data) else { return };
    let schema = trombase_fuzz::schema();
    match Mutation::parse_json_batch(&schema, &json, 1000) {
        Ok(batch) => assert_eq!(Some(batch.len()), json.as_array().map(Vec::len)),
        Err(err) => assert!(matches!(err, Error::Validation(_)), "{err:?}"),
    }
});
