//! The foreign keys a relation stands on, resolved against the schema: what
//! both the cross-checks and the DDL walk.

use super::{EntityMeta, RelationKind, RelationMeta, Schema};

/// One foreign key, by logical names: `from.field` references `to.key`.
pub(super) struct Link {
    pub from: &'static EntityMeta,
    pub field: &'static str,
    pub to: &'static EntityMeta,
    pub key: &'static str,
}

/// The foreign keys of `entity`'s `relation`: one, or two for a many-via
/// relation (its junction references both sides). An entity that is not
/// registered is named in the error.
pub(super) fn links(
    schema: &Schema,
    entity: &'static EntityMeta,
    relation: &RelationMeta,
) -> Result<Vec<Link>, String> {
    let registered = |name: &'static str, what: &str| {
        schema.entity(name).ok_or_else(|| format!("{what} entity `{name}` is not registered"))
    };
    let target = registered(relation.target, "target")?;
    Ok(match (relation.kind, relation.junction) {
        (RelationKind::PointsTo, _) => {
            vec![Link { from: entity, field: relation.foreign_key, to: target, key: relation.key }]
        }
        (RelationKind::ResolvesToMany, _) => {
            vec![Link { from: target, field: relation.foreign_key, to: entity, key: relation.key }]
        }
        (RelationKind::ManyVia, Some(junction)) => {
            let via = registered(junction.entity, "junction")?;
            vec![
                Link { from: via, field: junction.owner_field.name, to: entity, key: relation.key },
                Link { from: via, field: junction.target_field.name, to: target, key: relation.foreign_key },
            ]
        }
        (RelationKind::ManyVia, None) => return Err("a many-via relation needs its junction".to_owned()),
    })
}
