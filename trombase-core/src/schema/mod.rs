//! The schema: the set of entities an application registers, checked across
//! entities, and able to emit bootstrap DDL.

mod ddl;
mod links;
mod meta;
mod validate;

pub use meta::{Casing, EntityMeta, FieldKind, FieldMeta, JunctionMeta, Managed, RelationKind, RelationMeta};
pub(crate) use validate::is_plain_identifier;

use std::collections::HashMap;

use crate::error::SchemaError;
use crate::permit::EntityHandle;

/// A checked set of entities.
#[derive(Debug, Clone)]
pub struct Schema {
    entities: Vec<&'static EntityMeta>,
    handles: Vec<EntityHandle>,
    by_name: HashMap<&'static str, usize>,
}

impl Schema {
    /// Checks the entities against each other (names unique, relations
    /// pointing at registered entities and existing columns of matching kinds)
    /// and builds the schema. Errors name the entity, relation and column.
    ///
    /// Built from bare metadata, the schema's permitters deny everything;
    /// applications register entity types with `TromBase::builder().entity::<E>()`.
    pub fn new(entities: Vec<&'static EntityMeta>) -> Result<Schema, SchemaError> {
        Schema::from_handles(entities.into_iter().map(EntityHandle::deny_all).collect())
    }

    /// Builds the schema from registered entity types.
    pub fn from_handles(handles: Vec<EntityHandle>) -> Result<Schema, SchemaError> {
        let entities: Vec<&'static EntityMeta> = handles.iter().map(|h| h.meta).collect();
        let mut by_name = HashMap::with_capacity(entities.len());
        for (index, entity) in entities.iter().enumerate() {
            validate::entity(entity)?;
            if by_name.insert(entity.name, index).is_some() {
                return Err(SchemaError::new(format!("entity `{}` is registered twice", entity.name)));
            }
        }
        let schema = Schema { entities, handles, by_name };
        validate::relations(&schema)?;
        Ok(schema)
    }

    /// The entity with this logical table name.
    pub fn entity(&self, name: &str) -> Option<&'static EntityMeta> {
        self.by_name.get(name).map(|&i| self.entities[i])
    }

    /// The registered entity with this logical table name.
    pub fn handle(&self, name: &str) -> Option<&EntityHandle> {
        self.by_name.get(name).map(|&i| &self.handles[i])
    }

    /// The registered entities, in registration order.
    pub fn handles(&self) -> &[EntityHandle] {
        &self.handles
    }

    /// All entities, in registration order.
    pub fn entities(&self) -> &[&'static EntityMeta] {
        &self.entities
    }

    /// The statements that create every table of the schema if missing, with
    /// primary keys, `NOT NULL` per nullability, unique constraints, foreign
    /// keys and the indexes relations need. Bootstrap, not migration.
    pub fn ddl(&self) -> Vec<String> {
        ddl::render(self)
    }
}
