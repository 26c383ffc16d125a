//! [`Written`]: what one operation of a batch wrote, when the batch returns
//! its rows.

use tokio_postgres::Row;

use crate::schema::EntityMeta;
use crate::{DatabaseError, Entity, Error, Result, Value};

/// The rows one operation wrote, as stored: the inserted, updated or
/// upserted row (one), or the deleted rows. Every column, managed
/// timestamps included, read back by `RETURNING` in the same round trip
/// as the write.
#[derive(Debug)]
pub struct Written {
    entity: &'static EntityMeta,
    rows: Vec<Row>,
    one: bool,
}

impl Written {
    pub(crate) fn new(entity: &'static EntityMeta, rows: Vec<Row>, one: bool) -> Written {
        Written { entity, rows, one }
    }

    /// The logical name of the entity written (`notes`).
    pub fn entity_name(&self) -> &'static str {
        self.entity.name
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was written.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, as `E` (an error if the operation wrote another entity).
    pub fn rows<E: Entity>(&self) -> Result<Vec<E>> {
        self.check::<E>()?;
        self.rows.iter().map(E::from_row).collect()
    }

    /// The one row of an insert, update or upsert, as `E`.
    pub fn row<E: Entity>(&self) -> Result<E> {
        self.check::<E>()?;
        match self.rows.as_slice() {
            [row] => E::from_row(row),
            rows => Err(Error::validation("", format!("the operation wrote {} rows, not one", rows.len()))),
        }
    }

    /// The JSON form, keyed by logical names as selects return rows: an
    /// object for an insert, update or upsert, a list for a delete.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        let mut rows = self.rows.iter().map(|row| self.row_json(row)).collect::<Result<Vec<_>>>()?;
        Ok(match (self.one, rows.len()) {
            (true, 1) => rows.remove(0),
            _ => serde_json::Value::Array(rows),
        })
    }

    fn row_json(&self, row: &Row) -> Result<serde_json::Value> {
        let mut object = serde_json::Map::with_capacity(self.entity.fields.len());
        for (i, field) in self.entity.fields.iter().enumerate() {
            let value = Value::from_column(row, i, field.kind)
                .map_err(|e| DatabaseError::new("decoding a written row", e))?;
            object.insert(field.name.to_owned(), value.to_json());
        }
        Ok(serde_json::Value::Object(object))
    }

    fn check<E: Entity>(&self) -> Result<()> {
        if E::META.name == self.entity.name {
            Ok(())
        } else {
            Err(Error::validation(
                "",
                format!("the operation wrote `{}`, not `{}`", self.entity.name, E::META.name),
            ))
        }
    }
}
