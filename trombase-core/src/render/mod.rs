//! SQL rendering: query IR in, SQL text plus bind parameters out.

mod ident;
pub(crate) mod mutation;

pub use ident::{quote_ident, quote_literal};
