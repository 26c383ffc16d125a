//! Rendered reads remembered by their shape.
//!
//! The SQL of a read depends on its shape only (the entities, fields,
//! operators, value kinds, limits and nesting), never on its values, which
//! are bind parameters. So each shape is rendered once: the next read of
//! that shape walks its tree for a key and for its values, and takes the
//! statement from the cache, with its parameters in the order the
//! renderer put them.
//!
//! How a parameter is found again: when a shape is rendered, the renderer
//! notes the address in the tree of each value it binds, and the shape's
//! walk lists the same places (in its own, fixed, order); the entry keeps,
//! per parameter, the place it came from. A shape whose parameters do not
//! all come from such places is not cached. Debug builds render every
//! cached read again and compare.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::params::Param;
use super::select::{clamp, page_with_origins, select_with_origins};
use super::RowForm;
use crate::hash::KeyHash;
use crate::query::{OrderKey, PagePlan, Predicate, SelectNode};
use crate::schema::FieldKind;
use crate::Value;

/// The most shapes remembered; past it the cache starts again (a client of
/// the JSON API can make up new shapes at will: they cost it a render, and
/// the server no more than a bounded map).
pub(crate) const MAX_SHAPES: usize = 1024;

/// A read to render: a select or a page, and the form of its rows.
#[derive(Clone, Copy)]
pub(crate) enum Read<'a> {
    Select(&'a SelectNode, RowForm),
    Page(&'a PagePlan, RowForm),
}

/// A rendered read: its SQL (shared with the cache) and its parameters.
pub(crate) struct Statement {
    pub(crate) sql: Arc<str>,
    pub(crate) params: Vec<Param>,
}

/// The statements of the shapes seen so far.
#[derive(Default)]
pub(crate) struct RenderCache {
    shapes: RwLock<HashMap<Vec<usize>, Entry, KeyHash>>,
}

/// One shape's statement, and where each of its parameters comes from:
/// an index into the places the shape's walk lists.
struct Entry {
    sql: Arc<str>,
    slots: Vec<u32>,
}

impl RenderCache {
    /// The statement of `read`: from the cache when its shape was rendered
    /// before, else rendered (and remembered).
    pub(crate) fn render(&self, read: Read<'_>) -> Statement {
        let shape = Shape::of(read);
        let cached = self.shapes.read().unwrap_or_else(|e| e.into_inner()).get(&shape.key).map(|entry| {
            let params = entry.slots.iter().map(|&i| shape.places[i as usize].param()).collect();
            Statement { sql: Arc::clone(&entry.sql), params }
        });
        if let Some(statement) = cached {
            #[cfg(debug_assertions)]
            {
                let (fresh, _) = render(read);
                assert_eq!(*statement.sql, *fresh.sql, "a cached statement differs from its render");
                // As text: a NaN parameter is not equal to itself.
                let (cached, rendered) = (format!("{:?}", statement.params), format!("{:?}", fresh.params));
                assert_eq!(cached, rendered, "a cached statement's parameters differ");
            }
            return statement;
        }
        let (rendered, origins) = render(read);
        let sql: Arc<str> = rendered.sql.into();
        if let Some(slots) = shape.slots_of(&origins) {
            let mut shapes = self.shapes.write().unwrap_or_else(|e| e.into_inner());
            if shapes.len() >= MAX_SHAPES {
                shapes.clear();
            }
            shapes.insert(shape.key, Entry { sql: Arc::clone(&sql), slots });
        }
        Statement { sql, params: rendered.params }
    }

    /// Shapes remembered (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shapes.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn render(read: Read<'_>) -> (super::RenderedSelect, Vec<usize>) {
    match read {
        Read::Select(node, form) => select_with_origins(node, form),
        Read::Page(page, form) => page_with_origins(page, form),
    }
}

/// A read's shape: a key that tells every shape apart (tagged, and every
/// list led by its length, so no two shapes write the same words), and the
/// places of its values, in the walk's order.
struct Shape<'a> {
    key: Vec<usize>,
    places: Vec<Place<'a>>,
}

/// Where a parameter's value can come from.
enum Place<'a> {
    Value(&'a Value),
    List(FieldKind, &'a Vec<Value>),
    Offset(&'a Option<u64>),
}

impl Place<'_> {
    fn address(&self) -> usize {
        match self {
            Place::Value(value) => *value as *const Value as usize,
            Place::List(_, values) => *values as *const Vec<Value> as usize,
            Place::Offset(offset) => *offset as *const Option<u64> as usize,
        }
    }

    fn param(&self) -> Param {
        match self {
            Place::Value(value) => Param::Value((*value).clone()),
            Place::List(kind, values) => Param::List(*kind, (*values).clone()),
            Place::Offset(offset) => Param::Int(clamp(offset.unwrap_or(0))),
        }
    }
}

// Tags of the key's parts.
const NODE: usize = 1;
const COMPARE: usize = 2;
const IN: usize = 3;
const IS_NULL: usize = 4;
const NOT_NULL: usize = 5;
const AND: usize = 6;
const OR: usize = 7;
const NOT: usize = 8;
const RELATED: usize = 9;
const NONE: usize = 10;
const SOME: usize = 11;

impl<'a> Shape<'a> {
    fn of(read: Read<'a>) -> Shape<'a> {
        let mut shape = Shape { key: Vec::with_capacity(32), places: Vec::new() };
        match read {
            Read::Select(node, form) => {
                shape.key.extend([0, form as usize]);
                shape.node(node);
            }
            Read::Page(page, form) => {
                shape.key.extend([1, form as usize, page.keys.len()]);
                shape.key.extend(page.keys.iter().map(|f| ptr(*f)));
                shape.node(&page.rows);
                match &page.count {
                    Some(count) => {
                        shape.key.push(SOME);
                        shape.node(count);
                    }
                    None => shape.key.push(NONE),
                }
            }
        }
        shape
    }

    /// For each parameter of a render (by its origin), the place it came
    /// from; `None` when one came from elsewhere.
    fn slots_of(&self, origins: &[usize]) -> Option<Vec<u32>> {
        let index: HashMap<usize, usize> =
            self.places.iter().enumerate().map(|(i, p)| (p.address(), i)).collect();
        origins.iter().map(|origin| u32::try_from(*index.get(origin)?).ok()).collect()
    }

    fn node(&mut self, node: &'a SelectNode) {
        self.key.extend([NODE, ptr(node.entity.meta()), node.columns.len()]);
        self.key.extend(node.columns.iter().map(|f| ptr(*f)));
        self.key.push(node.aggregates.len());
        for term in &node.aggregates {
            self.key.extend([term.func as usize, term.field.map_or(0, ptr), term.distinct as usize]);
        }
        match &node.filter {
            Some(filter) => {
                self.key.push(SOME);
                self.predicate(filter);
            }
            None => self.key.push(NONE),
        }
        self.predicates(&node.row_filters);
        self.key.push(node.order.len());
        for term in &node.order {
            match term.key {
                OrderKey::Field(field) => self.key.extend([0, ptr(field)]),
                OrderKey::Aggregate(i) => self.key.extend([1, i]),
            }
            self.key.push(term.direction as usize);
        }
        match node.limit {
            Some(limit) => self.key.extend([SOME, limit as usize, (limit >> 32) as usize]),
            None => self.key.push(NONE),
        }
        match node.offset {
            Some(offset) if offset > 0 => {
                self.key.push(SOME);
                self.places.push(Place::Offset(&node.offset));
            }
            _ => self.key.push(NONE),
        }
        self.key.push(node.embeds.len());
        for embed in &node.embeds {
            self.key.push(ptr(embed.relation));
            self.predicates(&embed.junction_filters);
            self.node(&embed.node);
        }
    }

    fn predicates(&mut self, predicates: &'a [Predicate]) {
        self.key.push(predicates.len());
        for predicate in predicates {
            self.predicate(predicate);
        }
    }

    fn predicate(&mut self, predicate: &'a Predicate) {
        match predicate {
            Predicate::Compare { field, op, value } => {
                let kind = value.kind().map_or(0, |k| k as usize + 1);
                self.key.extend([COMPARE, ptr(*field), *op as usize, kind]);
                self.places.push(Place::Value(value));
            }
            Predicate::In { field, values } => {
                self.key.extend([IN, ptr(*field), values.is_empty() as usize]);
                self.places.push(Place::List(field.kind, values));
            }
            Predicate::IsNull(field) => self.key.extend([IS_NULL, ptr(*field)]),
            Predicate::NotNull(field) => self.key.extend([NOT_NULL, ptr(*field)]),
            Predicate::And(parts) => {
                self.key.push(AND);
                self.predicates(parts);
            }
            Predicate::Or(parts) => {
                self.key.push(OR);
                self.predicates(parts);
            }
            Predicate::Not(inner) => {
                self.key.push(NOT);
                self.predicate(inner);
            }
            Predicate::Related(related) => {
                self.key.extend([
                    RELATED,
                    ptr(related.owner),
                    ptr(related.relation),
                    ptr(related.target.meta()),
                    related.quantifier as usize,
                ]);
                self.predicate(&related.filter);
                self.predicates(&related.row_filters);
                self.predicates(&related.junction_filters);
            }
        }
    }
}

fn ptr<T>(r: &T) -> usize {
    r as *const T as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permit::EntityHandle;
    use crate::query::CompareOp;
    use crate::schema::{Casing, EntityMeta, FieldMeta};

    const fn field(name: &'static str, kind: FieldKind) -> FieldMeta {
        FieldMeta::for_tests(name, name, kind, None)
    }

    static NOTES: EntityMeta = EntityMeta {
        rust_name: "Note",
        name: "notes",
        table: "notes",
        casing: Casing::Snake,
        fields: &[field("id", FieldKind::DbId), field("title", FieldKind::Text), field("n", FieldKind::I64)],
        relations: &[],
        indexes: &[],
    };

    fn node(filter: Predicate, offset: Option<u64>) -> SelectNode {
        let mut node = SelectNode::new(EntityHandle::deny_all(&NOTES));
        node.filter = Some(filter);
        node.offset = offset;
        node
    }

    fn compare(field: usize, op: CompareOp, value: Value) -> Predicate {
        Predicate::Compare { field: &NOTES.fields[field], op, value }
    }

    #[test]
    fn a_shape_is_rendered_once_and_its_values_bound_in_the_renderers_order() {
        let cache = RenderCache::default();
        let read = |title: &str, n: i64, offset| {
            node(
                Predicate::Or(vec![
                    compare(2, CompareOp::Gt, Value::I64(n)),
                    compare(1, CompareOp::Eq, Value::Text(title.into())),
                ]),
                offset,
            )
        };
        let first = read("a", 1, Some(5));
        let one = cache.render(Read::Select(&first, RowForm::Columns));
        let second = read("b", 2, Some(7));
        let two = cache.render(Read::Select(&second, RowForm::Columns));
        assert_eq!(cache.len(), 1);
        assert!(Arc::ptr_eq(&one.sql, &two.sql), "the second read of the shape is not rendered again");
        assert_eq!(
            two.params,
            vec![Param::Value(Value::I64(2)), Param::Value(Value::Text("b".into())), Param::Int(7)]
        );
    }

    #[test]
    fn what_changes_the_sql_changes_the_shape() {
        let cache = RenderCache::default();
        let reads = [
            node(compare(1, CompareOp::Eq, Value::Text("a".into())), None),
            node(compare(1, CompareOp::Ne, Value::Text("a".into())), None),
            node(compare(2, CompareOp::Eq, Value::I64(1)), None),
            node(compare(1, CompareOp::Eq, Value::Null), None),
            node(compare(1, CompareOp::Eq, Value::Text("a".into())), Some(3)),
            node(Predicate::In { field: &NOTES.fields[1], values: vec![] }, None),
            node(Predicate::In { field: &NOTES.fields[1], values: vec![Value::Text("a".into())] }, None),
            node(Predicate::And(vec![compare(1, CompareOp::Eq, Value::Text("a".into()))]), None),
            node(Predicate::Or(vec![compare(1, CompareOp::Eq, Value::Text("a".into()))]), None),
            node(Predicate::Not(Box::new(compare(1, CompareOp::Eq, Value::Text("a".into())))), None),
        ];
        let mut sqls = Vec::new();
        for read in &reads {
            let statement = cache.render(Read::Select(read, RowForm::Columns));
            assert_eq!(*statement.sql, super::super::render_select(read, RowForm::Columns).sql);
            sqls.push(statement.sql);
        }
        assert_eq!(cache.len(), reads.len());
        let mut limited = reads[0].clone();
        limited.limit = Some(10);
        let statement = cache.render(Read::Select(&limited, RowForm::Columns));
        assert!(statement.sql.ends_with("LIMIT 10"), "{}", statement.sql);
        let json = cache.render(Read::Select(&reads[0], RowForm::Json));
        assert!(json.sql.starts_with("SELECT row_to_json"), "{}", json.sql);
        assert_eq!(cache.len(), reads.len() + 2);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = RenderCache::default();
        for limit in 0..(MAX_SHAPES as u64 + 10) {
            let mut read = node(compare(1, CompareOp::Eq, Value::Text("a".into())), None);
            read.limit = Some(limit);
            cache.render(Read::Select(&read, RowForm::Columns));
            assert!(cache.len() <= MAX_SHAPES);
        }
    }
}
