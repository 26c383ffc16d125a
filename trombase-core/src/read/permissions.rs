//! The read permitters of a select: once per entity, before the SQL.
//!
//! Asked: every entity the select reads (the root and each embed), every
//! junction a many-via embed goes through, and every entity a relation
//! filter tests, whether the caller's filter names it or a row filter does
//! (those are asked in turn, until no entity is new). A deny of an entity
//! the caller's read touches fails the read; an entity only the rules look
//! through has, for that reader, no rows. Each row filter then joins every
//! place its entity is read: the nodes, the junctions, and the relation
//! filters, so a relation filter never tests a row the reader may not read.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::error::SchemaError;
use crate::permit::{Action, EntityHandle, ErasedOp, Verdict};
use crate::query::{Predicate, RelationFilter, SelectNode};
use crate::schema::{FieldMeta, RelationMeta, Schema};
use crate::{Error, Result, Session, Sql};

/// One entity to ask, and what is asked of it.
struct Touched<'a> {
    handle: EntityHandle,
    /// A node's own column list while nothing is added to it.
    columns: Cow<'a, [&'static FieldMeta]>,
    filter: Option<&'a Predicate>,
}

/// Asks the read permitter of every entity the select touches and adds
/// the row filters they answer everywhere their entities are read.
pub(super) async fn apply(
    root: &mut SelectNode,
    schema: &Schema,
    session: &Session,
    sql: &Sql<'_>,
) -> Result<()> {
    let verdicts = {
        let mut touched: Vec<Touched> = Vec::new();
        for node in root.walk() {
            // The fields ordered by are read too: a page's cursor carries their values.
            let ordered = node.order.iter().filter_map(crate::query::OrderTerm::field);
            let asked = node.aggregates.iter().filter_map(|a| a.field).chain(ordered);
            touch_node(&mut touched, node, asked);
            for embed in &node.embeds {
                if let Some(junction) = junction(schema, embed.relation)? {
                    touch(&mut touched, junction, std::iter::empty(), None);
                }
            }
            for related in node.filter.iter().flat_map(Predicate::related) {
                touch_related(&mut touched, schema, related)?;
            }
        }
        let mut filters: HashMap<&'static str, Predicate> = HashMap::new();
        let mut asked = 0;
        // The entities after these are reached only through row filters.
        let by_caller = touched.len();
        while asked < touched.len() {
            let t = &touched[asked];
            asked += 1;
            let op = ErasedOp::Read { columns: &t.columns, filter: t.filter };
            let name = t.handle.meta().name;
            match t.handle.check(session, sql, op).await? {
                Verdict::Allow => {}
                // A rule that looks through rows the reader may not read
                // sees none of them, as PostgreSQL's policies do.
                Verdict::Deny(_) if asked > by_caller => {
                    crate::trace::denied_to_rule(name);
                    filters.insert(name, Predicate::Or(Vec::new()));
                }
                Verdict::Deny(err) => {
                    let declared = t.handle.declared_actions().contains(&Action::Read);
                    crate::trace::denied(name, "read", declared);
                    return Err(Error::Permission(err));
                }
                Verdict::Filter(predicate) => {
                    for related in predicate.related() {
                        touch_related(&mut touched, schema, related)?;
                    }
                    filters.insert(name, predicate);
                }
            }
        }
        filters
    };
    if verdicts.is_empty() {
        // Every permitter allowed: no row filter to add anywhere.
        return Ok(());
    }
    let filters = RowFilters { filters: verdicts };
    root.for_each_mut(&mut |node| {
        node.row_filters.extend(filters.of(node.entity.meta().name, &mut Vec::new()));
        for embed in &mut node.embeds {
            if let Some(junction) = embed.relation.junction {
                embed.junction_filters = filters.of(junction.entity, &mut Vec::new());
            }
        }
        if let Some(filter) = &mut node.filter {
            filters.carry(filter, &mut Vec::new());
        }
    });
    Ok(())
}

/// Adds a node's entity to the entities to ask, with its columns and the
/// fields it also reads (`more`). A node first to touch its entity lends it
/// its column list, copied only when a field is added.
fn touch_node<'a>(
    touched: &mut Vec<Touched<'a>>,
    node: &'a SelectNode,
    more: impl Iterator<Item = &'static FieldMeta>,
) {
    if touched.iter().any(|t| t.handle == node.entity) {
        touch(touched, node.entity, node.columns.iter().copied().chain(more), node.filter.as_ref());
        return;
    }
    touched.push(Touched {
        handle: node.entity,
        columns: Cow::Borrowed(&node.columns),
        filter: node.filter.as_ref(),
    });
    if let Some(t) = touched.last_mut() {
        for field in more {
            add_column(&mut t.columns, field);
        }
    }
}

/// `field` added to `columns` unless it is there.
fn add_column(columns: &mut Cow<'_, [&'static FieldMeta]>, field: &'static FieldMeta) {
    if !columns.iter().any(|c| std::ptr::eq(*c, field) || c.name == field.name) {
        columns.to_mut().push(field);
    }
}

/// Adds `handle` to the entities to ask (once each), with `columns`.
fn touch<'a>(
    touched: &mut Vec<Touched<'a>>,
    handle: EntityHandle,
    columns: impl Iterator<Item = &'static FieldMeta>,
    filter: Option<&'a Predicate>,
) {
    let i = match touched.iter().position(|t| t.handle == handle) {
        Some(i) => i,
        None => {
            touched.push(Touched { handle, columns: Cow::Owned(Vec::new()), filter });
            touched.len() - 1
        }
    };
    for field in columns {
        add_column(&mut touched[i].columns, field);
    }
}

/// The target of a relation filter, and its junction, to be asked.
fn touch_related(touched: &mut Vec<Touched>, schema: &Schema, related: &RelationFilter) -> Result<()> {
    touch(touched, related.target, std::iter::empty(), None);
    if let Some(junction) = junction(schema, related.relation)? {
        touch(touched, junction, std::iter::empty(), None);
    }
    Ok(())
}

/// The registered junction entity of a many-via relation.
fn junction(schema: &Schema, relation: &RelationMeta) -> Result<Option<EntityHandle>> {
    let Some(junction) = relation.junction else { return Ok(None) };
    match schema.handle(junction.entity) {
        Some(handle) => Ok(Some(*handle)),
        None => Err(Error::Schema(SchemaError::new(format!(
            "relation `{}` goes through `{}`, which is not registered",
            relation.name, junction.entity
        )))),
    }
}

/// The row filters the permitters answered, by entity.
struct RowFilters {
    filters: HashMap<&'static str, Predicate>,
}

impl RowFilters {
    /// The row filter of `entity`, its relation filters carrying their own
    /// targets' row filters in turn. Inside an entity's own row filter, that
    /// entity's rows are tested as they are stored (the rule is being
    /// defined there: carrying it again would never end); `within` holds the
    /// entities whose row filters are being carried.
    fn of(&self, entity: &'static str, within: &mut Vec<&'static str>) -> Vec<Predicate> {
        if within.contains(&entity) {
            return Vec::new();
        }
        let Some(filter) = self.filters.get(entity) else { return Vec::new() };
        let mut filter = filter.clone();
        within.push(entity);
        self.carry(&mut filter, within);
        within.pop();
        vec![filter]
    }

    /// Gives every relation filter in `predicate` its target's and its
    /// junction's row filters.
    fn carry(&self, predicate: &mut Predicate, within: &mut Vec<&'static str>) {
        predicate.for_each_related_mut(&mut |related| {
            related.row_filters = self.of(related.target.meta().name, within);
            if let Some(junction) = related.relation.junction {
                related.junction_filters = self.of(junction.entity, within);
            }
        });
    }
}
