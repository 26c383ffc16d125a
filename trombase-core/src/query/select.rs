//! [`SelectNode`]: one read, as plain data. Both front ends (typed and JSON)
//! build it; permissions add to it; the renderer turns it into one statement.

use crate::permit::EntityHandle;
use crate::query::Predicate;
use crate::schema::{FieldKind, FieldMeta, RelationMeta};

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// One ordering term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTerm {
    /// What is ordered by.
    pub key: OrderKey,
    /// The direction.
    pub direction: Direction,
}

/// What a node is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKey {
    /// A field of the entity.
    Field(&'static FieldMeta),
    /// The node's `i`-th aggregate ("top 10 users by note count").
    Aggregate(usize),
}

impl OrderTerm {
    /// The field ordered by, if the term orders by a field.
    pub fn field(&self) -> Option<&'static FieldMeta> {
        match self.key {
            OrderKey::Field(field) => Some(field),
            OrderKey::Aggregate(_) => None,
        }
    }
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFn {
    /// `count(*)`, or `count(field)` (non-null values).
    Count,
    /// `sum(field)`.
    Sum,
    /// `avg(field)`.
    Avg,
    /// `min(field)`.
    Min,
    /// `max(field)`.
    Max,
}

impl AggregateFn {
    /// The SQL function name.
    pub const fn sql_name(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::Sum => "sum",
            AggregateFn::Avg => "avg",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
        }
    }

    /// The kind of the result for a field of `kind` (`None` for `count(*)`).
    pub fn result_kind(self, kind: Option<FieldKind>) -> FieldKind {
        match (self, kind) {
            (AggregateFn::Count, _) => FieldKind::I64,
            (AggregateFn::Avg, _) | (AggregateFn::Sum, Some(FieldKind::F64)) => FieldKind::F64,
            (AggregateFn::Sum, _) => FieldKind::I64,
            (_, Some(kind)) => kind,
            (_, None) => FieldKind::I64,
        }
    }
}

/// One aggregate output column.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateTerm {
    /// The output name (a key of the JSON row).
    pub alias: String,
    /// The function.
    pub func: AggregateFn,
    /// The field aggregated; `None` for `count(*)`.
    pub field: Option<&'static FieldMeta>,
    /// `count(DISTINCT field)`.
    pub distinct: bool,
}

/// A relation embedded in its parent's rows.
#[derive(Debug, Clone)]
pub struct Embed {
    /// The relation (by which the embedded rows are joined).
    pub relation: &'static RelationMeta,
    /// The embedded read.
    pub node: SelectNode,
    /// A many-via junction's read row filters; the permission pass adds them.
    pub junction_filters: Vec<Predicate>,
}

impl Embed {
    /// An embed of `node` through `relation`, before the permission pass.
    pub fn new(relation: &'static RelationMeta, node: SelectNode) -> Self {
        Embed { relation, node, junction_filters: Vec::new() }
    }

    /// Whether the embed is read by a join (`LEFT JOIN LATERAL`) instead of
    /// a correlated subquery when its parent is the root of a read returned
    /// as columns: a points-to embed of rows (not aggregates) with nothing
    /// embedded below it.
    pub fn is_joined(&self) -> bool {
        self.relation.kind.is_one() && !self.node.is_aggregate() && self.node.embeds.is_empty()
    }

    /// How many columns the embed takes in a row of its parent read as
    /// columns at the top: a joined embed its marker and its columns, any
    /// other one JSON column.
    pub fn width(&self) -> usize {
        if self.is_joined() {
            1 + self.node.columns.len()
        } else {
            1
        }
    }
}

/// One read of one entity, with everything nested under it.
#[derive(Debug, Clone)]
pub struct SelectNode {
    /// The entity read.
    pub entity: EntityHandle,
    /// The fields returned, in order.
    pub columns: Vec<&'static FieldMeta>,
    /// The caller's filter.
    pub filter: Option<Predicate>,
    /// Row filters from read permitters, added to `filter` with AND.
    pub row_filters: Vec<Predicate>,
    /// Ordering, first term first.
    pub order: Vec<OrderTerm>,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Skip this many rows.
    pub offset: Option<u64>,
    /// Embedded relations, in output order.
    pub embeds: Vec<Embed>,
    /// Aggregate outputs; when present, `columns` are the group-by fields.
    pub aggregates: Vec<AggregateTerm>,
}

impl SelectNode {
    /// A read of every field of the entity, with nothing else.
    pub fn new(entity: EntityHandle) -> SelectNode {
        SelectNode {
            entity,
            columns: entity.meta().fields.iter().collect(),
            filter: None,
            row_filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            embeds: Vec::new(),
            aggregates: Vec::new(),
        }
    }

    /// The first column of embed `index` in this node's rows, read as
    /// columns at the top.
    pub fn embed_column(&self, index: usize) -> usize {
        self.columns.len() + self.embeds.iter().take(index).map(Embed::width).sum::<usize>()
    }

    /// How many columns this node's rows have, read as columns at the top.
    pub fn width(&self) -> usize {
        self.embed_column(self.embeds.len())
    }

    /// Whether this node aggregates (then `columns` are its group-by fields).
    pub fn is_aggregate(&self) -> bool {
        !self.aggregates.is_empty()
    }

    /// Every node of the tree, this one first (depth first).
    pub fn walk(&self) -> Vec<&SelectNode> {
        let mut nodes = vec![self];
        let mut i = 0;
        while i < nodes.len() {
            nodes.extend(nodes[i].embeds.iter().map(|e| &e.node));
            i += 1;
        }
        nodes
    }

    /// Drops every row filter the permission pass added (of nodes,
    /// junctions and relation filters), to ask the permitters again.
    pub(crate) fn forget_row_filters(&mut self) {
        self.for_each_mut(&mut |node| {
            node.row_filters.clear();
            for embed in &mut node.embeds {
                embed.junction_filters.clear();
            }
            if let Some(filter) = &mut node.filter {
                filter.for_each_related_mut(&mut |related| {
                    related.row_filters.clear();
                    related.junction_filters.clear();
                });
            }
        });
    }

    /// Every node of the tree, mutably, this one first.
    pub(crate) fn for_each_mut(&mut self, f: &mut impl FnMut(&mut SelectNode)) {
        f(self);
        for embed in &mut self.embeds {
            embed.node.for_each_mut(f);
        }
    }
}
