//! TromBase's compile-time guarantees, proven with trybuild: each case
//! under `ui/` is named after the rule it proves, and its `.stderr` is the
//! error a user sees (run with `cargo test -p trombase-compile-fail`).
