//! A [`SelectNode`] tree as one SQL statement.
//!
//! Each node pages first (its filter, order, limit and offset in an inner
//! query over its table), then embeds: relations are correlated subqueries
//! over the paged rows producing JSON (`row_to_json` for points-to,
//! `json_agg` for resolves-to-many), so no row fans out and a parent's
//! limit and offset stay exact.

use super::ident::push_quoted_ident;
use super::params::Param;
use super::predicate::push_predicate;
use crate::query::{AggregateFn, Direction, OrderKey, OrderTerm, Predicate, SelectNode};
use crate::schema::{FieldKind, FieldMeta, RelationKind};

/// Rendered SQL and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedSelect {
    /// The statement.
    pub sql: String,
    /// Its `$n` parameters, in order.
    pub params: Vec<Param>,
}

/// How the root's rows come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowForm {
    /// One column per requested field, then one JSON column per embed.
    Columns,
    /// One JSON object per row, keyed by logical names.
    Json,
}

/// Renders a read.
pub fn render_select(root: &SelectNode, form: RowForm) -> RenderedSelect {
    let mut r = Renderer { sql: String::with_capacity(256), params: Vec::new(), aliases: 0 };
    if form == RowForm::Json {
        r.sql.push_str("SELECT row_to_json(r) FROM (");
        r.node(root, None);
        r.sql.push_str(") r");
    } else {
        r.node(root, None);
    }
    RenderedSelect { sql: r.sql, params: r.params }
}

/// How a nested node joins its parent: the parent's alias and join column,
/// and the logical name of the child's join field.
struct Parent<'a> {
    alias: &'a str,
    column: &'static FieldMeta,
    child_field: &'static str,
}

struct Renderer {
    sql: String,
    params: Vec<Param>,
    aliases: usize,
}

impl Renderer {
    fn param(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    fn column(&mut self, alias: &str, field: &FieldMeta) {
        self.sql.push_str(alias);
        self.sql.push('.');
        push_quoted_ident(&mut self.sql, field.column);
    }

    fn node(&mut self, node: &SelectNode, parent: Option<Parent>) {
        self.aliases += 1;
        let inner = format!("s{}", self.aliases);
        if node.is_aggregate() {
            return self.aggregate(node, &inner, parent);
        }
        if node.embeds.is_empty() {
            // Nothing to embed: one level, straight from the table.
            self.output_columns(node, &inner);
            self.source_and_conditions(node, &inner, parent);
            self.order(node, &inner);
            self.page(node);
            return;
        }
        let outer = format!("t{}", self.aliases);
        self.output_columns(node, &outer);
        for embed in &node.embeds {
            self.sql.push_str(", ");
            self.embed(node, embed, &outer);
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, embed.relation.name);
        }
        // Page first: the inner query keeps every column the outer needs.
        self.sql.push_str(" FROM (SELECT ");
        let mut needed: Vec<&FieldMeta> = Vec::new();
        let entity = node.entity.meta();
        let join_fields = node.embeds.iter().filter_map(|e| entity.field(e.relation.join_fields().0));
        let order_fields = node.order.iter().filter_map(OrderTerm::field);
        for field in node.columns.iter().copied().chain(join_fields).chain(order_fields) {
            if !needed.iter().any(|f| f.name == field.name) {
                needed.push(field);
            }
        }
        for (i, field) in needed.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.column(&inner, field);
        }
        self.source_and_conditions(node, &inner, parent);
        self.order(node, &inner);
        self.page(node);
        self.sql.push_str(") ");
        self.sql.push_str(&outer);
        self.order(node, &outer);
    }

    fn output_columns(&mut self, node: &SelectNode, alias: &str) {
        self.sql.push_str("SELECT ");
        for (i, field) in node.columns.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.column(alias, field);
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, field.name);
        }
        if node.columns.is_empty() {
            self.sql.push_str("NULL AS \"_\"");
        }
    }

    fn embed(&mut self, parent: &SelectNode, embed: &crate::query::Embed, parent_alias: &str) {
        let wrap = match embed.relation.kind {
            RelationKind::PointsTo if !embed.node.is_aggregate() => "(SELECT row_to_json(e) FROM (",
            _ => "(SELECT coalesce(json_agg(e), '[]'::json) FROM (",
        };
        let (parent_field, child_field) = embed.relation.join_fields();
        // Both sides were checked when the schema and the node were built.
        let Some(column) = parent.entity.meta().field(parent_field) else { return };
        self.sql.push_str(wrap);
        self.node(&embed.node, Some(Parent { alias: parent_alias, column, child_field }));
        self.sql.push_str(") e)");
    }

    /// `FROM table alias WHERE join AND filter AND row filters`, with the
    /// row filters as a barrier: when the node has row filters and the
    /// caller's filter has conditions that are not leakproof, the table is
    /// read through a fenced subquery (`OFFSET 0` keeps the planner from
    /// pushing conditions into it) holding the join, the row filters and the
    /// caller's leakproof conditions (so indexes still serve them), and the
    /// rest of the caller's filter applies outside, to rows the reader may
    /// read. Without row filters there is nothing to fence.
    fn source_and_conditions(&mut self, node: &SelectNode, alias: &str, parent: Option<Parent>) {
        let (inside, outside) = match &node.filter {
            Some(filter) if !node.row_filters.is_empty() => filter.split_leakproof(),
            Some(filter) => (vec![filter], Vec::new()),
            None => (Vec::new(), Vec::new()),
        };
        let table = node.entity.meta().table;
        self.sql.push_str(" FROM ");
        if outside.is_empty() {
            push_quoted_ident(&mut self.sql, table);
            self.sql.push(' ');
            self.sql.push_str(alias);
            let conditions = inside.into_iter().chain(node.row_filters.iter());
            self.conditions(node, alias, parent, conditions);
            return;
        }
        let fenced = format!("f{alias}");
        self.sql.push_str("(SELECT * FROM ");
        push_quoted_ident(&mut self.sql, table);
        self.sql.push(' ');
        self.sql.push_str(&fenced);
        self.conditions(node, &fenced, parent, node.row_filters.iter().chain(inside));
        self.sql.push_str(" OFFSET 0) ");
        self.sql.push_str(alias);
        self.conditions(node, alias, None, outside.into_iter());
    }

    /// ` WHERE a AND b ...`: the join to the parent (if any), then `predicates`.
    fn conditions<'p>(
        &mut self,
        node: &SelectNode,
        alias: &str,
        parent: Option<Parent>,
        predicates: impl Iterator<Item = &'p Predicate>,
    ) {
        let mut conditions = 0;
        let mut and = |r: &mut Renderer| {
            r.sql.push_str(if conditions == 0 { " WHERE " } else { " AND " });
            conditions += 1;
        };
        if let Some(parent) = parent {
            and(self);
            if let Some(child) = node.entity.meta().field(parent.child_field) {
                self.column(alias, child);
            }
            self.sql.push_str(" = ");
            self.column(parent.alias, parent.column);
        }
        for predicate in predicates {
            and(self);
            self.predicate(predicate, alias);
        }
    }

    fn predicate(&mut self, predicate: &Predicate, alias: &str) {
        let mut params = std::mem::take(&mut self.params);
        push_predicate(&mut self.sql, &mut params, predicate, alias);
        self.params = params;
    }

    fn order(&mut self, node: &SelectNode, alias: &str) {
        for (i, term) in node.order.iter().enumerate() {
            self.sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            match term.key {
                OrderKey::Field(field) => self.column(alias, field),
                OrderKey::Aggregate(i) => push_quoted_ident(&mut self.sql, &aggregate_column(i)),
            }
            self.sql.push_str(match term.direction {
                Direction::Asc => " ASC",
                Direction::Desc => " DESC",
            });
        }
    }

    fn page(&mut self, node: &SelectNode) {
        if let Some(limit) = node.limit {
            let p = self.param(Param::Int(clamp(limit)));
            self.sql.push_str(" LIMIT ");
            self.sql.push_str(&p);
        }
        if let Some(offset) = node.offset.filter(|o| *o > 0) {
            let p = self.param(Param::Int(clamp(offset)));
            self.sql.push_str(" OFFSET ");
            self.sql.push_str(&p);
        }
    }

    fn aggregate(&mut self, node: &SelectNode, alias: &str, parent: Option<Parent>) {
        self.output_columns(node, alias);
        if node.columns.is_empty() {
            // Drop the placeholder: aggregates follow directly.
            self.sql.truncate(self.sql.len() - "NULL AS \"_\"".len());
        }
        for (i, term) in node.aggregates.iter().enumerate() {
            if i > 0 || !node.columns.is_empty() {
                self.sql.push_str(", ");
            }
            self.sql.push_str(term.func.sql_name());
            self.sql.push('(');
            match term.field {
                None => self.sql.push('*'),
                Some(field) => {
                    if term.distinct {
                        self.sql.push_str("DISTINCT ");
                    }
                    self.column(alias, field);
                }
            }
            self.sql.push(')');
            let kind = term.func.result_kind(term.field.map(|f| f.kind));
            if matches!(term.func, AggregateFn::Sum | AggregateFn::Avg) {
                self.sql.push_str(if kind == FieldKind::F64 { "::double precision" } else { "::bigint" });
            }
            // The client's alias never reaches SQL: the column gets a name of
            // the library's, and the JSON keys are renamed after the read.
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, &aggregate_column(i));
        }
        self.source_and_conditions(node, alias, parent);
        for (i, field) in node.columns.iter().enumerate() {
            self.sql.push_str(if i == 0 { " GROUP BY " } else { ", " });
            self.column(alias, field);
        }
        self.order(node, alias);
        self.page(node);
    }
}

/// The SQL name of a node's `i`-th aggregate column: `#agg0`, ... (never a
/// plain identifier, so never a field name or a client's alias).
pub fn aggregate_column(i: usize) -> String {
    format!("#agg{i}")
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permit::EntityHandle;
    use crate::query::{CompareOp, Embed, OrderKey, OrderTerm};
    use crate::schema::{Casing, EntityMeta, FieldKind, Managed, RelationMeta};
    use crate::Value;

    const fn field(
        name: &'static str,
        column: &'static str,
        kind: FieldKind,
        managed: Option<Managed>,
    ) -> FieldMeta {
        FieldMeta {
            rust_name: name,
            name,
            column,
            kind,
            nullable: false,
            immutable: false,
            unique: false,
            managed,
        }
    }

    static USERS: EntityMeta = EntityMeta {
        rust_name: "User",
        name: "users",
        table: "users",
        casing: Casing::Snake,
        fields: &[
            field("id", "id", FieldKind::DbId, Some(Managed::Id)),
            field("email", "email", FieldKind::Text, None),
        ],
        relations: &[RelationMeta {
            name: "notes",
            kind: RelationKind::ResolvesToMany,
            target: "notes",
            foreign_key: "userId",
            key: "id",
        }],
    };

    static NOTES: EntityMeta = EntityMeta {
        rust_name: "Note",
        name: "notes",
        table: "notes",
        casing: Casing::Snake,
        fields: &[
            field("id", "id", FieldKind::DbId, Some(Managed::Id)),
            field("title", "title", FieldKind::Text, None),
            field("userId", "user_id", FieldKind::DbId, None),
        ],
        relations: &[],
    };

    #[test]
    fn pages_first_then_embeds() {
        let mut notes = SelectNode::new(EntityHandle::deny_all(&NOTES));
        notes.columns = vec![&NOTES.fields[1]];
        notes.order = vec![OrderTerm { key: OrderKey::Field(&NOTES.fields[1]), direction: Direction::Desc }];
        notes.limit = Some(10);
        let mut users = SelectNode::new(EntityHandle::deny_all(&USERS));
        users.columns = vec![&USERS.fields[1]];
        users.filter = Some(Predicate::Compare {
            field: &USERS.fields[1],
            op: CompareOp::ILike,
            value: Value::Text("%a%".into()),
        });
        users.limit = Some(5);
        users.offset = Some(20);
        users.embeds = vec![Embed { relation: &USERS.relations[0], node: notes }];
        let rendered = render_select(&users, RowForm::Columns);
        assert_eq!(
            rendered.sql,
            "SELECT t1.\"email\" AS \"email\", (SELECT coalesce(json_agg(e), '[]'::json) FROM (\
             SELECT s2.\"title\" AS \"title\" FROM \"notes\" s2 WHERE s2.\"user_id\" = t1.\"id\" \
             ORDER BY s2.\"title\" DESC LIMIT $1) e) AS \"notes\" \
             FROM (SELECT s1.\"email\", s1.\"id\" FROM \"users\" s1 WHERE s1.\"email\" ILIKE $2 LIMIT $3 OFFSET $4) t1"
        );
        assert_eq!(
            rendered.params,
            vec![Param::Int(10), Param::Value(Value::Text("%a%".into())), Param::Int(5), Param::Int(20)]
        );
    }

    #[test]
    fn row_filters_fence_conditions_that_are_not_leakproof() {
        let mut notes = SelectNode::new(EntityHandle::deny_all(&NOTES));
        notes.columns = vec![&NOTES.fields[1]];
        let title = &NOTES.fields[1];
        notes.filter = Some(Predicate::And(vec![
            Predicate::Compare { field: title, op: CompareOp::Ne, value: Value::Text("x".into()) },
            Predicate::Compare { field: title, op: CompareOp::Like, value: Value::Text("%a%".into()) },
        ]));
        notes.row_filters = vec![Predicate::Compare {
            field: &NOTES.fields[2],
            op: CompareOp::Eq,
            value: Value::Text("me".into()),
        }];
        let rendered = render_select(&notes, RowForm::Columns);
        assert_eq!(
            rendered.sql,
            "SELECT s1.\"title\" AS \"title\" FROM (SELECT * FROM \"notes\" fs1 \
             WHERE fs1.\"user_id\" = $1 AND fs1.\"title\" <> $2 OFFSET 0) s1 WHERE s1.\"title\" LIKE $3"
        );

        // Leakproof conditions only: nothing to fence.
        notes.filter =
            Some(Predicate::Compare { field: title, op: CompareOp::Eq, value: Value::Text("x".into()) });
        let rendered = render_select(&notes, RowForm::Columns);
        assert_eq!(
            rendered.sql,
            "SELECT s1.\"title\" AS \"title\" FROM \"notes\" s1 WHERE s1.\"title\" = $1 AND s1.\"user_id\" = $2"
        );
    }
}
