//! Cross-checks of entity metadata, done once when a [`Schema`] is built.

use super::{EntityMeta, FieldMeta, Managed, Schema};
use crate::error::SchemaError;
use crate::schema::FieldKind;

/// Checks one entity on its own.
pub(super) fn entity(entity: &EntityMeta) -> Result<(), SchemaError> {
    check_name(entity.name, || format!("entity `{}`", entity.rust_name))?;
    check_name(entity.table, || format!("entity `{}` table", entity.name))?;
    for (i, field) in entity.fields.iter().enumerate() {
        check_name(field.name, || format!("entity `{}` field", entity.name))?;
        check_name(field.column, || format!("entity `{}` column", entity.name))?;
        let clash = entity.fields[..i].iter().find(|f| f.name == field.name || f.column == field.column);
        if let Some(other) = clash {
            return Err(SchemaError::new(format!(
                "entity `{}`: fields `{}` and `{}` share a name or column",
                entity.name, other.rust_name, field.rust_name
            )));
        }
    }
    for index in entity.indexes {
        if let Some(missing) = index.iter().find(|f| entity.field(f).is_none()) {
            return Err(SchemaError::new(format!(
                "entity `{}`: an index names `{missing}`, which is not a field",
                entity.name
            )));
        }
        if index.is_empty() {
            return Err(SchemaError::new(format!(
                "entity `{}`: an index needs at least one field",
                entity.name
            )));
        }
    }
    for (which, kind) in [
        (Managed::Id, FieldKind::DbId),
        (Managed::CreatedAt, FieldKind::Timestamp),
        (Managed::UpdatedAt, FieldKind::Timestamp),
    ] {
        match entity.managed(which) {
            Some(f) if f.kind == kind && !f.nullable => {}
            _ => {
                return Err(SchemaError::new(format!(
                    "entity `{}` lacks the managed {which:?} field of kind {}",
                    entity.name,
                    kind.describe()
                )))
            }
        }
    }
    Ok(())
}

/// Checks every relation of every entity against the registered entities.
pub(super) fn relations(schema: &Schema) -> Result<(), SchemaError> {
    for entity in schema.entities() {
        for relation in entity.relations {
            let fail = |what: String| {
                SchemaError::new(format!("entity `{}` relation `{}`: {what}", entity.name, relation.name))
            };
            for link in super::links::links(schema, entity, relation).map_err(fail)? {
                let find = |owner: &EntityMeta, name: &str| {
                    owner
                        .field(name)
                        .ok_or_else(|| fail(format!("entity `{}` has no column `{name}`", owner.name)))
                };
                let foreign_key = find(link.from, link.field)?;
                let key = find(link.to, link.key)?;
                if !is_unique(key) {
                    return Err(fail(format!(
                        "referenced column `{}.{}` must be `id` or a unique field",
                        link.to.name, key.name
                    )));
                }
                if foreign_key.kind != key.kind {
                    return Err(fail(format!(
                        "column `{}.{}` ({}) cannot reference `{}.{}` ({})",
                        link.from.name,
                        foreign_key.name,
                        foreign_key.kind.describe(),
                        link.to.name,
                        key.name,
                        key.kind.describe()
                    )));
                }
            }
        }
    }
    Ok(())
}

fn is_unique(field: &FieldMeta) -> bool {
    field.unique || field.managed == Some(Managed::Id)
}

/// Names are plain identifiers, so DDL and queries never need more than
/// quoting.
fn check_name(name: &str, what: impl Fn() -> String) -> Result<(), SchemaError> {
    if is_plain_identifier(name) {
        Ok(())
    } else {
        Err(SchemaError::new(format!(
            "{} name `{name}` must be an ASCII identifier of at most 63 characters",
            what()
        )))
    }
}

/// Whether `name` is an ASCII identifier (letter or `_`, then letters,
/// digits, `_`) of at most 63 characters: the only names that reach SQL.
pub(crate) fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}
