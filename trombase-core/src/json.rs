//! [`Json<T>`]: a typed `jsonb` field.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres_types::{FromSql, IsNull, ToSql, Type};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A `jsonb` column holding a value of a serde type `T`.
///
/// ```
/// use trombase_core::Json;
/// #[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
/// struct Settings { dark: bool }
/// let field = Json(Settings { dark: true });
/// assert_eq!(serde_json::to_string(&field).unwrap(), r#"{"dark":true}"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T: Serialize + std::fmt::Debug> ToSql for Json<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        postgres_types::Json(&self.0).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <postgres_types::Json<serde_json::Value> as ToSql>::accepts(ty)
    }

    postgres_types::to_sql_checked!();
}

impl<'a, T: DeserializeOwned> FromSql<'a> for Json<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        postgres_types::Json::<T>::from_sql(ty, raw).map(|json| Json(json.0))
    }

    fn accepts(ty: &Type) -> bool {
        <postgres_types::Json<serde_json::Value> as FromSql>::accepts(ty)
    }
}
