//! [`Entity`]: what `#[derive(Entity)]` implements.

use tokio_postgres::Row;

use crate::permit::{Operation, Permit};
use crate::schema::EntityMeta;
use crate::{Result, Session, Sql, Value};

/// A struct stored as one table, with typed field references and four
/// permitters. Implement it with `#[derive(Entity)]`, never by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a TromBase entity",
    label = "not an entity",
    note = "add `#[derive(Entity)]` to `{Self}`"
)]
pub trait Entity: Sized + Send + Sync + 'static {
    /// The generated insert type (`NewNote` for `Note`): every field but the
    /// managed timestamps.
    type New: NewRow<Entity = Self>;

    /// The entity's schema metadata.
    const META: &'static EntityMeta;

    /// The actions the entity declares a permitter for; the others are
    /// always denied.
    const DECLARED_ACTIONS: &'static [crate::permit::Action] = &[];

    /// Decodes a row whose columns are this entity's fields in declaration
    /// order (as `SELECT <all columns>` returns them).
    fn from_row(row: &Row) -> Result<Self> {
        Self::from_row_at(row, 0)
    }

    /// Decodes this entity's fields from the columns `first..` of a row
    /// (in declaration order), as a joined relation returns them.
    fn from_row_at(row: &Row, first: usize) -> Result<Self>;

    /// Decodes the JSON shape of a row: an object keyed by logical names
    /// (DbIds as base62, timestamps as RFC 3339).
    fn from_json(object: &serde_json::Map<String, serde_json::Value>) -> Result<Self>;

    /// The row's values, one per field in declaration order.
    fn values(&self) -> Vec<Value>;

    /// The row's values, one per field in declaration order, moved out of
    /// the row (no copy of a string).
    fn into_values(self) -> Vec<Value> {
        self.values()
    }

    /// Builds the row from values, one per field in declaration order.
    fn from_values(values: Vec<Value>) -> Result<Self>;

    /// Builds the row from values, one per field in declaration order,
    /// moved out of `values` (left empty, its buffer kept for
    /// [`into_values_in`](Self::into_values_in)).
    fn from_values_in(values: &mut Vec<Value>) -> Result<Self> {
        Self::from_values(std::mem::take(values))
    }

    /// The row's values moved into `out` (emptied first), one per field in
    /// declaration order.
    fn into_values_in(self, out: &mut Vec<Value>) {
        *out = self.into_values();
    }

    /// The JSON shape of the row, keyed by logical names.
    fn to_json(&self) -> serde_json::Value {
        let object = Self::META
            .fields
            .iter()
            .zip(self.values())
            .map(|(field, value)| (field.name.to_owned(), value.to_json()))
            .collect();
        serde_json::Value::Object(object)
    }

    /// A typed read of this entity: `Note::query().filter(...)`.
    fn query() -> crate::query::Query<Self> {
        crate::query::Query::new()
    }

    /// `count(*)`: the number of rows, as an aggregate of a typed read,
    /// `Note::query().aggregate((Note::count_rows(),))`. The other aggregates
    /// are methods of the fields (see [`Agg`](crate::query::Agg)).
    fn count_rows() -> crate::query::Agg<Self, i64> {
        crate::query::Agg::count_rows()
    }

    /// Asks this entity's permitter for `op`'s action. Actions the entity
    /// declares no permitter for are denied. (One future, not boxed: the
    /// permitter's own is awaited inside it.)
    fn permit<'a>(
        session: &'a Session,
        sql: &'a Sql<'a>,
        op: &'a Operation<'a, Self>,
    ) -> impl std::future::Future<Output = Permit<Self>> + Send + 'a;
}

/// A row to insert: the generated `NewX` type of entity `X`.
pub trait NewRow: Send + 'static {
    /// The entity inserted into.
    type Entity: Entity;

    /// One value per field of the entity in declaration order, with
    /// [`Value::Null`] in place of the managed timestamps.
    fn into_values(self) -> Vec<Value>;
}
