//! [`FieldType`]: the Rust types an entity field may have, and their kinds.

use chrono::{DateTime, Utc};
use postgres_types::{FromSql, ToSql};

use crate::schema::FieldKind;
use crate::{DbId, Json, Value};

/// A Rust type that can be an entity field.
///
/// Implemented for `String`, `i16`, `i32`, `i64`, `f64`, `bool`,
/// `DateTime<Utc>`, `serde_json::Value`, [`Json<T>`], [`DbId`], and `Option<T>`
/// of any of these (a nullable column).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported TromBase field type",
    label = "unsupported field type",
    note = "supported: String, i16, i32, i64, f64, bool, DateTime<Utc>, serde_json::Value, Json<T>, DbId, and Option<T> of any of these"
)]
pub trait FieldType: ToSql + for<'a> FromSql<'a> + Clone + Send + Sync + 'static {
    /// The column kind.
    const KIND: FieldKind;
    /// Whether the column is nullable.
    const NULLABLE: bool;
    /// The non-null type: `T` for `T` and for `Option<T>`. Comparisons take
    /// values of this type.
    type Inner: NotNullFieldType;

    /// This value as a [`Value`].
    fn to_value(&self) -> Value;

    /// The value back from a [`Value`] of this field's kind; `None` when the
    /// value is of another kind (or null for a non-null field).
    fn from_value(value: Value) -> Option<Self>;
}

/// A [`FieldType`] that is not `Option<T>`; wrapping it in `Option` makes a
/// nullable field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported non-null TromBase field type",
    label = "unsupported field type",
    note = "supported inside Option<T>: String, i16, i32, i64, f64, bool, DateTime<Utc>, serde_json::Value, Json<T>, DbId"
)]
pub trait NotNullFieldType: FieldType {}

macro_rules! plain_field_types {
    ($($ty:ty => $kind:ident, $value:ident;)*) => {$(
        impl FieldType for $ty {
            const KIND: FieldKind = FieldKind::$kind;
            const NULLABLE: bool = false;
            type Inner = Self;
            fn to_value(&self) -> Value {
                Value::$value(self.clone())
            }
            fn from_value(value: Value) -> Option<Self> {
                match value {
                    Value::$value(v) => Some(v),
                    _ => None,
                }
            }
        }
        impl NotNullFieldType for $ty {}
    )*};
}

plain_field_types! {
    String => Text, Text;
    i16 => I16, I16;
    i32 => I32, I32;
    i64 => I64, I64;
    f64 => F64, F64;
    bool => Bool, Bool;
    DateTime<Utc> => Timestamp, Timestamp;
    serde_json::Value => Json, Json;
    DbId => DbId, DbId;
}

impl<T> FieldType for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug + Clone + Send + Sync + 'static,
{
    const KIND: FieldKind = FieldKind::Json;
    const NULLABLE: bool = false;
    type Inner = Self;
    fn to_value(&self) -> Value {
        Value::Json(serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null))
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Json(v) => serde_json::from_value(v).ok().map(Json),
            _ => None,
        }
    }
}

impl<T> NotNullFieldType for Json<T> where
    T: serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug + Clone + Send + Sync + 'static
{
}

impl<T: NotNullFieldType> FieldType for Option<T> {
    const KIND: FieldKind = T::KIND;
    const NULLABLE: bool = true;
    type Inner = T;
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}
