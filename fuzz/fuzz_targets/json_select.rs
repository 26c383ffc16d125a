//! The JSON select action: parse, validate against the schema, render.
//! Rendered SQL is never executed; its invariants are asserted instead.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trombase::query::{parse_select, ReadLimits};
use trombase::render::{render_select, RowForm};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = trombase::parse_json_body(data) else { return };
    let schema = trombase_fuzz::schema();
    for coerce in [false, true] {
        if let Ok(node) = parse_select(&schema, &json, &ReadLimits::default(), coerce) {
            for form in [RowForm::Columns, RowForm::Json] {
                let rendered = render_select(&node, form);
                trombase_fuzz::check_rendered(&schema, &node, &rendered.sql, rendered.params.len());
            }
        }
    }
});
