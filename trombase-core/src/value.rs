//! [`Value`]: one column value of any supported kind, as it travels from
//! either front end (typed Rust or JSON) to a bind parameter.

use std::error::Error as StdError;

use bytes::BytesMut;
use chrono::{DateTime, Utc};
use postgres_types::{to_sql_checked, IsNull, ToSql, Type};

use crate::schema::FieldKind;
use crate::DbId;

/// A column value. Values only ever reach SQL as bind parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// `text`.
    Text(String),
    /// `smallint`.
    I16(i16),
    /// `integer`.
    I32(i32),
    /// `bigint`.
    I64(i64),
    /// `double precision`.
    F64(f64),
    /// `boolean`.
    Bool(bool),
    /// `timestamptz`.
    Timestamp(DateTime<Utc>),
    /// `jsonb`.
    Json(serde_json::Value),
    /// A [`DbId`], stored as text.
    DbId(DbId),
}

impl Value {
    /// The kind of a non-null value; `None` for [`Value::Null`].
    pub fn kind(&self) -> Option<FieldKind> {
        Some(match self {
            Value::Null => return None,
            Value::Text(_) => FieldKind::Text,
            Value::I16(_) => FieldKind::I16,
            Value::I32(_) => FieldKind::I32,
            Value::I64(_) => FieldKind::I64,
            Value::F64(_) => FieldKind::F64,
            Value::Bool(_) => FieldKind::Bool,
            Value::Timestamp(_) => FieldKind::Timestamp,
            Value::Json(_) => FieldKind::Json,
            Value::DbId(_) => FieldKind::DbId,
        })
    }

    /// The JSON form of this value, as the JSON API shows it (DbIds as
    /// base62 strings, timestamps as RFC 3339).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Text(s) => J::String(s.clone()),
            Value::I16(n) => J::from(*n),
            Value::I32(n) => J::from(*n),
            Value::I64(n) => J::from(*n),
            Value::F64(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
            Value::Bool(b) => J::Bool(*b),
            Value::Timestamp(t) => J::String(timestamp_text(t)),
            Value::Json(v) => v.clone(),
            Value::DbId(id) => J::String(id.to_string()),
        }
    }
}

/// Serializes as [`Value::to_json`] shows it.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Text(s) => serializer.serialize_str(s),
            Value::I16(n) => serializer.serialize_i16(*n),
            Value::I32(n) => serializer.serialize_i32(*n),
            Value::I64(n) => serializer.serialize_i64(*n),
            Value::F64(n) if n.is_finite() => serializer.serialize_f64(*n),
            Value::F64(_) => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Timestamp(t) => serializer.serialize_str(&timestamp_text(t)),
            Value::Json(v) => v.serialize(serializer),
            Value::DbId(id) => serializer.collect_str(id),
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Text(s) => s.to_sql(ty, out),
            Value::I16(n) => n.to_sql(ty, out),
            Value::I32(n) => n.to_sql(ty, out),
            Value::I64(n) => n.to_sql(ty, out),
            Value::F64(n) => n.to_sql(ty, out),
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Timestamp(t) => t.to_sql(ty, out),
            Value::Json(v) => v.to_sql(ty, out),
            Value::DbId(id) => id.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        // The statement's parameter types come from the schema, so the
        // per-variant impls above check the concrete pairing.
        true
    }

    to_sql_checked!();
}

impl Value {
    /// Reads a JSON value as a value of `kind`, strictly: integers must be
    /// integral and in range, timestamps RFC 3339 strings, DbIds valid
    /// base62. JSON `null` gives [`Value::Null`]; whether that is allowed is
    /// the caller's check. The error says what was expected.
    pub fn from_json(kind: FieldKind, json: &serde_json::Value) -> Result<Value, String> {
        use serde_json::Value as J;
        let expected = || format!("expected {}, got {}", kind.describe(), json_type_name(json));
        if has_nul(json) {
            return Err("must not contain NUL characters (\\u0000)".to_owned());
        }
        Ok(match (kind, json) {
            (_, J::Null) => Value::Null,
            (FieldKind::Text, J::String(s)) => Value::Text(s.clone()),
            (FieldKind::I16, J::Number(n)) => {
                Value::I16(n.as_i64().and_then(|n| i16::try_from(n).ok()).ok_or_else(expected)?)
            }
            (FieldKind::I32, J::Number(n)) => {
                Value::I32(n.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(expected)?)
            }
            (FieldKind::I64, J::Number(n)) => Value::I64(n.as_i64().ok_or_else(expected)?),
            (FieldKind::F64, J::Number(n)) => Value::F64(n.as_f64().ok_or_else(expected)?),
            (FieldKind::Bool, J::Bool(b)) => Value::Bool(*b),
            (FieldKind::Timestamp, J::String(s)) => Value::Timestamp(parse_timestamp(s).ok_or_else(|| {
                "expected a timestamp: RFC 3339 (2026-01-01T12:00:00Z), a date (2026-01-01, midnight UTC) \
                 or 2026-01-01 12:00:00+00"
                    .to_owned()
            })?),
            (FieldKind::Json, other) => Value::Json(other.clone()),
            (FieldKind::DbId, J::String(s)) => Value::DbId(s.parse().map_err(|e| format!("{e}"))?),
            _ => return Err(expected()),
        })
    }
}

impl Value {
    /// Reads column `i` of `row` as a value of `kind` (`Null` for SQL `NULL`).
    pub(crate) fn from_column(
        row: &tokio_postgres::Row,
        i: usize,
        kind: FieldKind,
    ) -> Result<Value, tokio_postgres::Error> {
        fn get<'a, T: postgres_types::FromSql<'a>>(
            row: &'a tokio_postgres::Row,
            i: usize,
            into: fn(T) -> Value,
        ) -> Result<Value, tokio_postgres::Error> {
            Ok(row.try_get::<_, Option<T>>(i)?.map_or(Value::Null, into))
        }
        match kind {
            FieldKind::Text => get(row, i, Value::Text),
            FieldKind::I16 => get(row, i, Value::I16),
            FieldKind::I32 => get(row, i, Value::I32),
            FieldKind::I64 => get(row, i, Value::I64),
            FieldKind::F64 => get(row, i, Value::F64),
            FieldKind::Bool => get(row, i, Value::Bool),
            FieldKind::Timestamp => get(row, i, Value::Timestamp),
            FieldKind::Json => get(row, i, Value::Json),
            FieldKind::DbId => get(row, i, Value::DbId),
        }
    }
}

/// A timestamp as row JSON carries it: RFC 3339 in UTC with a `Z`, with as
/// many fractional digits as it needs and no trailing zeros (PostgreSQL's
/// own form, so a row reads the same through the typed and the JSON API),
/// and the text sent back as a filter value is the same instant.
pub(crate) fn timestamp_text(t: &DateTime<Utc>) -> String {
    let mut text = t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    text.pop(); // the `Z`
    let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
    text.truncate(trimmed);
    text.push('Z');
    text
}

/// A timestamp from a client: RFC 3339 (`2026-01-01T12:00:00Z`), a date
/// (`2026-01-01`: midnight UTC), or PostgreSQL's own output form
/// (`2026-01-01 12:00:00+00`, `2026-01-01 12:00:00.5+05:30`, without an
/// offset: UTC). Parsed here, never handed to the database as text.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc())
}

/// PostgreSQL stores no NUL character in `text` or `jsonb`.
fn has_nul(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

impl Value {
    /// Whether the value holds a NUL character, which PostgreSQL cannot store.
    pub(crate) fn has_nul(&self) -> bool {
        match self {
            Value::Text(s) => s.contains('\0'),
            Value::Json(json) => has_nul(json),
            _ => false,
        }
    }
}

/// Untrusted text echoed in an error message: at most 64 characters.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The JSON type of a value, for error messages.
pub(crate) fn json_type_name(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_strict() {
        assert_eq!(Value::from_json(FieldKind::I16, &json!(7)), Ok(Value::I16(7)));
        assert!(Value::from_json(FieldKind::I16, &json!(70000)).is_err());
        assert!(Value::from_json(FieldKind::I32, &json!(1.5)).is_err());
        assert!(Value::from_json(FieldKind::I64, &json!("1")).is_err());
    }

    #[test]
    fn kinds_reject_other_json_types() {
        let err = Value::from_json(FieldKind::Text, &json!(5)).unwrap_err();
        assert_eq!(err, "expected text, got a number");
        assert!(Value::from_json(FieldKind::Bool, &json!("true")).is_err());
        assert!(Value::from_json(FieldKind::Timestamp, &json!("yesterday")).is_err());
        assert!(Value::from_json(FieldKind::Timestamp, &json!("2026-13-01")).is_err());
        assert!(Value::from_json(FieldKind::DbId, &json!("abc")).is_err());
    }

    #[test]
    fn nul_characters_are_refused() {
        assert!(Value::from_json(FieldKind::Text, &json!("a\u{0}b")).is_err());
        assert!(Value::from_json(FieldKind::Json, &json!({"k": ["\u{0}"]})).is_err());
        assert!(Value::from_json(FieldKind::Json, &json!({"\u{0}": 1})).is_err());
        assert!(Value::Text("a\0".into()).has_nul());
    }

    #[test]
    fn json_round_trips_through_value() {
        let t = json!("2024-05-06T07:08:09.123456+00:00");
        let v = Value::from_json(FieldKind::Timestamp, &t).unwrap();
        assert_eq!(v.to_json(), json!("2024-05-06T07:08:09.123456Z"), "UTC with a Z, every digit kept");
        let id = DbId::new();
        let v = Value::from_json(FieldKind::DbId, &json!(id.to_string())).unwrap();
        assert_eq!(v, Value::DbId(id));
        assert_eq!(Value::from_json(FieldKind::Json, &json!({"a": [1]})), Ok(Value::Json(json!({"a": [1]}))));
        assert_eq!(Value::from_json(FieldKind::Text, &json!(null)), Ok(Value::Null));
    }

    #[test]
    fn timestamps_in_the_forms_the_typescript_library_passed_through() {
        let at = |s: &str| parse_timestamp(s).map(|t| timestamp_text(&t));
        assert_eq!(at("2026-01-01").as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(at("2020-01-01 00:00:00+00").as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(at("2020-01-01 05:30:00.25+05:30").as_deref(), Some("2020-01-01T00:00:00.25Z"));
        assert_eq!(at("2020-01-01 00:00:00").as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(at("2026-12-01T07:53:05.557Z").as_deref(), Some("2026-12-01T07:53:05.557Z"));
        assert_eq!(at("2026-12-01T07:49:58.880675+00:00").as_deref(), Some("2026-12-01T07:49:58.880675Z"));
        for bad in ["2026-01", "01/02/2026", "2026-01-01T", "now", ""] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}
