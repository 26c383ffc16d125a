//! SQL rendering: query IR in, SQL text plus bind parameters out.

mod cache;
mod ident;
pub(crate) mod mutation;
mod params;
mod predicate;
mod select;
mod source;

pub(crate) use cache::{Read as RenderRead, RenderCache};
pub use ident::{quote_ident, quote_literal};
pub use params::Param;
pub(crate) use params::{kind_array_type, kind_type, RowsColumn};
pub use select::{aggregate_column, key_column, render_page, render_select, RenderedSelect, RowForm};
