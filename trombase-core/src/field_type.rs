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

    /// This value as a [`Value`], moved (no copy of a string).
    fn into_value(self) -> Value {
        self.to_value()
    }

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
            fn into_value(self) -> Value {
                Value::$value(self)
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
    fn into_value(self) -> Value {
        self.map_or(Value::Null, T::into_value)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A value a field whose non-null type is `T` compares with
/// (`Note::TITLE.eq("x")`): a value of `T` itself, and for text `&str` and
/// `&String` too. There are no other conversions, so a comparison with a
/// value of another type (a number with text, a [`DbId`] with text) does not
/// compile. A nullable field compares with values of its inner type;
/// `is_null()` tests for null.
#[diagnostic::on_unimplemented(
    message = "a field of type `{T}` compares with values of that type, not with `{Self}`",
    label = "expected `{T}`",
    note = "a field compares with a value of its own type (text fields also take `&str`), with no implicit conversion; a nullable field compares with its inner type, and `is_null()` tests for null"
)]
pub trait CompareWith<T> {
    /// The value as the field's type.
    fn into_field_value(self) -> T;
}

/// A value field of type `T` may be set to (`Note::TITLE.set("x")`): a value
/// of `T`; for text `&str` and `&String` too; for a nullable field, a value
/// of its inner type, an `Option` of it, or `None`. There are no other
/// conversions.
#[diagnostic::on_unimplemented(
    message = "a field of type `{T}` is set to a value of that type, not to `{Self}`",
    label = "expected `{T}`",
    note = "a field takes a value of its own type (text fields also take `&str`), with no implicit conversion; a nullable field also takes a value of its inner type, or `None`"
)]
pub trait SetTo<T> {
    /// The value as the field's type.
    fn into_field_value(self) -> T;
}

// The impls are hidden from the errors' lists of what does qualify
// (`do_not_recommend`, which compilers before 1.85 do not know and skip):
// the notes above say it in fewer words.
macro_rules! same_type_values {
    ($($ty:ty),*) => {$(
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl CompareWith<$ty> for $ty {
            fn into_field_value(self) -> $ty {
                self
            }
        }
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl SetTo<$ty> for $ty {
            fn into_field_value(self) -> $ty {
                self
            }
        }
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl SetTo<Option<$ty>> for $ty {
            fn into_field_value(self) -> Option<$ty> {
                Some(self)
            }
        }
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl SetTo<Option<$ty>> for Option<$ty> {
            fn into_field_value(self) -> Option<$ty> {
                self
            }
        }
    )*};
}

same_type_values!(String, i16, i32, i64, f64, bool, DateTime<Utc>, serde_json::Value, DbId);

macro_rules! text_values {
    ($($ty:ty),*) => {$(
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl CompareWith<String> for $ty {
            fn into_field_value(self) -> String {
                self.to_owned()
            }
        }
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl SetTo<String> for $ty {
            fn into_field_value(self) -> String {
                self.to_owned()
            }
        }
        #[allow(unknown_or_malformed_diagnostic_attributes)]
        #[diagnostic::do_not_recommend]
        impl SetTo<Option<String>> for $ty {
            fn into_field_value(self) -> Option<String> {
                Some(self.to_owned())
            }
        }
    )*};
}

text_values!(&str, &String);

#[allow(unknown_or_malformed_diagnostic_attributes)]
#[diagnostic::do_not_recommend]
impl<J> CompareWith<Json<J>> for Json<J> {
    fn into_field_value(self) -> Json<J> {
        self
    }
}

#[allow(unknown_or_malformed_diagnostic_attributes)]
#[diagnostic::do_not_recommend]
impl<J> SetTo<Json<J>> for Json<J> {
    fn into_field_value(self) -> Json<J> {
        self
    }
}

#[allow(unknown_or_malformed_diagnostic_attributes)]
#[diagnostic::do_not_recommend]
impl<J> SetTo<Option<Json<J>>> for Json<J> {
    fn into_field_value(self) -> Option<Json<J>> {
        Some(self)
    }
}

#[allow(unknown_or_malformed_diagnostic_attributes)]
#[diagnostic::do_not_recommend]
impl<J> SetTo<Option<Json<J>>> for Option<Json<J>> {
    fn into_field_value(self) -> Option<Json<J>> {
        self
    }
}
