//! A [`SelectNode`] tree as one SQL statement.
//!
//! Each node pages first (its filter, order, limit and offset in an inner
//! query over its table), then embeds: relations are correlated subqueries
//! over the paged rows producing JSON (`row_to_json` for points-to,
//! `json_agg` for resolves-to-many), so no row fans out and a parent's
//! limit and offset stay exact.

use super::ident::push_quoted_ident;
use super::params::Param;
use super::source::{Join, Source};
use crate::query::{AggregateFn, Direction, OrderKey, OrderTerm, PagePlan, SelectNode};
use crate::schema::{FieldKind, FieldMeta};

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
    select_with_origins(root, form).0
}

/// [`render_select`], and where each parameter came from in `root`.
pub(super) fn select_with_origins(root: &SelectNode, form: RowForm) -> (RenderedSelect, Vec<usize>) {
    let mut r = Renderer::new(Vec::new());
    r.flat = form == RowForm::Columns;
    if form == RowForm::Json {
        r.sql.push_str("SELECT row_to_json(r) FROM (");
        r.node(root, None);
        r.sql.push_str(") r");
    } else {
        r.node(root, None);
    }
    (RenderedSelect { sql: r.sql, params: r.params }, r.origins)
}

/// Renders a page: its rows with their keys (columns `#k0`, `#k1`, ...
/// after the row's own), and with a total, the count of every matching row
/// in a last column `#total`, in the same statement: the rows are joined to
/// the one-row count, so an empty page still has its total (one row whose
/// keys are null).
pub fn render_page(page: &PagePlan, form: RowForm) -> RenderedSelect {
    page_with_origins(page, form).0
}

/// [`render_page`], and where each parameter came from in `page`.
pub(super) fn page_with_origins(page: &PagePlan, form: RowForm) -> (RenderedSelect, Vec<usize>) {
    let mut r = Renderer::new(Vec::new());
    match &page.count {
        None => {
            if form == RowForm::Json {
                r.sql.push_str("SELECT row_to_json(p) FROM (");
            }
            r.keys = page.keys.clone();
            r.flat = form == RowForm::Columns;
            r.node(&page.rows, None);
            if form == RowForm::Json {
                r.sql.push_str(") p");
            }
        }
        Some(count) => {
            r.sql.push_str(if form == RowForm::Json {
                "SELECT row_to_json(p), c."
            } else {
                "SELECT p.*, c."
            });
            push_quoted_ident(&mut r.sql, &aggregate_column(0));
            r.sql.push_str(" AS \"#total\" FROM (");
            r.node(count, None);
            r.sql.push_str(") c LEFT JOIN LATERAL (");
            r.keys = page.keys.clone();
            r.flat = form == RowForm::Columns;
            r.node(&page.rows, None);
            r.sql.push_str(") p ON TRUE");
        }
    }
    (RenderedSelect { sql: r.sql, params: r.params }, r.origins)
}

/// The statement being written.
pub(super) struct Renderer {
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
    /// Where each parameter's value lives in the tree rendered (its
    /// address): how the render cache finds them in the next read of the
    /// same shape.
    pub(super) origins: Vec<usize>,
    aliases: usize,
    /// The page keys the next node outputs (the root of a page).
    keys: Vec<&'static FieldMeta>,
    /// The next node is the root of a read returned as columns: its joined
    /// embeds come as plain columns, not JSON.
    flat: bool,
    /// The next node leads its columns with `TRUE AS "#one"` (a joined
    /// embed: the marker that its row exists).
    marker: bool,
}

impl Renderer {
    fn new(keys: Vec<&'static FieldMeta>) -> Renderer {
        Renderer {
            sql: String::with_capacity(256),
            params: Vec::new(),
            origins: Vec::new(),
            aliases: 0,
            keys,
            flat: false,
            marker: false,
        }
    }

    /// Appends `$n` for `param`, the next parameter, taken from the value
    /// at `origin` in the tree.
    pub(super) fn push_param<T>(&mut self, param: Param, origin: &T) {
        self.params.push(param);
        self.origins.push(origin as *const T as usize);
        push_number(&mut self.sql, '$', self.params.len() as u64);
    }

    pub(super) fn column(&mut self, alias: &str, field: &FieldMeta) {
        self.sql.push_str(alias);
        self.sql.push('.');
        push_quoted_ident(&mut self.sql, field.column);
    }

    fn node(&mut self, node: &SelectNode, parent: Option<Join>) {
        self.aliases += 1;
        let inner = format!("s{}", self.aliases);
        if node.is_aggregate() {
            return self.aggregate(node, &inner, parent);
        }
        let keys = std::mem::take(&mut self.keys);
        let flat = std::mem::take(&mut self.flat);
        if node.embeds.is_empty() {
            // Nothing to embed: one level, straight from the table.
            self.output_columns(node, &inner);
            self.keys_column(&keys, &inner);
            self.source_and_conditions(node, &inner, parent);
            self.order(node, &inner);
            self.page(node);
            return;
        }
        let outer = format!("t{}", self.aliases);
        self.output_columns(node, &outer);
        let mut joins = String::new();
        for (i, embed) in node.embeds.iter().enumerate() {
            self.sql.push_str(", ");
            if flat && embed.is_joined() {
                let alias = format!("{outer}j{i}");
                self.joined_embed(node, embed, &outer, &alias, &mut joins);
                continue;
            }
            self.embed(node, embed, &outer);
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, embed.relation.name);
        }
        self.keys_column(&keys, &outer);
        // Page first: the inner query keeps every column the outer needs.
        self.sql.push_str(" FROM (SELECT ");
        let mut needed: Vec<&FieldMeta> = Vec::new();
        let entity = node.entity.meta();
        let join_fields = node.embeds.iter().filter_map(|e| entity.field(e.relation.join_fields().0));
        let order_fields = node.order.iter().filter_map(OrderTerm::field);
        for field in node.columns.iter().copied().chain(join_fields).chain(order_fields).chain(keys) {
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
        self.sql.push_str(&joins);
        self.order(node, &outer);
    }

    /// A points-to embed of the root of a read returned as columns, as a
    /// join: `LEFT JOIN LATERAL (SELECT TRUE AS "#one", <columns> FROM target
    /// WHERE <join, filters>) j ON TRUE` (written into `joins`), and in the
    /// select list its marker and its columns, decoded as columns (no JSON).
    /// Elsewhere (JSON rows, nested reads) embeds stay JSON subqueries.
    fn joined_embed(
        &mut self,
        parent: &SelectNode,
        embed: &crate::query::Embed,
        parent_alias: &str,
        alias: &str,
        joins: &mut String,
    ) {
        let (owner, target) = (parent.entity.meta(), embed.node.entity.meta());
        let Some(join) = Join::new(embed.relation, owner, target, parent_alias, &embed.junction_filters)
        else {
            self.sql.push_str("NULL");
            return;
        };
        // The subquery is written aside (its parameters numbered now: the
        // numbers need not follow the text's order) and joined after FROM.
        let select_list = std::mem::take(&mut self.sql);
        self.marker = true;
        self.node(&embed.node, Some(join));
        let subquery = std::mem::replace(&mut self.sql, select_list);
        joins.push_str(" LEFT JOIN LATERAL (");
        joins.push_str(&subquery);
        joins.push_str(") ");
        joins.push_str(alias);
        joins.push_str(" ON TRUE");
        self.sql.push_str(alias);
        self.sql.push_str(".\"#one\"");
        for field in &embed.node.columns {
            self.sql.push_str(", ");
            self.sql.push_str(alias);
            self.sql.push('.');
            push_quoted_ident(&mut self.sql, field.name);
        }
    }

    fn output_columns(&mut self, node: &SelectNode, alias: &str) {
        self.sql.push_str("SELECT ");
        let marked = std::mem::take(&mut self.marker);
        if marked {
            self.sql.push_str("TRUE AS \"#one\"");
            if !node.columns.is_empty() {
                self.sql.push_str(", ");
            }
        }
        for (i, field) in node.columns.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.column(alias, field);
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, field.name);
        }
        if node.columns.is_empty() && !marked {
            self.sql.push_str("NULL AS \"_\"");
        }
    }

    /// `, alias.k0 AS "#k0", ...`: the keys of a page's rows, plain columns
    /// (nothing computed for rows the sort and limit drop).
    fn keys_column(&mut self, keys: &[&'static FieldMeta], alias: &str) {
        for (i, field) in keys.iter().enumerate() {
            self.sql.push_str(", ");
            self.column(alias, field);
            self.sql.push_str(" AS ");
            push_quoted_ident(&mut self.sql, &key_column(i));
        }
    }

    fn embed(&mut self, parent: &SelectNode, embed: &crate::query::Embed, parent_alias: &str) {
        let wrap = if embed.relation.kind.is_one() && !embed.node.is_aggregate() {
            "(SELECT row_to_json(e) FROM ("
        } else {
            "(SELECT coalesce(json_agg(e), '[]'::json) FROM ("
        };
        let (owner, target) = (parent.entity.meta(), embed.node.entity.meta());
        // Both sides were checked when the schema and the node were built.
        let Some(join) = Join::new(embed.relation, owner, target, parent_alias, &embed.junction_filters)
        else {
            self.sql.push_str("NULL");
            return;
        };
        self.sql.push_str(wrap);
        self.node(&embed.node, Some(join));
        self.sql.push_str(") e)");
    }

    /// The node's rows: its table, joined to the parent, filtered.
    fn source_and_conditions(&mut self, node: &SelectNode, alias: &str, parent: Option<Join>) {
        let source = Source {
            entity: node.entity.meta(),
            filter: node.filter.as_ref(),
            row_filters: &node.row_filters,
            failing: false,
        };
        self.source(&source, alias, parent);
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

    /// ` LIMIT n OFFSET $k`. The limit is written into the statement (an
    /// integer of the IR, never client text): PostgreSQL plans a prepared
    /// statement once only when its generic plan costs no more than a custom
    /// one, and with `LIMIT $n` it cannot know the limit, so every run would
    /// be planned again. Offsets vary page by page and stay parameters.
    fn page(&mut self, node: &SelectNode) {
        if let Some(limit) = node.limit {
            self.sql.push_str(" LIMIT");
            push_number(&mut self.sql, ' ', clamp(limit).unsigned_abs());
        }
        if let Some(offset) = node.offset.filter(|o| *o > 0) {
            self.sql.push_str(" OFFSET ");
            self.push_param(Param::Int(clamp(offset)), &node.offset);
        }
    }

    fn aggregate(&mut self, node: &SelectNode, alias: &str, parent: Option<Join>) {
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

/// The SQL name of a page row's `i`-th key column: `#k0`, ... (never a
/// plain identifier, so never a field name).
pub fn key_column(i: usize) -> String {
    format!("#k{i}")
}

/// The SQL name of a node's `i`-th aggregate column: `#agg0`, ... (never a
/// plain identifier, so never a field name or a client's alias).
pub fn aggregate_column(i: usize) -> String {
    format!("#agg{i}")
}

/// Appends `prefix` and `n` in decimal (no allocation).
pub(super) fn push_number(out: &mut String, prefix: char, n: u64) {
    use std::fmt::Write;
    let _ = write!(out, "{prefix}{n}");
}

pub(super) fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permit::EntityHandle;
    use crate::query::Predicate;
    use crate::query::{CompareOp, Embed, OrderKey, OrderTerm};
    use crate::schema::{Casing, EntityMeta, FieldKind, Managed, RelationKind, RelationMeta};
    use crate::Value;

    const fn field(
        name: &'static str,
        column: &'static str,
        kind: FieldKind,
        managed: Option<Managed>,
    ) -> FieldMeta {
        FieldMeta::for_tests(name, column, kind, managed)
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
            junction: None,
        }],
        indexes: &[],
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
        indexes: &[],
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
        users.embeds = vec![Embed::new(&USERS.relations[0], notes)];
        let rendered = render_select(&users, RowForm::Columns);
        assert_eq!(
            rendered.sql,
            "SELECT t1.\"email\" AS \"email\", (SELECT coalesce(json_agg(e), '[]'::json) FROM (\
             SELECT s2.\"title\" AS \"title\" FROM \"notes\" s2 WHERE s2.\"user_id\" = t1.\"id\" \
             ORDER BY s2.\"title\" DESC LIMIT 10) e) AS \"notes\" \
             FROM (SELECT s1.\"email\", s1.\"id\" FROM \"users\" s1 WHERE s1.\"email\" ILIKE $1 LIMIT 5 OFFSET $2) t1"
        );
        assert_eq!(rendered.params, vec![Param::Value(Value::Text("%a%".into())), Param::Int(20)]);
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

    #[test]
    fn relation_filters_carry_the_targets_row_filters_and_fence_what_is_not_leakproof() {
        use crate::query::{Quantifier, RelationFilter};
        let title = &NOTES.fields[1];
        let related = |quantifier, op| {
            let mut related = RelationFilter::new(
                &USERS,
                &USERS.relations[0],
                EntityHandle::deny_all(&NOTES),
                quantifier,
                Predicate::Compare { field: title, op, value: Value::Text("%a%".into()) },
            );
            related.row_filters = vec![Predicate::Compare {
                field: &NOTES.fields[2],
                op: CompareOp::Eq,
                value: Value::Text("me".into()),
            }];
            related
        };
        let mut users = SelectNode::new(EntityHandle::deny_all(&USERS));
        users.columns = vec![&USERS.fields[1]];
        users.filter = Some(Predicate::Related(Box::new(related(Quantifier::Some, CompareOp::ILike))));
        assert_eq!(
            render_select(&users, RowForm::Columns).sql,
            "SELECT s1.\"email\" AS \"email\" FROM \"users\" s1 WHERE EXISTS (SELECT 1 FROM (SELECT * FROM \"notes\" fs1r \
             WHERE fs1r.\"user_id\" = s1.\"id\" AND fs1r.\"user_id\" = $1 OFFSET 0) s1r WHERE s1r.\"title\" ILIKE $2)"
        );
        // Leakproof: beside the row filter; `every` looks for a related row failing it.
        users.filter = Some(Predicate::Related(Box::new(related(Quantifier::Every, CompareOp::Eq))));
        assert_eq!(
            render_select(&users, RowForm::Columns).sql,
            "SELECT s1.\"email\" AS \"email\" FROM \"users\" s1 WHERE NOT EXISTS (SELECT 1 FROM \"notes\" s1r \
             WHERE s1r.\"user_id\" = s1.\"id\" AND s1r.\"user_id\" = $1 AND (s1r.\"title\" = $2) IS NOT TRUE)"
        );
        users.filter = Some(Predicate::Related(Box::new(related(Quantifier::Every, CompareOp::Like))));
        assert_eq!(
            render_select(&users, RowForm::Columns).sql,
            "SELECT s1.\"email\" AS \"email\" FROM \"users\" s1 WHERE NOT EXISTS (SELECT 1 FROM (SELECT * FROM \"notes\" fs1r \
             WHERE fs1r.\"user_id\" = s1.\"id\" AND fs1r.\"user_id\" = $1 OFFSET 0) s1r WHERE (s1r.\"title\" LIKE $2) IS NOT TRUE)"
        );
    }

    #[test]
    fn points_to_embeds_at_the_top_of_a_typed_read_are_joins() {
        static AUTHOR: RelationMeta = RelationMeta {
            name: "author",
            kind: RelationKind::PointsTo,
            target: "users",
            foreign_key: "userId",
            key: "id",
            junction: None,
        };
        let mut author = SelectNode::new(EntityHandle::deny_all(&USERS));
        author.columns = vec![&USERS.fields[1]];
        let mut notes = SelectNode::new(EntityHandle::deny_all(&NOTES));
        notes.columns = vec![&NOTES.fields[1]];
        notes.limit = Some(5);
        notes.embeds = vec![Embed::new(&AUTHOR, author)];
        assert_eq!(
            render_select(&notes, RowForm::Columns).sql,
            "SELECT t1.\"title\" AS \"title\", t1j0.\"#one\", t1j0.\"email\" \
             FROM (SELECT s1.\"title\", s1.\"user_id\" FROM \"notes\" s1 LIMIT 5) t1 \
             LEFT JOIN LATERAL (SELECT TRUE AS \"#one\", s2.\"email\" AS \"email\" FROM \"users\" s2 \
             WHERE s2.\"id\" = t1.\"user_id\") t1j0 ON TRUE"
        );
        assert_eq!(notes.width(), 3, "the title, the marker, the email");
        // As JSON rows, the embed is one JSON value, as before.
        let json = render_select(&notes, RowForm::Json).sql;
        assert!(json.contains("(SELECT row_to_json(e) FROM (") && !json.contains("LATERAL"), "{json}");
    }
}
