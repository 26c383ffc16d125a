//! A [`Predicate`] as SQL over one table alias; values become parameters.

use super::ident::push_quoted_ident;
use super::params::Param;
use crate::query::{CompareOp, Predicate};
use crate::schema::FieldMeta;

/// Appends `predicate` (over the table aliased `alias`) to `sql`.
pub(crate) fn push_predicate(sql: &mut String, params: &mut Vec<Param>, predicate: &Predicate, alias: &str) {
    let column = |sql: &mut String, field: &FieldMeta| {
        sql.push_str(alias);
        sql.push('.');
        push_quoted_ident(sql, field.column);
    };
    match predicate {
        Predicate::Compare { field, op, value } => {
            column(sql, field);
            sql.push_str(match op {
                CompareOp::Eq => " = ",
                CompareOp::Ne => " <> ",
                CompareOp::Gt => " > ",
                CompareOp::Gte => " >= ",
                CompareOp::Lt => " < ",
                CompareOp::Lte => " <= ",
                CompareOp::Like => " LIKE ",
                CompareOp::ILike => " ILIKE ",
            });
            params.push(Param::Value(value.clone()));
            sql.push_str(&format!("${}", params.len()));
        }
        Predicate::In { values, .. } if values.is_empty() => sql.push_str("FALSE"),
        Predicate::In { field, values } => {
            column(sql, field);
            params.push(Param::List(field.kind, values.clone()));
            sql.push_str(&format!(" = ANY(${})", params.len()));
        }
        Predicate::IsNull(field) => {
            column(sql, field);
            sql.push_str(" IS NULL");
        }
        Predicate::NotNull(field) => {
            column(sql, field);
            sql.push_str(" IS NOT NULL");
        }
        Predicate::And(parts) | Predicate::Or(parts) if parts.is_empty() => {
            sql.push_str(if matches!(predicate, Predicate::And(_)) { "TRUE" } else { "FALSE" });
        }
        Predicate::And(parts) | Predicate::Or(parts) => {
            let joiner = if matches!(predicate, Predicate::And(_)) { " AND " } else { " OR " };
            sql.push('(');
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    sql.push_str(joiner);
                }
                push_predicate(sql, params, part, alias);
            }
            sql.push(')');
        }
        Predicate::Not(inner) => {
            sql.push_str("NOT (");
            push_predicate(sql, params, inner, alias);
            sql.push(')');
        }
    }
}
