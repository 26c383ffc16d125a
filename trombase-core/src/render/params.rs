//! Bind parameters of rendered SQL.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres_protocol::types::{array_to_sql as array_to_sql_raw, ArrayDimension};
use postgres_types::{to_sql_checked, IsNull, Kind, ToSql, Type};

use crate::schema::FieldKind;
use crate::Value;

/// One bind parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A column value.
    Value(Value),
    /// An array of values of one kind (for `= ANY($n)`).
    List(FieldKind, Vec<Value>),
    /// A `bigint` (offsets).
    Int(i64),
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Value(value) => value.to_sql(ty, out),
            Param::Int(n) => n.to_sql(ty, out),
            // An `in` list holds no nulls (they are refused).
            Param::List(kind, values) => array_to_sql(*kind, values.iter(), ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl Param {
    /// The PostgreSQL type it is bound as.
    pub fn sql_type(&self) -> Type {
        match self {
            Param::Value(value) => value.kind().map_or(Type::TEXT, kind_type),
            Param::List(kind, _) => kind_array_type(*kind),
            Param::Int(_) => Type::INT8,
        }
    }
}

/// One column of a multi-row insert (for `unnest`), borrowed from its rows:
/// every row's value, nulls kept in place, or the one value every row holds.
#[derive(Debug)]
pub(crate) enum RowsColumn<'a> {
    Each(FieldKind, Vec<&'a Value>),
    Shared(&'a Value),
}

impl RowsColumn<'_> {
    /// Row `k`'s value.
    pub(crate) fn row(&self, k: usize) -> &Value {
        match self {
            RowsColumn::Each(_, values) => values.get(k).copied().unwrap_or(&Value::Null),
            RowsColumn::Shared(value) => value,
        }
    }
}

impl ToSql for RowsColumn<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            RowsColumn::Each(kind, values) => array_to_sql(*kind, values.iter().copied(), ty, out),
            RowsColumn::Shared(value) => value.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The PostgreSQL type of a field kind's column.
pub(crate) fn kind_type(kind: FieldKind) -> Type {
    match kind {
        FieldKind::Text | FieldKind::DbId => Type::TEXT,
        FieldKind::I16 => Type::INT2,
        FieldKind::I32 => Type::INT4,
        FieldKind::I64 => Type::INT8,
        FieldKind::F64 => Type::FLOAT8,
        FieldKind::Bool => Type::BOOL,
        FieldKind::Timestamp => Type::TIMESTAMPTZ,
        FieldKind::Json => Type::JSONB,
    }
}

/// The PostgreSQL array type of a field kind.
pub(crate) fn kind_array_type(kind: FieldKind) -> Type {
    match kind {
        FieldKind::Text | FieldKind::DbId => Type::TEXT_ARRAY,
        FieldKind::I16 => Type::INT2_ARRAY,
        FieldKind::I32 => Type::INT4_ARRAY,
        FieldKind::I64 => Type::INT8_ARRAY,
        FieldKind::F64 => Type::FLOAT8_ARRAY,
        FieldKind::Bool => Type::BOOL_ARRAY,
        FieldKind::Timestamp => Type::TIMESTAMPTZ_ARRAY,
        FieldKind::Json => Type::JSONB_ARRAY,
    }
}

/// Encodes values as a typed PostgreSQL array, a null element for each
/// null, each value written in place (no copy of the column first).
fn array_to_sql<'v>(
    kind: FieldKind,
    values: impl ExactSizeIterator<Item = &'v Value>,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
    let Kind::Array(member) = ty.kind() else {
        return Err(format!("an array parameter bound as `{ty}`").into());
    };
    let dimension = ArrayDimension { len: i32::try_from(values.len())?, lower_bound: 1 };
    array_to_sql_raw(
        [dimension],
        member.oid(),
        values,
        |value, out| match value {
            Value::Null => Ok(postgres_protocol::IsNull::Yes),
            value if value.kind() == Some(kind) => {
                value.to_sql(member, out).map(|_| postgres_protocol::IsNull::No)
            }
            value => {
                let found = value.kind().map_or("a null", FieldKind::describe);
                Err(format!("{found} in an array of {}", kind.describe()).into())
            }
        },
        out,
    )?;
    Ok(IsNull::No)
}
