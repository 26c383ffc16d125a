//! Checks every mutation against the schema before any SQL runs. Both front
//! ends end here, so the rules live in one place.

use super::{Mutation, MutationKind};
use crate::schema::Managed;
use crate::{Error, Result, Value};

/// Checks one mutation; errors name the field (`payload.title`).
pub(super) fn mutation(mutation: &Mutation) -> Result<()> {
    let entity = mutation.entity.meta;
    match &mutation.kind {
        MutationKind::Upsert { values, on, .. } => {
            if !(on.unique || on.managed == Some(Managed::Id)) {
                return Err(Error::validation(
                    "on",
                    format!(
                        "`{}` is neither the id nor a unique field: an upsert needs one of those",
                        on.name
                    ),
                ));
            }
            row(entity, values)?;
            let at = entity.field_index(on.name).unwrap_or(0);
            if values.get(at).map_or(true, |v| *v == Value::Null) {
                return Err(Error::validation(
                    format!("payload.{}", on.name),
                    "is required for an upsert on it",
                ));
            }
        }
        MutationKind::Insert { values, .. } => row(entity, values)?,
        MutationKind::Update { changes, .. } => {
            if changes.is_empty() {
                return Err(Error::validation("payload", "an update must change at least one field"));
            }
            for (i, (field, value)) in changes.iter().enumerate() {
                let path = || format!("payload.{}", field.name);
                if changes[..i].iter().any(|(f, _)| f.name == field.name) {
                    return Err(Error::validation(path(), "is set twice"));
                }
                if field.managed.is_some() {
                    return Err(Error::validation(path(), "is managed by the library and cannot be changed"));
                }
                if field.immutable {
                    return Err(Error::validation(path(), "is immutable and cannot be changed"));
                }
                check_value(field, value, path, "must not be null")?;
            }
        }
        MutationKind::Delete { ids } => {
            if ids.is_empty() {
                return Err(Error::validation("id", "a delete needs at least one id"));
            }
        }
    }
    Ok(())
}

/// Checks an insert's row: one value per field, the managed timestamps left
/// to the library, every other value of its field's kind.
fn row(entity: &crate::schema::EntityMeta, values: &[Value]) -> Result<()> {
    if values.len() != entity.fields.len() {
        return Err(Error::validation("payload", "does not match the entity's fields"));
    }
    for (field, value) in entity.fields.iter().zip(values) {
        let path = || format!("payload.{}", field.name);
        if field.is_managed_timestamp() {
            if *value != Value::Null {
                return Err(Error::validation(path(), "is managed by the library and cannot be set"));
            }
        } else {
            check_value(field, value, path, "is required")?;
        }
    }
    Ok(())
}

fn check_value(
    field: &crate::schema::FieldMeta,
    value: &Value,
    path: impl Fn() -> String,
    null_message: &str,
) -> Result<()> {
    if value.has_nul() {
        return Err(Error::validation(path(), "must not contain NUL characters (\\u0000)"));
    }
    match value.kind() {
        None if !field.nullable => Err(Error::validation(path(), null_message)),
        Some(kind) if kind != field.kind => Err(Error::validation(
            path(),
            format!("expected {}, got {}", field.kind.describe(), kind.describe()),
        )),
        _ if field.managed == Some(Managed::Id) && value.kind().is_none() => {
            Err(Error::validation(path(), "is required"))
        }
        _ => Ok(()),
    }
}
