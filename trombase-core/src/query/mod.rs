//! The query IR: plain data describing reads, with no SQL text; and the
//! typed builder that produces it.
//!
//! In the typed builder ([`Query`]), filters are methods of the fields
//! (`Note::TITLE.eq("x")`, values of the field's type only: [`CompareWith`](crate::CompareWith)),
//! and so are aggregates but the row count (`Note::count_rows()`,
//! `Note::STARS.sum()`: the table on [`Agg`]).

mod compare;
mod guard;
mod json;
mod json_columns;
mod json_rows;
mod json_text;
mod page;
mod predicate;
mod related;
mod select;
mod shape;
mod typed;

pub(crate) use guard::check_patterns;
pub use guard::{filter_terms, max_rows};
pub use json::{parse_select, ReadLimits};
pub(crate) use json_columns::{write_rows as write_column_rows, writes as columns_write_json};
pub(crate) use json_rows::finish_rows;
pub(crate) use json_text::write_rows as write_json_rows;
pub(crate) use page::{
    decode_json_page, decode_page, parse_spec as parse_page, plan as page_plan, prepare as prepare_page,
};
pub use page::{Cursor, Page, PagePlan, PageSpec, MAX_PAGE_ORDER};
pub use predicate::{CompareOp, Filter, Predicate};
pub use related::{Quantifier, RelationFilter};
pub use select::{AggregateFn, AggregateTerm, Direction, Embed, OrderKey, OrderTerm, SelectNode};
pub(crate) use shape::JsonText;
pub use shape::{Cols, ColumnValues, EmbedShape, Grouped, JsonRows, RowShape};
pub use typed::{
    count, Agg, AggregateSet, ColumnSet, EmbedSpec, GroupedQuery, Order, Ordered, Query, Root, Summable, Via,
};
