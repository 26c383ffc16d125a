//! The JSON front end of reads: the TypeScript library's select action,
//! validated against the schema into a [`SelectNode`]. Untrusted input: every
//! problem is a validation error naming its path; guard rails bound the
//! work one request can ask for.

use serde_json::{Map, Value as Json};

use super::predicate::check_like_pattern;
use super::{
    AggregateFn, AggregateTerm, CompareOp, Direction, Embed, OrderKey, OrderTerm, Predicate, Quantifier,
    RelationFilter, SelectNode,
};
use crate::schema::{is_plain_identifier, EntityMeta, FieldKind, FieldMeta, RelationMeta, Schema};
use crate::value::{clip, json_type_name};
use crate::{Error, Result, Value};

/// Guard rails for untrusted JSON reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// How deep `with` may nest (the root is depth 0).
    pub max_depth: usize,
    /// The limit of a node that returns many rows and names none.
    pub default_limit: u64,
    /// The largest limit a node may ask for.
    pub max_limit: u64,
    /// The longest `in` list.
    pub max_in_list: usize,
    /// The most rows one query can return, embedded rows included: the
    /// limits multiplied along each embed path, summed over the tree; a
    /// points-to embed is part of its parent's row (see
    /// [`max_rows`](crate::query::max_rows)).
    pub max_rows: u64,
    /// The most filter terms (comparisons) one query's filters may hold,
    /// over all its nodes.
    pub max_filter_terms: usize,
    /// The most bind parameters one query's statement may carry (row
    /// filters and offsets included; limits are written into the statement).
    pub max_params: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_depth: 4,
            default_limit: 100,
            max_limit: 1000,
            max_in_list: 1000,
            max_rows: 20_000,
            max_filter_terms: 256,
            max_params: 1000,
        }
    }
}

impl ReadLimits {
    /// Sets `max_depth`.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets `default_limit` and `max_limit`.
    pub fn limits(mut self, default_limit: u64, max_limit: u64) -> Self {
        self.default_limit = default_limit.min(max_limit);
        self.max_limit = max_limit;
        self
    }

    /// Sets `max_in_list`.
    pub fn max_in_list(mut self, n: usize) -> Self {
        self.max_in_list = n;
        self
    }

    /// Sets `max_rows`.
    pub fn max_rows(mut self, n: u64) -> Self {
        self.max_rows = n;
        self
    }

    /// Sets `max_filter_terms`.
    pub fn max_filter_terms(mut self, n: usize) -> Self {
        self.max_filter_terms = n;
        self
    }

    /// Sets `max_params` (never above [`MAX_PARAMS`](crate::MAX_PARAMS)).
    pub fn max_params(mut self, n: usize) -> Self {
        self.max_params = n.min(crate::MAX_PARAMS);
        self
    }

    /// Refuses a rendered statement with more parameters than `max_params`.
    pub(crate) fn check_params(&self, params: usize) -> Result<()> {
        if params > self.max_params {
            return Err(Error::validation(
                "",
                format!("the query needs {params} parameters; at most {} are allowed", self.max_params),
            ));
        }
        Ok(())
    }
}

/// Parses a JSON select action. With `coerce_strings`, scalar values may
/// arrive as strings (as a query string sends them) and are read as the
/// field's kind.
pub fn parse_select(
    schema: &Schema,
    json: &Json,
    limits: &ReadLimits,
    coerce_strings: bool,
) -> Result<SelectNode> {
    let object = as_object(json, "")?;
    let table = match object.get("table") {
        Some(Json::String(t)) => t,
        Some(other) => return Err(expected("table", "a string", other)),
        None => return Err(Error::validation("table", "is required")),
    };
    let handle = *schema
        .handle(table)
        .ok_or_else(|| Error::validation("table", format!("unknown table `{}`", clip(table))))?;
    let parser = Parser { schema, limits, coerce_strings };
    let mut node = parser.node(handle, object, "", 0, true)?;
    if node.limit.is_none() && returns_many(&node) {
        node.limit = Some(limits.default_limit);
    }
    super::guard::check_budget(&node, limits)?;
    Ok(node)
}

struct Parser<'a> {
    schema: &'a Schema,
    limits: &'a ReadLimits,
    coerce_strings: bool,
}

const NODE_KEYS: &[&str] =
    &["columns", "where", "with", "orderBy", "limit", "offset", "aggregates", "groupBy"];

impl Parser<'_> {
    fn node(
        &self,
        handle: crate::permit::EntityHandle,
        object: &Map<String, Json>,
        path: &str,
        depth: usize,
        root: bool,
    ) -> Result<SelectNode> {
        let entity = handle.meta();
        for key in object.keys() {
            if !(NODE_KEYS.contains(&key.as_str()) || key == "table" || (root && key == "page")) {
                let root_keys: &[&str] = if root { &["table", "page"] } else { &["table"] };
                return Err(Error::unknown_key(join(path, key), &[root_keys, NODE_KEYS].concat()));
            }
        }
        // Inside `with`, `table` may be given (the TypeScript library's
        // types require it), but only as the relation's own target.
        match object.get("table") {
            Some(Json::String(table)) if !root && table != entity.name => {
                return Err(Error::validation(
                    join(path, "table"),
                    format!("names `{}`, but the relation leads to `{}`", clip(table), entity.name),
                ))
            }
            Some(other) if !root && !other.is_string() => {
                return Err(expected(&join(path, "table"), "a string", other))
            }
            _ => {}
        }
        let mut node = SelectNode::new(handle);
        if let Some(columns) = object.get("columns") {
            node.columns = self.fields(entity, columns, &join(path, "columns"))?;
        }
        if let Some(filter) = object.get("where") {
            node.filter = Some(self.filter(entity, filter, &join(path, "where"), depth)?);
        }
        node.limit = self.count(object.get("limit"), &join(path, "limit"))?;
        if let Some(limit) = node.limit {
            if limit > self.limits.max_limit {
                return Err(Error::validation(
                    join(path, "limit"),
                    format!("must be at most {}", self.limits.max_limit),
                ));
            }
        }
        node.offset = self.count(object.get("offset"), &join(path, "offset"))?;
        if let Some(aggregates) = object.get("aggregates") {
            self.aggregates(&mut node, object, aggregates, path)?;
        } else if object.contains_key("groupBy") {
            return Err(Error::validation(join(path, "groupBy"), "needs aggregates"));
        }
        if let Some(order) = object.get("orderBy") {
            node.order = self.order(&node, order, &join(path, "orderBy"))?;
            if node.is_aggregate() {
                let grouped = |f: &FieldMeta| node.columns.iter().any(|g| g.name == f.name);
                if let Some(field) = node.order.iter().filter_map(OrderTerm::field).find(|f| !grouped(f)) {
                    return Err(Error::validation(
                        join(path, "orderBy"),
                        format!("`{}` must be in groupBy or name an aggregate", field.name),
                    ));
                }
            }
        }
        if let Some(with) = object.get("with") {
            if node.is_aggregate() {
                return Err(Error::validation(
                    join(path, "with"),
                    "aggregates and embedded relations do not mix",
                ));
            }
            node.embeds = self.embeds(entity, with, &join(path, "with"), depth)?;
        }
        Ok(node)
    }

    fn embeds(&self, entity: &EntityMeta, with: &Json, path: &str, depth: usize) -> Result<Vec<Embed>> {
        let with = as_object(with, path)?;
        let mut embeds = Vec::with_capacity(with.len());
        for (name, spec) in with {
            let path = join(path, name);
            let relation = entity
                .relation(name)
                .ok_or_else(|| Error::validation(&path, format!("unknown relation of `{}`", entity.name)))?;
            if depth + 1 > self.limits.max_depth {
                return Err(Error::validation(
                    &path,
                    format!("nesting deeper than {} is not allowed", self.limits.max_depth),
                ));
            }
            let handle = *self.schema.handle(relation.target).ok_or_else(|| {
                Error::validation(&path, format!("target entity `{}` is not registered", relation.target))
            })?;
            let mut node = match spec {
                Json::Bool(true) => SelectNode::new(handle),
                Json::String(s) if self.coerce_strings && s == "true" => SelectNode::new(handle),
                Json::Object(object) => self.node(handle, object, &path, depth + 1, false)?,
                other => return Err(expected(&path, "true or an object", other)),
            };
            if !relation.kind.is_one() && node.limit.is_none() && returns_many(&node) {
                node.limit = Some(self.limits.default_limit);
            }
            embeds.push(Embed::new(relation, node));
        }
        Ok(embeds)
    }

    fn fields(&self, entity: &EntityMeta, json: &Json, path: &str) -> Result<Vec<&'static FieldMeta>> {
        let Json::Array(items) = json else { return Err(expected(path, "an array of field names", json)) };
        let mut fields: Vec<&'static FieldMeta> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("{path}[{i}]");
            let field = self.field(entity, item, &path)?;
            if fields.iter().any(|f| f.name == field.name) {
                return Err(Error::validation(path, format!("`{}` is listed twice", field.name)));
            }
            fields.push(field);
        }
        Ok(fields)
    }

    fn field(&self, entity: &EntityMeta, json: &Json, path: &str) -> Result<&'static FieldMeta> {
        let Json::String(name) = json else { return Err(expected(path, "a field name", json)) };
        entity.field(name).ok_or_else(|| unknown_field(entity, path))
    }

    /// `orderBy`: fields of the entity, or (on an aggregating node) the
    /// aliases of its aggregates.
    fn order(&self, node: &SelectNode, json: &Json, path: &str) -> Result<Vec<OrderTerm>> {
        let entity = node.entity.meta();
        let items: Vec<(&Json, String)> = match json {
            Json::Array(items) => {
                items.iter().enumerate().map(|(i, item)| (item, format!("{path}[{i}]"))).collect()
            }
            Json::Object(_) => vec![(json, path.to_owned())],
            other => return Err(expected(path, "an array of {field, direction}", other)),
        };
        items
            .into_iter()
            .map(|(item, path)| {
                let object = as_object(item, &path)?;
                if let Some(key) = object.keys().find(|k| *k != "field" && *k != "direction") {
                    return Err(Error::unknown_key(join(&path, key), &["field", "direction"]));
                }
                let aggregate = |name: &str| node.aggregates.iter().position(|a| a.alias == name);
                let key = match object.get("field") {
                    Some(Json::String(name)) if aggregate(name).is_some() => {
                        OrderKey::Aggregate(aggregate(name).unwrap_or_default())
                    }
                    Some(f) => OrderKey::Field(self.field(entity, f, &join(&path, "field"))?),
                    None => return Err(Error::validation(join(&path, "field"), "is required")),
                };
                let direction = match object.get("direction") {
                    None => Direction::Asc,
                    Some(Json::String(d)) if d.eq_ignore_ascii_case("asc") => Direction::Asc,
                    Some(Json::String(d)) if d.eq_ignore_ascii_case("desc") => Direction::Desc,
                    Some(other) => {
                        return Err(expected(&join(&path, "direction"), "\"asc\" or \"desc\"", other))
                    }
                };
                Ok(OrderTerm { key, direction })
            })
            .collect()
    }

    /// A non-negative integer (`limit`, `offset`).
    fn count(&self, json: Option<&Json>, path: &str) -> Result<Option<u64>> {
        let json = match json {
            None | Some(Json::Null) => return Ok(None),
            Some(json) => json,
        };
        let n = match json {
            Json::Number(n) => n.as_u64(),
            Json::String(s) if self.coerce_strings => s.parse::<u64>().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| expected(path, "a non-negative integer", json))
    }

    fn aggregates(
        &self,
        node: &mut SelectNode,
        object: &Map<String, Json>,
        json: &Json,
        path: &str,
    ) -> Result<()> {
        let entity = node.entity.meta();
        let spec = as_object(json, &join(path, "aggregates"))?;
        if spec.is_empty() {
            return Err(Error::validation(join(path, "aggregates"), "needs at least one aggregate"));
        }
        let group_by = match object.get("groupBy") {
            Some(json) => self.fields(entity, json, &join(path, "groupBy"))?,
            None => Vec::new(),
        };
        if object.contains_key("columns") {
            if let Some(missing) = group_by.iter().find(|g| !node.columns.iter().any(|c| c.name == g.name)) {
                return Err(Error::validation(
                    join(path, "groupBy"),
                    format!("`{}` must also be selected in columns", missing.name),
                ));
            }
            if let Some(extra) = node.columns.iter().find(|c| !group_by.iter().any(|g| g.name == c.name)) {
                return Err(Error::validation(
                    join(path, "columns"),
                    format!("`{}` must be in groupBy when aggregating", extra.name),
                ));
            }
        }
        node.columns = group_by;
        for (alias, term) in spec {
            let path = join(&join(path, "aggregates"), alias);
            if !is_plain_identifier(alias) || node.columns.iter().any(|c| c.name == alias) {
                return Err(Error::validation(&path, "must be a plain name that is not a group-by field"));
            }
            node.aggregates.push(self.aggregate(entity, alias, term, &path)?);
        }
        Ok(())
    }

    fn aggregate(&self, entity: &EntityMeta, alias: &str, json: &Json, path: &str) -> Result<AggregateTerm> {
        let object = as_object(json, path)?;
        const KEYS: &[&str] = &["fn", "field", "distinct"];
        if let Some(key) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(Error::unknown_key(join(path, key), KEYS));
        }
        let func = match object.get("fn") {
            Some(Json::String(f)) => match f.as_str() {
                "count" => AggregateFn::Count,
                "sum" => AggregateFn::Sum,
                "avg" => AggregateFn::Avg,
                "min" => AggregateFn::Min,
                "max" => AggregateFn::Max,
                other => {
                    return Err(Error::validation(
                        join(path, "fn"),
                        format!("unknown function `{}`", clip(other)),
                    ))
                }
            },
            Some(other) => return Err(expected(&join(path, "fn"), "a function name", other)),
            None => return Err(Error::validation(join(path, "fn"), "is required")),
        };
        let field = match object.get("field") {
            None => None,
            Some(json) => Some(self.field(entity, json, &join(path, "field"))?),
        };
        let distinct = match object.get("distinct") {
            None | Some(Json::Bool(false)) => false,
            Some(Json::Bool(true)) => true,
            Some(Json::String(s)) if self.coerce_strings && (s == "true" || s == "false") => s == "true",
            Some(other) => return Err(expected(&join(path, "distinct"), "a boolean", other)),
        };
        match (func, field) {
            (AggregateFn::Count, _) => {}
            (_, None) => return Err(Error::validation(join(path, "field"), "is required for this function")),
            (AggregateFn::Sum | AggregateFn::Avg, Some(f)) if !is_numeric(f.kind) => {
                return Err(Error::validation(join(path, "field"), format!("`{}` is not a number", f.name)))
            }
            (AggregateFn::Min | AggregateFn::Max, Some(f))
                if matches!(f.kind, FieldKind::Json | FieldKind::Bool) =>
            {
                return Err(Error::validation(join(path, "field"), format!("`{}` has no order", f.name)))
            }
            _ => {}
        }
        if distinct && (func != AggregateFn::Count || field.is_none()) {
            return Err(Error::validation(join(path, "distinct"), "only counts of a field can be distinct"));
        }
        Ok(AggregateTerm { alias: alias.to_owned(), func, field, distinct })
    }

    /// A filter over `entity`, read at nesting `depth` (relation filters
    /// nest one deeper, under the same limit as embeds).
    fn filter(
        &self,
        entity: &'static EntityMeta,
        json: &Json,
        path: &str,
        depth: usize,
    ) -> Result<Predicate> {
        let object = as_object(json, path)?;
        let mut parts = Vec::with_capacity(object.len());
        for (key, value) in object {
            let path = join(path, key);
            parts.push(match key.as_str() {
                "or" | "and" => {
                    let Json::Array(items) = value else {
                        return Err(expected(&path, "an array of filters", value));
                    };
                    let items = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.filter(entity, item, &format!("{path}[{i}]"), depth))
                        .collect::<Result<Vec<_>>>()?;
                    if key == "or" {
                        Predicate::Or(items)
                    } else {
                        Predicate::And(items)
                    }
                }
                "not" => Predicate::Not(Box::new(self.filter(entity, value, &path, depth)?)),
                name => match (entity.field(name), entity.relation(name)) {
                    (Some(field), _) => self.condition(field, value, &path)?,
                    (None, Some(relation)) => self.relation_filter(entity, relation, value, &path, depth)?,
                    (None, None) => return Err(unknown_field(entity, &path)),
                },
            });
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Predicate::And(parts) })
    }

    /// `{"some": {...}, "none": {...}, "every": {...}}` on a relation: each
    /// quantifier a filter over the relation's target.
    fn relation_filter(
        &self,
        entity: &'static EntityMeta,
        relation: &'static RelationMeta,
        json: &Json,
        path: &str,
        depth: usize,
    ) -> Result<Predicate> {
        const QUANTIFIERS: &[&str] = &["some", "none", "every"];
        let object = as_object(json, path)?;
        if object.is_empty() {
            return Err(Error::validation(path, "needs `some`, `none` or `every`"));
        }
        if depth + 1 > self.limits.max_depth {
            return Err(Error::validation(
                path,
                format!("nesting deeper than {} is not allowed", self.limits.max_depth),
            ));
        }
        let target = *self.schema.handle(relation.target).ok_or_else(|| {
            Error::validation(path, format!("target entity `{}` is not registered", relation.target))
        })?;
        let mut parts = Vec::with_capacity(object.len());
        for (key, value) in object {
            let quantifier = [Quantifier::Some, Quantifier::None, Quantifier::Every]
                .into_iter()
                .find(|q| q.json_name() == key)
                .ok_or_else(|| Error::unknown_key(join(path, key), QUANTIFIERS))?;
            let filter = self.filter(target.meta(), value, &join(path, key), depth + 1)?;
            let related = RelationFilter::new(entity, relation, target, quantifier, filter);
            parts.push(Predicate::Related(Box::new(related)));
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Predicate::And(parts) })
    }

    /// The condition on one field: a bare value (equals), `null` (is null),
    /// or an object of operators.
    fn condition(&self, field: &'static FieldMeta, json: &Json, path: &str) -> Result<Predicate> {
        let operators = match json {
            Json::Null => return Ok(Predicate::IsNull(field)),
            Json::Object(operators) if field.kind != FieldKind::Json || is_operator_object(operators) => {
                operators
            }
            _ => return self.compare(field, CompareOp::Eq, json, path),
        };
        if operators.is_empty() {
            return Err(Error::validation(path, "needs at least one operator"));
        }
        let mut parts = Vec::with_capacity(operators.len());
        for (op, value) in operators {
            let path = join(path, op);
            let op_value = |op| self.compare(field, op, value, &path);
            parts.push(match op.as_str() {
                "eq" if value.is_null() => Predicate::IsNull(field),
                "ne" if value.is_null() => Predicate::NotNull(field),
                "eq" => op_value(CompareOp::Eq)?,
                "ne" => op_value(CompareOp::Ne)?,
                "gt" => op_value(CompareOp::Gt)?,
                "gte" => op_value(CompareOp::Gte)?,
                "lt" => op_value(CompareOp::Lt)?,
                "lte" => op_value(CompareOp::Lte)?,
                "like" | "ilike" if field.kind != FieldKind::Text => {
                    return Err(Error::validation(path, format!("`{op}` needs a text field; `{}` is {}", field.name, field.kind.describe())))
                }
                "like" | "ilike" => {
                    let predicate = op_value(if op == "like" { CompareOp::Like } else { CompareOp::ILike })?;
                    if let Predicate::Compare { value: Value::Text(pattern), .. } = &predicate {
                        check_like_pattern(pattern).map_err(|m| Error::validation(&path, m))?;
                    }
                    predicate
                }
                "in" => self.in_list(field, value, &path)?,
                "isNull" | "notNull" => {
                    let flag = match value {
                        Json::Bool(b) => *b,
                        Json::String(s) if self.coerce_strings && (s == "true" || s == "false") => s == "true",
                        other => return Err(expected(&path, "a boolean", other)),
                    };
                    if flag == (op == "isNull") { Predicate::IsNull(field) } else { Predicate::NotNull(field) }
                }
                other => {
                    return Err(Error::validation(
                        &path,
                        format!("unknown operator `{}`; expected eq, ne, gt, gte, lt, lte, in, like, ilike, isNull or notNull", clip(other)),
                    ))
                }
            });
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Predicate::And(parts) })
    }

    fn compare(
        &self,
        field: &'static FieldMeta,
        op: CompareOp,
        json: &Json,
        path: &str,
    ) -> Result<Predicate> {
        Ok(Predicate::Compare { field, op, value: self.value(field, json, path)? })
    }

    fn in_list(&self, field: &'static FieldMeta, json: &Json, path: &str) -> Result<Predicate> {
        let Json::Array(items) = json else { return Err(expected(path, "an array", json)) };
        if items.len() > self.limits.max_in_list {
            return Err(Error::validation(
                path,
                format!("may hold at most {} values", self.limits.max_in_list),
            ));
        }
        let values = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(field, item, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Predicate::In { field, values })
    }

    /// A non-null value of the field's kind.
    fn value(&self, field: &FieldMeta, json: &Json, path: &str) -> Result<Value> {
        let coerced;
        let json = match (json, field.kind) {
            (
                Json::String(s),
                FieldKind::I16 | FieldKind::I32 | FieldKind::I64 | FieldKind::F64 | FieldKind::Bool,
            ) if self.coerce_strings => {
                coerced = serde_json::from_str::<Json>(s).unwrap_or(Json::String(s.clone()));
                &coerced
            }
            _ => json,
        };
        match Value::from_json(field.kind, json) {
            Ok(Value::Null) => Err(Error::validation(path, "must not be null here")),
            Ok(value) => Ok(value),
            Err(message) => Err(Error::validation(path, message)),
        }
    }
}

/// Whether a node returns many rows: plain reads, and aggregates grouped by
/// fields (one row per group, capped like rows). An aggregate without
/// group-by is one row.
fn returns_many(node: &SelectNode) -> bool {
    !node.is_aggregate() || !node.columns.is_empty()
}

fn is_operator_object(object: &Map<String, Json>) -> bool {
    const OPERATORS: &[&str] =
        &["eq", "ne", "gt", "gte", "lt", "lte", "in", "like", "ilike", "isNull", "notNull"];
    !object.is_empty() && object.keys().all(|k| OPERATORS.contains(&k.as_str()))
}

fn is_numeric(kind: FieldKind) -> bool {
    matches!(kind, FieldKind::I16 | FieldKind::I32 | FieldKind::I64 | FieldKind::F64)
}

fn as_object<'a>(json: &'a Json, path: &str) -> Result<&'a Map<String, Json>> {
    match json {
        Json::Object(map) => Ok(map),
        other => Err(expected(path, "an object", other)),
    }
}

fn expected(path: &str, what: &str, got: &Json) -> Error {
    Error::validation(path, format!("expected {what}, got {}", json_type_name(got)))
}

fn unknown_field(entity: &EntityMeta, path: &str) -> Error {
    Error::validation(path, format!("unknown field of `{}`", entity.name))
}

fn join(path: &str, key: &str) -> String {
    let key = clip(key);
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}
