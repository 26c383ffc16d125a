//! The JSON select action: parse, validate against the schema, render.
//! Rendered SQL is never executed; its invariants are asserted instead.
//! Input the parser refuses is a client error (4xx), never a server fault.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trombase::query::{parse_select, ReadLimits};
use trombase::render::{render_select, RowForm};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = trombase::parse_json_body(data) else { return };
    let schema = trombase_fuzz::schema();
    for coerce in [false, true] {
        match parse_select(&schema, &json, &ReadLimits::default(), coerce) {
            Ok(mut node) => {
                for fenced in [false, true] {
                    if fenced {
                        // As a read permitter's row filter would: the fence path.
                        trombase_fuzz::add_row_filters(&mut node);
                    }
                    for form in [RowForm::Columns, RowForm::Json] {
                        let rendered = render_select(&node, form);
                        trombase_fuzz::check_rendered(&schema, &node, &rendered.sql, rendered.params.len());
                    }
                }
            }
            Err(err) => assert!(err.http_status() < 500, "{err:?}"),
        }
    }
});
