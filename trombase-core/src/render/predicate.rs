//! A [`Predicate`] as SQL over one table alias; values become parameters,
//! relation filters correlated `EXISTS` subqueries.

use super::params::Param;
use super::select::Renderer;
use super::source::{Join, Source};
use crate::query::{CompareOp, Predicate, Quantifier, RelationFilter};

impl Renderer {
    /// Appends `predicate` (over the table aliased `alias`).
    pub(super) fn predicate(&mut self, predicate: &Predicate, alias: &str) {
        match predicate {
            Predicate::Compare { field, op, value } => {
                self.column(alias, field);
                self.sql.push_str(match op {
                    CompareOp::Eq => " = ",
                    CompareOp::Ne => " <> ",
                    CompareOp::Gt => " > ",
                    CompareOp::Gte => " >= ",
                    CompareOp::Lt => " < ",
                    CompareOp::Lte => " <= ",
                    CompareOp::Like => " LIKE ",
                    CompareOp::ILike => " ILIKE ",
                });
                self.push_param(Param::Value(value.clone()), value);
            }
            Predicate::In { values, .. } if values.is_empty() => self.sql.push_str("FALSE"),
            Predicate::In { field, values } => {
                self.column(alias, field);
                self.sql.push_str(" = ANY(");
                self.push_param(Param::List(field.kind, values.clone()), values);
                self.sql.push(')');
            }
            Predicate::IsNull(field) => {
                self.column(alias, field);
                self.sql.push_str(" IS NULL");
            }
            Predicate::NotNull(field) => {
                self.column(alias, field);
                self.sql.push_str(" IS NOT NULL");
            }
            Predicate::And(parts) | Predicate::Or(parts) if parts.is_empty() => {
                self.sql.push_str(if matches!(predicate, Predicate::And(_)) { "TRUE" } else { "FALSE" });
            }
            Predicate::And(parts) | Predicate::Or(parts) => {
                let joiner = if matches!(predicate, Predicate::And(_)) { " AND " } else { " OR " };
                self.sql.push('(');
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(joiner);
                    }
                    self.predicate(part, alias);
                }
                self.sql.push(')');
            }
            Predicate::Not(inner) => {
                self.sql.push_str("NOT (");
                self.predicate(inner, alias);
                self.sql.push(')');
            }
            Predicate::Related(related) => self.related(related, alias),
        }
    }

    /// `EXISTS (SELECT 1 FROM target WHERE join AND row filters AND filter)`
    /// for `some`; `NOT EXISTS` of the same for `none`; for `every`, no
    /// related row on which the filter is not true.
    fn related(&mut self, related: &RelationFilter, alias: &str) {
        let target = related.target.meta();
        let join = Join::new(related.relation, related.owner, target, alias, &related.junction_filters);
        let Some(join) = join else {
            // Refused when the schema was built; never matches rather than panic.
            self.sql.push_str("FALSE");
            return;
        };
        let every = related.quantifier == Quantifier::Every;
        let filter = match &related.filter {
            Predicate::And(parts) if parts.is_empty() => None,
            filter => Some(filter),
        };
        if every && filter.is_none() {
            self.sql.push_str("TRUE");
            return;
        }
        self.sql.push_str(if related.quantifier == Quantifier::Some {
            "EXISTS (SELECT 1"
        } else {
            "NOT EXISTS (SELECT 1"
        });
        let source = Source { entity: target, filter, row_filters: &related.row_filters, failing: every };
        self.source(&source, &format!("{alias}r"), Some(join));
        self.sql.push(')');
    }
}
