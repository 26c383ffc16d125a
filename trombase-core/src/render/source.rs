//! Where a node's or a relation filter's rows come from: `FROM table alias
//! WHERE join AND caller's filter AND row filters`, with the row filters as
//! a barrier. Shared by embedded reads and relation filters, so both fence
//! the caller's conditions the same way.

use super::ident::push_quoted_ident;
use super::select::Renderer;
use crate::query::Predicate;
use crate::schema::{EntityMeta, FieldMeta, JunctionMeta, RelationKind, RelationMeta};

/// The rows read: an entity, the caller's condition on them, and the row
/// filters of the reader's permitters.
pub(super) struct Source<'a> {
    pub entity: &'static EntityMeta,
    pub filter: Option<&'a Predicate>,
    pub row_filters: &'a [Predicate],
    /// Keep only the rows on which `filter` is not true (what `every`
    /// looks for); then the filter is never split.
    pub failing: bool,
}

/// How the rows are tied to a row of the enclosing query.
pub(super) struct Join<'a> {
    /// The enclosing row's alias and the field joined on.
    pub alias: &'a str,
    pub column: &'static FieldMeta,
    /// The joined entity's field.
    pub field: &'static FieldMeta,
    /// A many-via relation's junction and its row filters.
    pub junction: Option<(&'static JunctionMeta, &'a [Predicate])>,
}

impl<'a> Join<'a> {
    /// The join of `relation` of `owner` (aliased `alias`) to `target`.
    /// `None` only for metadata the schema checks would have refused.
    pub fn new(
        relation: &'static RelationMeta,
        owner: &'static EntityMeta,
        target: &'static EntityMeta,
        alias: &'a str,
        junction_filters: &'a [Predicate],
    ) -> Option<Join<'a>> {
        let (owner_field, target_field) = relation.join_fields();
        let junction = match (relation.kind, &relation.junction) {
            (RelationKind::ManyVia, Some(junction)) => Some((junction, junction_filters)),
            (RelationKind::ManyVia, None) => return None,
            _ => None,
        };
        Some(Join { alias, column: owner.field(owner_field)?, field: target.field(target_field)?, junction })
    }
}

impl Renderer {
    /// ` FROM table alias WHERE ...`. When there are row filters and the
    /// caller's filter has conditions that are not leakproof, the table is
    /// read through a fenced subquery (`OFFSET 0` keeps the planner from
    /// pushing conditions into it) holding the join, the row filters and the
    /// caller's leakproof conditions (so indexes still serve them), and the
    /// rest of the caller's filter applies outside, to rows the reader may
    /// read. Without row filters there is nothing to fence.
    pub(super) fn source(&mut self, source: &Source, alias: &str, join: Option<Join>) {
        // Slices, not vectors: the common read (no row filter, or nothing
        // to split) renders without allocating for them.
        let (single, split);
        let (inside, outside): (&[&Predicate], &[&Predicate]) = match source.filter {
            Some(filter) if source.failing => {
                if source.row_filters.is_empty() || filter.is_leakproof() {
                    (&[], &[])
                } else {
                    single = [filter];
                    (&[], &single)
                }
            }
            Some(filter) if !source.row_filters.is_empty() => {
                split = filter.split_leakproof();
                (&split.0, &split.1)
            }
            Some(filter) => {
                single = [filter];
                (&single, &[])
            }
            None => (&[], &[]),
        };
        // `every` tests the whole filter in one place: inside unless fenced.
        let failing_inside = source.failing && outside.is_empty();
        let table = source.entity.table;
        self.sql.push_str(" FROM ");
        if outside.is_empty() {
            push_quoted_ident(&mut self.sql, table);
            self.sql.push(' ');
            self.sql.push_str(alias);
            let mut and = self.conditions(alias, join, inside.iter().copied().chain(source.row_filters));
            if failing_inside {
                if let Some(filter) = source.filter {
                    and.next(self);
                    self.not_true(filter, alias);
                }
            }
            return;
        }
        let fenced = format!("f{alias}");
        self.sql.push_str("(SELECT * FROM ");
        push_quoted_ident(&mut self.sql, table);
        self.sql.push(' ');
        self.sql.push_str(&fenced);
        self.conditions(&fenced, join, source.row_filters.iter().chain(inside.iter().copied()));
        self.sql.push_str(" OFFSET 0) ");
        self.sql.push_str(alias);
        if source.failing {
            self.sql.push_str(" WHERE ");
            if let Some(filter) = source.filter {
                self.not_true(filter, alias);
            }
        } else {
            self.conditions(alias, None, outside.iter().copied());
        }
    }

    /// `(filter) IS NOT TRUE`: false, or unknown (a null compared).
    fn not_true(&mut self, filter: &Predicate, alias: &str) {
        self.sql.push('(');
        self.predicate(filter, alias);
        self.sql.push_str(") IS NOT TRUE");
    }

    /// ` WHERE a AND b ...`: the join (if any), then `predicates`. Returns
    /// the joiner, for conditions that follow.
    fn conditions<'p>(
        &mut self,
        alias: &str,
        join: Option<Join>,
        predicates: impl Iterator<Item = &'p Predicate>,
    ) -> And {
        let mut and = And(0);
        if let Some(join) = join {
            and.next(self);
            self.join(alias, &join);
        }
        for predicate in predicates {
            and.next(self);
            self.predicate(predicate, alias);
        }
        and
    }

    /// `alias.field = parent.column`, or through a junction:
    /// `alias.field IN (SELECT j.target FROM junction j WHERE j.owner = parent.column AND ...)`.
    fn join(&mut self, alias: &str, join: &Join) {
        self.column(alias, join.field);
        let Some((junction, filters)) = join.junction else {
            self.sql.push_str(" = ");
            self.column(join.alias, join.column);
            return;
        };
        let j = format!("{alias}j");
        self.sql.push_str(" IN (SELECT ");
        self.column(&j, junction.target_field);
        self.sql.push_str(" FROM ");
        push_quoted_ident(&mut self.sql, junction.table);
        self.sql.push(' ');
        self.sql.push_str(&j);
        self.sql.push_str(" WHERE ");
        self.column(&j, junction.owner_field);
        self.sql.push_str(" = ");
        self.column(join.alias, join.column);
        for filter in filters {
            self.sql.push_str(" AND ");
            self.predicate(filter, &j);
        }
        self.sql.push(')');
    }
}

/// Writes ` WHERE ` before the first condition and ` AND ` before the rest.
pub(super) struct And(usize);

impl And {
    pub(super) fn next(&mut self, r: &mut Renderer) {
        r.sql.push_str(if self.0 == 0 { " WHERE " } else { " AND " });
        self.0 += 1;
    }
}
