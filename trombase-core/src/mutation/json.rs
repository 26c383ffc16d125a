//! The JSON front end: untrusted input like
//! `[{"action":"insert","table":"notes","payload":{...}}, ...]` parsed into
//! [`Mutation`]s. Every problem is a validation error naming the operation
//! and the path; nothing here panics or touches the database.

use serde_json::{Map, Value as Json};

use super::{Mutation, MutationKind};
use crate::schema::{EntityMeta, Schema};
use crate::value::{clip, json_type_name};
use crate::{DbId, Error, Result, Value};

/// Parses a JSON batch, allowing at most `max_operations` operations.
pub(crate) fn parse_batch(schema: &Schema, json: &Json, max_operations: usize) -> Result<Vec<Mutation>> {
    let Json::Array(operations) = json else {
        return Err(Error::validation(
            "",
            format!("expected an array of mutations, got {}", json_type_name(json)),
        ));
    };
    if operations.len() > max_operations {
        return Err(Error::validation(
            "",
            format!("a batch may hold at most {max_operations} mutations, got {}", operations.len()),
        ));
    }
    operations
        .iter()
        .enumerate()
        .map(|(i, op)| operation(schema, op).map_err(|e| e.at_operation(i)))
        .collect()
}

fn operation(schema: &Schema, json: &Json) -> Result<Mutation> {
    let object = object(json, "")?;
    let action = string(object.get("action"), "action")?;
    let table = string(object.get("table"), "table")?;
    let entity = *schema
        .handle(table)
        .ok_or_else(|| Error::validation("table", format!("unknown table `{}`", clip(table))))?;
    let allowed: &[&str] = match action {
        "insert" => &["action", "table", "payload"],
        "update" => &["action", "table", "id", "payload"],
        "delete" => &["action", "table", "id"],
        "upsert" => &["action", "table", "payload", "on"],
        other => {
            return Err(Error::validation(
                "action",
                format!("unknown action `{}`; expected insert, update, upsert or delete", clip(other)),
            ))
        }
    };
    if let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Error::validation(
            clip(key),
            format!("unknown key for an {action}; expected one of: {}", allowed.join(", ")),
        ));
    }
    let kind = match action {
        "insert" => insert(entity.meta, object)?,
        "update" => update(entity.meta, object)?,
        "upsert" => upsert(entity.meta, object)?,
        _ => delete(object)?,
    };
    Ok(Mutation { entity, kind })
}

fn insert(entity: &'static EntityMeta, op: &Map<String, Json>) -> Result<MutationKind> {
    let payload = object(op.get("payload").unwrap_or(&Json::Null), "payload")?;
    for key in payload.keys() {
        if entity.field(key).is_none() {
            return Err(unknown_field(entity, key));
        }
    }
    let mut values = Vec::with_capacity(entity.fields.len());
    for field in entity.fields {
        let path = format!("payload.{}", field.name);
        let value = match payload.get(field.name) {
            Some(_) if field.is_managed_timestamp() => {
                return Err(Error::validation(path, "is managed by the library and cannot be set"))
            }
            Some(json) => value(field.kind, json, &path)?,
            None if field.is_managed_timestamp() || field.nullable => Value::Null,
            None => return Err(Error::validation(path, "is required")),
        };
        values.push(value);
    }
    let json = Json::Object(payload.clone());
    Ok(MutationKind::Insert { values, json: Some(json) })
}

/// An insert's payload, and `on`: the field whose value finds an existing
/// row (the id when absent).
fn upsert(entity: &'static EntityMeta, op: &Map<String, Json>) -> Result<MutationKind> {
    let on = match op.get("on") {
        None | Some(Json::Null) => entity.managed(crate::schema::Managed::Id),
        Some(Json::String(name)) => Some(entity.field(name).ok_or_else(|| {
            Error::validation("on", format!("unknown field `{}` of `{}`", clip(name), entity.name))
        })?),
        Some(other) => {
            return Err(Error::validation(
                "on",
                format!("expected a field name, got {}", json_type_name(other)),
            ))
        }
    };
    let on = on.ok_or_else(|| Error::validation("on", "is required"))?;
    let MutationKind::Insert { values, json } = insert(entity, op)? else {
        return Err(Error::validation("payload", "is not a row"));
    };
    Ok(MutationKind::Upsert { values, json, on })
}

fn update(entity: &'static EntityMeta, op: &Map<String, Json>) -> Result<MutationKind> {
    let id = id(op.get("id"), "id")?;
    let payload = object(op.get("payload").unwrap_or(&Json::Null), "payload")?;
    let mut changes = Vec::with_capacity(payload.len());
    for (key, json) in payload {
        let field = entity.field(key).ok_or_else(|| unknown_field(entity, key))?;
        let path = format!("payload.{}", field.name);
        if field.managed.is_some() {
            return Err(Error::validation(path, "is managed by the library and cannot be changed"));
        }
        changes.push((field, value(field.kind, json, &path)?));
    }
    Ok(MutationKind::Update { id, changes })
}

fn delete(op: &Map<String, Json>) -> Result<MutationKind> {
    let ids = match op.get("id") {
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| id(Some(item), &format!("id[{i}]")))
            .collect::<Result<Vec<_>>>()?,
        other => vec![id(other, "id")?],
    };
    Ok(MutationKind::Delete { ids })
}

fn value(kind: crate::schema::FieldKind, json: &Json, path: &str) -> Result<Value> {
    Value::from_json(kind, json).map_err(|message| Error::validation(path, message))
}

fn object<'a>(json: &'a Json, path: &str) -> Result<&'a Map<String, Json>> {
    match json {
        Json::Object(map) => Ok(map),
        Json::Null if !path.is_empty() => Err(Error::validation(path, "is required")),
        other => Err(Error::validation(path, format!("expected an object, got {}", json_type_name(other)))),
    }
}

fn string<'a>(json: Option<&'a Json>, path: &str) -> Result<&'a str> {
    match json {
        Some(Json::String(s)) => Ok(s),
        None | Some(Json::Null) => Err(Error::validation(path, "is required")),
        Some(other) => {
            Err(Error::validation(path, format!("expected a string, got {}", json_type_name(other))))
        }
    }
}

fn id(json: Option<&Json>, path: &str) -> Result<DbId> {
    string(json, path)?.parse().map_err(|e| Error::validation(path, format!("{e}")))
}

fn unknown_field(entity: &EntityMeta, key: &str) -> Error {
    Error::validation(format!("payload.{}", clip(key)), format!("unknown field of `{}`", entity.name))
}
