//! Bind parameters of rendered SQL.

use std::error::Error as StdError;

use bytes::BytesMut;
use chrono::{DateTime, Utc};
use postgres_types::{to_sql_checked, IsNull, ToSql, Type};

use crate::schema::FieldKind;
use crate::{DbId, Value};

/// One bind parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A column value.
    Value(Value),
    /// An array of values of one kind (for `= ANY($n)`).
    List(FieldKind, Vec<Value>),
    /// One column of several rows, nulls kept in place (for `unnest`).
    Column(FieldKind, Vec<Value>),
    /// A `bigint` (offsets).
    Int(i64),
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Value(value) => value.to_sql(ty, out),
            Param::Int(n) => n.to_sql(ty, out),
            // An `in` list holds no nulls (they are refused); a column's keep their place.
            Param::List(kind, values) | Param::Column(kind, values) => array_to_sql(*kind, values, ty, out),
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
            Param::List(kind, _) | Param::Column(kind, _) => kind_array_type(*kind),
            Param::Int(_) => Type::INT8,
        }
    }
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

/// Encodes values of one kind as a typed PostgreSQL array, a null element
/// for each null.
fn array_to_sql(
    kind: FieldKind,
    values: &[Value],
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
    macro_rules! typed {
        ($variant:ident, $t:ty) => {{
            let items: Vec<Option<$t>> = values
                .iter()
                .map(|v| if let Value::$variant(x) = v { Some(x.clone()) } else { None })
                .collect();
            items.to_sql(ty, out)
        }};
    }
    match kind {
        FieldKind::Text => typed!(Text, String),
        FieldKind::I16 => typed!(I16, i16),
        FieldKind::I32 => typed!(I32, i32),
        FieldKind::I64 => typed!(I64, i64),
        FieldKind::F64 => typed!(F64, f64),
        FieldKind::Bool => typed!(Bool, bool),
        FieldKind::Timestamp => typed!(Timestamp, DateTime<Utc>),
        FieldKind::Json => typed!(Json, serde_json::Value),
        FieldKind::DbId => typed!(DbId, DbId),
    }
}
