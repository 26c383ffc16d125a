//! The schemas of one entity: its rows, its mutations (insert, update,
//! delete), its filter, and its select action (at the root and embedded).

use serde_json::{json, Value as Json};

use super::reference;
use crate::query::ReadLimits;
use crate::schema::{EntityMeta, FieldKind, FieldMeta, RelationKind, Schema};

/// `(component name, schema)` for each schema of `entity`.
pub(super) fn schemas(schema: &Schema, entity: &EntityMeta, limits: &ReadLimits) -> Vec<(String, Json)> {
    let name = entity.rust_name;
    let mut out = vec![
        (format!("{name}Row"), row(entity)),
        (format!("{name}Insert"), insert(entity)),
        (format!("{name}Upsert"), upsert(entity)),
        (format!("{name}Delete"), delete(entity)),
        (format!("{name}Filter"), filter(schema, entity, limits)),
        (format!("{name}Select"), select(schema, entity, limits, true)),
        (format!("{name}Embed"), select(schema, entity, limits, false)),
    ];
    if let Some(update) = update(entity) {
        out.push((format!("{name}Update"), update));
    }
    out
}

/// A DbId: 11 base62 characters (request side: only those a DbId can
/// hold) or a UUID.
pub(super) fn id_schema(request: bool) -> Json {
    let base62 = if request { "[B-K][0-9A-Za-z]{10}" } else { "[0-9A-Za-z]{11}" };
    let uuid = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    json!({"type": "string", "pattern": format!("^({base62}|{uuid})$")})
}

/// The schema of a value of `kind` (not null).
fn value(kind: FieldKind, request: bool) -> Json {
    match kind {
        FieldKind::Text => json!({"type": "string"}),
        FieldKind::DbId => id_schema(request),
        FieldKind::I16 => json!({"type": "integer", "minimum": i16::MIN, "maximum": i16::MAX}),
        FieldKind::I32 => json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}),
        FieldKind::I64 => json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX}),
        FieldKind::F64 => json!({"type": "number"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Timestamp => json!({"type": "string", "format": "date-time"}),
        FieldKind::Json => json!({}),
    }
}

/// The schema of a field's value, `null` included when it is nullable.
fn field_value(field: &FieldMeta, request: bool) -> Json {
    let schema = value(field.kind, request);
    if !field.nullable {
        return schema;
    }
    match schema {
        Json::Object(mut object) if object.get("type").is_some_and(Json::is_string) => {
            let kind = object.remove("type").unwrap_or_default();
            object.insert("type".into(), json!([kind, "null"]));
            Json::Object(object)
        }
        other if other == json!({}) => other,
        other => json!({"anyOf": [other, {"type": "null"}]}),
    }
}

fn field_names(entity: &EntityMeta) -> Json {
    json!(entity.fields.iter().map(|f| f.name).collect::<Vec<_>>())
}

/// A row: every field typed, none required (a select may ask for a few),
/// and other keys allowed (embeds and aggregates).
fn row(entity: &EntityMeta) -> Json {
    let properties: serde_json::Map<String, Json> =
        entity.fields.iter().map(|f| (f.name.to_owned(), field_value(f, false))).collect();
    json!({"type": "object", "properties": properties})
}

fn strict_object(properties: serde_json::Map<String, Json>, required: Vec<&str>) -> Json {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

/// An insert's payload: every field but the managed timestamps.
fn row_payload(entity: &EntityMeta) -> Json {
    let fields: Vec<&FieldMeta> = entity.fields.iter().filter(|f| !f.is_managed_timestamp()).collect();
    let properties = fields.iter().map(|f| (f.name.to_owned(), field_value(f, true))).collect();
    let required = fields.iter().filter(|f| !f.nullable).map(|f| f.name).collect();
    strict_object(properties, required)
}

fn insert(entity: &EntityMeta) -> Json {
    mutation(entity, "insert", &[("payload", row_payload(entity))])
}

/// An upsert: an insert's payload and, optionally, the field that finds
/// the existing row (the id, or a unique field).
fn upsert(entity: &EntityMeta) -> Json {
    let keys: Vec<&str> = entity
        .fields
        .iter()
        .filter(|f| f.unique || f.managed == Some(crate::schema::Managed::Id))
        .map(|f| f.name)
        .collect();
    let mut schema = mutation(entity, "upsert", &[("payload", row_payload(entity))]);
    schema["properties"]["on"] = json!({"enum": keys});
    schema
}

fn update(entity: &EntityMeta) -> Option<Json> {
    let fields: Vec<&FieldMeta> = entity.fields.iter().filter(|f| f.is_updatable()).collect();
    if fields.is_empty() {
        return None;
    }
    let properties = fields.iter().map(|f| (f.name.to_owned(), field_value(f, true))).collect();
    let mut payload = strict_object(properties, vec![]);
    payload["minProperties"] = json!(1);
    Some(mutation(entity, "update", &[("id", id_schema(true)), ("payload", payload)]))
}

fn delete(entity: &EntityMeta) -> Json {
    mutation(entity, "delete", &[("id", id_schema(true))])
}

fn mutation(entity: &EntityMeta, action: &str, parts: &[(&str, Json)]) -> Json {
    let mut properties = serde_json::Map::new();
    properties.insert("action".into(), json!({"const": action}));
    properties.insert("table".into(), json!({"const": entity.name}));
    let mut required = vec!["action", "table"];
    for (key, schema) in parts {
        properties.insert((*key).to_owned(), schema.clone());
        required.push(key);
    }
    strict_object(properties, required)
}

/// A filter: a condition per field, a relation filter per relation
/// (`some` / `none` / `every` related row matching the target's filter),
/// combined with AND, and `and`, `or`, `not` groups.
fn filter(schema: &Schema, entity: &EntityMeta, limits: &ReadLimits) -> Json {
    let me = reference(&format!("{}Filter", entity.rust_name));
    let mut properties: serde_json::Map<String, Json> =
        entity.fields.iter().map(|f| (f.name.to_owned(), condition(f, limits))).collect();
    for relation in entity.relations {
        let target = schema.entity(relation.target).map_or(relation.target, |t| t.rust_name);
        let target = reference(&format!("{target}Filter"));
        properties.insert(
            relation.name.to_owned(),
            json!({
                "description": "Rows with some, none, or only related rows matching the filter.",
                "type": "object",
                "additionalProperties": false,
                "minProperties": 1,
                "properties": {"some": target, "none": target, "every": target},
            }),
        );
    }
    properties.insert("and".into(), json!({"type": "array", "items": me}));
    properties.insert("or".into(), json!({"type": "array", "items": me}));
    properties.insert("not".into(), me);
    json!({"type": "object", "additionalProperties": false, "properties": properties})
}

/// A condition on one field: a bare value (equals), `null` (is null), or an
/// object of operators.
fn condition(field: &FieldMeta, limits: &ReadLimits) -> Json {
    let value = value(field.kind, true);
    let or_null = json!({"anyOf": [value, {"type": "null"}]});
    let mut operators = serde_json::Map::new();
    for op in ["eq", "ne"] {
        operators.insert(op.into(), or_null.clone());
    }
    for op in ["gt", "gte", "lt", "lte"] {
        operators.insert(op.into(), value.clone());
    }
    operators.insert("in".into(), json!({"type": "array", "items": value, "maxItems": limits.max_in_list}));
    if field.kind == FieldKind::Text {
        operators.insert("like".into(), json!({"type": "string"}));
        operators.insert("ilike".into(), json!({"type": "string"}));
    }
    operators.insert("isNull".into(), json!({"type": "boolean"}));
    operators.insert("notNull".into(), json!({"type": "boolean"}));
    let operators =
        json!({"type": "object", "additionalProperties": false, "minProperties": 1, "properties": operators});
    if field.kind == FieldKind::Json {
        // A bare object is compared for equality; only an object of
        // operators is read as operators.
        return json!({"anyOf": [operators, value]});
    }
    json!({"anyOf": [value, {"type": "null"}, operators]})
}

/// A select action: at the root (`table` required) or embedded in a
/// relation's `with` (`table` optional, the relation's target).
fn select(schema: &Schema, entity: &EntityMeta, limits: &ReadLimits, root: bool) -> Json {
    let field_name = json!({"enum": field_names(entity)});
    let fields = json!({"type": "array", "items": field_name, "uniqueItems": true});
    let with: serde_json::Map<String, Json> = entity
        .relations
        .iter()
        .map(|r| {
            let target = schema.entity(r.target).map_or(r.target, |t| t.rust_name);
            let nested = reference(&format!("{target}Embed"));
            let description = match r.kind {
                RelationKind::PointsTo => "The row it points to (an object or null).",
                RelationKind::ResolvesToMany => "The rows that point here (a list).",
                RelationKind::ManyVia => "The rows linked through the junction (a list).",
            };
            (r.name.to_owned(), json!({"description": description, "anyOf": [{"const": true}, nested]}))
        })
        .collect();
    let order = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["field"],
        "properties": {"field": {"type": "string", "description": "A field, or an aggregate's name."},
                       "direction": {"enum": ["asc", "desc"]}},
    });
    let aggregate = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["fn"],
        "properties": {"fn": {"enum": ["count", "sum", "avg", "min", "max"]}, "field": field_name,
                       "distinct": {"type": "boolean"}},
    });
    let mut properties = serde_json::Map::new();
    properties.insert("table".into(), json!({"const": entity.name}));
    properties.insert("columns".into(), fields.clone());
    properties.insert("where".into(), reference(&format!("{}Filter", entity.rust_name)));
    properties
        .insert("with".into(), json!({"type": "object", "additionalProperties": false, "properties": with}));
    properties.insert("orderBy".into(), json!({"type": "array", "items": order}));
    properties.insert("limit".into(), json!({"type": "integer", "minimum": 0, "maximum": limits.max_limit}));
    properties.insert("offset".into(), json!({"type": "integer", "minimum": 0}));
    properties.insert(
        "aggregates".into(),
        json!({"type": "object", "minProperties": 1, "additionalProperties": aggregate}),
    );
    properties.insert("groupBy".into(), fields);
    if root {
        properties.insert(
            "page".into(),
            json!({
                "description": "Read a page: the rows, their total, and the next page's cursor.",
                "type": "object",
                "additionalProperties": false,
                "properties": {"after": {"type": ["string", "null"]}, "total": {"type": "boolean"}},
            }),
        );
    }
    let required: Vec<&str> = if root { vec!["table"] } else { vec![] };
    strict_object(properties, required)
}
