//! The query IR: plain data describing reads, with no SQL text.

mod predicate;

pub use predicate::{CompareOp, Filter, Predicate};
