//! Decoding typed results: what a typed select returns. Top-level columns
//! decode straight from the row; embedded relations from the JSON
//! PostgreSQL builds for them, deserialized straight from the column's text
//! into the entities (no tree of `serde_json::Value`s in between), with the
//! same checks and errors as [`Entity::from_json`].

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use postgres_types::{FromSql, Type};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use tokio_postgres::Row;

use super::SelectNode;
use crate::schema::{FieldKind, FieldMeta};
use crate::{Entity, Error, FieldType, Result, Value};

/// A type a typed select can return rows of.
pub trait RowShape: Sized + Send + 'static {
    /// Decodes a result row; `embeds` counts the embed columns used so far.
    #[doc(hidden)]
    fn decode_row(row: &Row, node: &SelectNode, embeds: &mut usize) -> Result<Self>;

    /// Decodes a joined embedded row from the columns `first..` of its
    /// parent's row.
    #[doc(hidden)]
    fn decode_row_at(_row: &Row, _node: &SelectNode, _first: usize) -> Result<Self> {
        Err(shape_mismatch())
    }

    /// Decodes an embedded row from its JSON object.
    #[doc(hidden)]
    fn decode_json(object: &Map<String, Json>, node: &SelectNode, embeds: &mut usize) -> Result<Self>;

    /// Writes the row's JSON form (keyed by logical names) into `out`;
    /// `embeds` counts the embeds written so far.
    #[doc(hidden)]
    fn write_json(&self, node: &SelectNode, embeds: &mut usize, out: &mut Map<String, Json>);

    /// Decodes an embedded row from JSON text as it is read. This default
    /// builds the object and calls [`decode_json`](Self::decode_json);
    /// entities read their fields straight from the text.
    #[doc(hidden)]
    fn deserialize_embedded<'de, D: Deserializer<'de>>(
        deserializer: D,
        node: &SelectNode,
        failure: &Failure,
    ) -> std::result::Result<Self, D::Error> {
        match Json::deserialize(deserializer)? {
            Json::Object(object) => Self::decode_json(&object, node, &mut 0).map_err(|e| failure.fail(e)),
            _ => Err(failure.fail(expected_object())),
        }
    }
}

impl<E: Entity> RowShape for E {
    fn decode_row(row: &Row, _: &SelectNode, _: &mut usize) -> Result<Self> {
        E::from_row(row)
    }

    fn decode_row_at(row: &Row, _: &SelectNode, first: usize) -> Result<Self> {
        E::from_row_at(row, first)
    }

    fn write_json(&self, _: &SelectNode, _: &mut usize, out: &mut Map<String, Json>) {
        for (field, value) in E::META.fields.iter().zip(self.values()) {
            out.insert(field.name.to_owned(), value.to_json());
        }
    }

    fn decode_json(object: &Map<String, Json>, _: &SelectNode, _: &mut usize) -> Result<Self> {
        E::from_json(object).map_err(embedded_error)
    }

    fn deserialize_embedded<'de, D: Deserializer<'de>>(
        deserializer: D,
        _: &SelectNode,
        failure: &Failure,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(EntityVisitor::<E> { failure, marker: PhantomData })
    }
}

/// What an embedded relation decodes to: `Option<T>` (points-to) or
/// `Vec<T>` (resolves-to-many).
pub trait EmbedShape: Sized + Send + 'static {
    #[doc(hidden)]
    fn decode_embed(json: Json, node: &SelectNode) -> Result<Self>;

    /// The embed's JSON form: an object or `null`, or a list of objects.
    #[doc(hidden)]
    fn embed_json(&self, node: &SelectNode) -> Json;

    /// Decodes the embed from the JSON text of its column.
    #[doc(hidden)]
    fn decode_embed_text(text: &[u8], node: &SelectNode) -> Result<Self> {
        let json: Json = serde_json::from_slice(text).map_err(invalid_json)?;
        Self::decode_embed(json, node)
    }

    /// Decodes a joined embed from its columns (`first`: its marker, then
    /// its columns).
    #[doc(hidden)]
    fn decode_embed_columns(_row: &Row, _first: usize, _node: &SelectNode) -> Result<Self> {
        Err(shape_mismatch())
    }
}

impl<T: RowShape> EmbedShape for Option<T> {
    fn embed_json(&self, node: &SelectNode) -> Json {
        self.as_ref().map_or(Json::Null, |row| row_json(row, node))
    }

    fn decode_embed(json: Json, node: &SelectNode) -> Result<Self> {
        match json {
            Json::Null => Ok(None),
            Json::Object(object) => T::decode_json(&object, node, &mut 0).map(Some),
            _ => Err(embedded_error(Error::validation("", "expected an object"))),
        }
    }

    fn decode_embed_text(text: &[u8], node: &SelectNode) -> Result<Self> {
        from_text(text, |d, failure| {
            d.deserialize_option(OptionVisitor::<T> { node, failure, marker: PhantomData })
        })
    }

    fn decode_embed_columns(row: &Row, first: usize, node: &SelectNode) -> Result<Self> {
        let present: Option<bool> =
            row.try_get(first).map_err(|e| crate::DatabaseError::new("decoding an embedded relation", e))?;
        match present {
            Some(true) => T::decode_row_at(row, node, first + 1).map(Some),
            _ => Ok(None),
        }
    }
}

impl<T: RowShape> EmbedShape for Vec<T> {
    fn embed_json(&self, node: &SelectNode) -> Json {
        Json::Array(self.iter().map(|row| row_json(row, node)).collect())
    }

    fn decode_embed(json: Json, node: &SelectNode) -> Result<Self> {
        let Json::Array(items) = json else {
            return Err(embedded_error(Error::validation("", "expected a list")));
        };
        items
            .into_iter()
            .map(|item| match item {
                Json::Object(object) => T::decode_json(&object, node, &mut 0),
                _ => Err(embedded_error(Error::validation("", "expected an object"))),
            })
            .collect()
    }

    fn decode_embed_text(text: &[u8], node: &SelectNode) -> Result<Self> {
        from_text(text, |d, failure| {
            d.deserialize_any(ListVisitor::<T> { node, failure, marker: PhantomData })
        })
    }
}

/// A row with an embedded relation: `(Note, Option<User>)`, `(User, Vec<Note>)`.
impl<R: RowShape, X: EmbedShape> RowShape for (R, X) {
    fn decode_row(row: &Row, node: &SelectNode, embeds: &mut usize) -> Result<Self> {
        let parent = R::decode_row(row, node, embeds)?;
        let index = *embeds;
        *embeds += 1;
        let embed = node.embeds.get(index).ok_or_else(shape_mismatch)?;
        let at = node.embed_column(index);
        if embed.is_joined() {
            return Ok((parent, X::decode_embed_columns(row, at, &embed.node)?));
        }
        let text: Option<JsonText<'_>> =
            row.try_get(at).map_err(|e| crate::DatabaseError::new("decoding an embedded relation", e))?;
        let embedded = match text {
            Some(JsonText(text)) => X::decode_embed_text(text, &embed.node)?,
            None => X::decode_embed(Json::Null, &embed.node)?,
        };
        Ok((parent, embedded))
    }

    fn write_json(&self, node: &SelectNode, embeds: &mut usize, out: &mut Map<String, Json>) {
        self.0.write_json(node, embeds, out);
        let index = *embeds;
        *embeds += 1;
        if let Some(embed) = node.embeds.get(index) {
            out.insert(embed.relation.name.to_owned(), self.1.embed_json(&embed.node));
        }
    }

    fn decode_json(object: &Map<String, Json>, node: &SelectNode, embeds: &mut usize) -> Result<Self> {
        let parent = R::decode_json(object, node, embeds)?;
        let index = *embeds;
        *embeds += 1;
        let embed = node.embeds.get(index).ok_or_else(shape_mismatch)?;
        let json = object.get(embed.relation.name).cloned().unwrap_or(Json::Null);
        Ok((parent, X::decode_embed(json, &embed.node)?))
    }
}

/// A row of selected columns: `Cols((id, title))` from
/// `.columns((Note::ID, Note::TITLE))`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cols<T>(pub T);

/// A row of an aggregate read: the group-by values and the aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouped<G, A> {
    /// The values of the group-by fields (`()` without group-by).
    pub group: G,
    /// The aggregate values, in the order asked for.
    pub values: A,
}

/// Reads a value of `T` from a row column or JSON member.
fn take<T: FieldType>(
    row: Option<&Row>,
    object: Option<&Map<String, Json>>,
    index: usize,
    name: &str,
) -> Result<T> {
    match (row, object) {
        (Some(row), _) => {
            row.try_get(index).map_err(|e| crate::DatabaseError::new("decoding a column", e).into())
        }
        (None, Some(object)) => {
            let json = object.get(name).unwrap_or(&Json::Null);
            let value =
                Value::from_json(T::KIND, json).map_err(|m| embedded_error(Error::validation(name, m)))?;
            T::from_value(value).ok_or_else(|| embedded_error(Error::validation(name, "is null")))
        }
        (None, None) => Err(shape_mismatch()),
    }
}

/// Tuples of column types decode in order; names come from the node (the
/// group-by fields, then the aggregate aliases).
pub trait ColumnValues: Sized + Send + 'static {
    /// How many columns.
    const LEN: usize;
    #[doc(hidden)]
    fn take_from(
        row: Option<&Row>,
        object: Option<&Map<String, Json>>,
        first: usize,
        names: &[String],
    ) -> Result<Self>;

    /// The values, in order.
    #[doc(hidden)]
    fn values(&self) -> Vec<Value>;
}

macro_rules! column_values {
    ($len:expr; $($t:ident $i:tt),*) => {
        impl<$($t: FieldType),*> ColumnValues for ($($t,)*) {
            const LEN: usize = $len;
            #[allow(unused_variables)]
            fn take_from(row: Option<&Row>, object: Option<&Map<String, Json>>, first: usize, names: &[String]) -> Result<Self> {
                Ok(($(take::<$t>(row, object, first + $i, names.get(first + $i).map_or("", String::as_str))?,)*))
            }
            fn values(&self) -> Vec<Value> {
                vec![$(self.$i.to_value()),*]
            }
        }
    };
}

column_values!(0;);
column_values!(1; A 0);
column_values!(2; A 0, B 1);
column_values!(3; A 0, B 1, C 2);
column_values!(4; A 0, B 1, C 2, D 3);
column_values!(5; A 0, B 1, C 2, D 3, F 4);
column_values!(6; A 0, B 1, C 2, D 3, F 4, G 5);
column_values!(7; A 0, B 1, C 2, D 3, F 4, G 5, H 6);
column_values!(8; A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);

fn names(node: &SelectNode) -> Vec<String> {
    let aggregates = (0..node.aggregates.len()).map(crate::render::aggregate_column);
    node.columns.iter().map(|f| f.name.to_owned()).chain(aggregates).collect()
}

/// The JSON keys of a node's columns: the field names, then the aggregate
/// names.
fn json_names(node: &SelectNode) -> impl Iterator<Item = &str> {
    let aggregates = node.aggregates.iter().map(|a| a.alias.as_str());
    node.columns.iter().map(|f| f.name).chain(aggregates)
}

fn write_values(values: Vec<Value>, names: &mut dyn Iterator<Item = &str>, out: &mut Map<String, Json>) {
    for (value, name) in values.into_iter().zip(names) {
        out.insert(name.to_owned(), value.to_json());
    }
}

/// One row's JSON object.
fn row_json<R: RowShape>(row: &R, node: &SelectNode) -> Json {
    let mut out = Map::new();
    row.write_json(node, &mut 0, &mut out);
    Json::Object(out)
}

/// Rows of a typed select in their JSON form: what
/// [`Query::json`](crate::query::Query::json) returns. Serializes as a JSON array.
pub struct JsonRows<'a, R> {
    pub(super) node: &'a SelectNode,
    pub(super) rows: &'a [R],
}

impl<R: RowShape> JsonRows<'_, R> {
    /// The rows as JSON values.
    pub fn to_values(&self) -> Vec<Json> {
        self.rows.iter().map(|row| row_json(row, self.node)).collect()
    }
}

impl<R: RowShape> serde::Serialize for JsonRows<'_, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&row_json(row, self.node))?;
        }
        seq.end()
    }
}

impl<T: ColumnValues> RowShape for Cols<T> {
    fn decode_row(row: &Row, node: &SelectNode, _: &mut usize) -> Result<Self> {
        T::take_from(Some(row), None, 0, &names(node)).map(Cols)
    }

    fn decode_row_at(row: &Row, node: &SelectNode, first: usize) -> Result<Self> {
        T::take_from(Some(row), None, first, &names(node)).map(Cols)
    }

    fn write_json(&self, node: &SelectNode, _: &mut usize, out: &mut Map<String, Json>) {
        write_values(self.0.values(), &mut json_names(node), out);
    }

    fn decode_json(object: &Map<String, Json>, node: &SelectNode, _: &mut usize) -> Result<Self> {
        T::take_from(None, Some(object), 0, &names(node)).map(Cols)
    }
}

impl<G: ColumnValues, A: ColumnValues> RowShape for Grouped<G, A> {
    fn write_json(&self, node: &SelectNode, _: &mut usize, out: &mut Map<String, Json>) {
        let mut names = json_names(node);
        write_values(self.group.values(), &mut names, out);
        write_values(self.values.values(), &mut names, out);
    }

    fn decode_row(row: &Row, node: &SelectNode, _: &mut usize) -> Result<Self> {
        let names = names(node);
        Ok(Grouped {
            group: G::take_from(Some(row), None, 0, &names)?,
            values: A::take_from(Some(row), None, G::LEN, &names)?,
        })
    }

    fn decode_json(object: &Map<String, Json>, node: &SelectNode, _: &mut usize) -> Result<Self> {
        let names = names(node);
        Ok(Grouped {
            group: G::take_from(None, Some(object), 0, &names)?,
            values: A::take_from(None, Some(object), G::LEN, &names)?,
        })
    }
}

/// The undecoded text of a `json` or `jsonb` column.
pub(crate) struct JsonText<'a>(pub(crate) &'a [u8]);

impl<'a> FromSql<'a> for JsonText<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            // jsonb's binary form: a version byte (1), then the text.
            match raw.split_first() {
                Some((1, text)) => Ok(JsonText(text)),
                _ => Err("unsupported jsonb encoding version".into()),
            }
        } else {
            Ok(JsonText(raw))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// The first error of a decode that serde reports only as text: kept so
/// the caller gets the library's own error, exactly as the tree-based
/// decode would have built it.
#[doc(hidden)]
#[derive(Default)]
pub struct Failure(RefCell<Option<Error>>);

impl Failure {
    /// Records `err` (the first one wins) and returns a serde error to stop.
    fn fail<E: de::Error>(&self, err: Error) -> E {
        let message = err.to_string();
        self.0.borrow_mut().get_or_insert(err);
        E::custom(message)
    }
}

/// Runs a decode of JSON text; the error is the recorded one, else the
/// text's own (not JSON, trailing characters).
fn from_text<T>(
    text: &[u8],
    decode: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
        &Failure,
    ) -> serde_json::Result<T>,
) -> Result<T> {
    let failure = Failure::default();
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let decoded = decode(&mut deserializer, &failure).and_then(|value| deserializer.end().map(|()| value));
    decoded.map_err(|e| failure.0.into_inner().unwrap_or_else(|| invalid_json(e)))
}

fn invalid_json(err: serde_json::Error) -> Error {
    Error::Database(crate::DatabaseError::new("decoding an embedded relation", err))
}

fn expected_object() -> Error {
    embedded_error(Error::validation("", "expected an object"))
}

/// Visits the kinds of JSON value that are not what a visitor expects:
/// each records `$error` and stops.
macro_rules! refuse_other_json {
    ($error:expr) => {
        fn visit_bool<Er: de::Error>(self, _: bool) -> std::result::Result<Self::Value, Er> {
            Err(self.failure.fail($error))
        }
        fn visit_i64<Er: de::Error>(self, _: i64) -> std::result::Result<Self::Value, Er> {
            Err(self.failure.fail($error))
        }
        fn visit_u64<Er: de::Error>(self, _: u64) -> std::result::Result<Self::Value, Er> {
            Err(self.failure.fail($error))
        }
        fn visit_f64<Er: de::Error>(self, _: f64) -> std::result::Result<Self::Value, Er> {
            Err(self.failure.fail($error))
        }
        fn visit_str<Er: de::Error>(self, _: &str) -> std::result::Result<Self::Value, Er> {
            Err(self.failure.fail($error))
        }
    };
}

/// `null` or an embedded row.
struct OptionVisitor<'a, T> {
    node: &'a SelectNode,
    failure: &'a Failure,
    marker: PhantomData<fn() -> T>,
}

impl<'de, T: RowShape> Visitor<'de> for OptionVisitor<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }

    fn visit_none<Er: de::Error>(self) -> std::result::Result<Self::Value, Er> {
        Ok(None)
    }

    fn visit_unit<Er: de::Error>(self) -> std::result::Result<Self::Value, Er> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Self::Value, D::Error> {
        T::deserialize_embedded(deserializer, self.node, self.failure).map(Some)
    }
}

/// A list of embedded rows.
struct ListVisitor<'a, T> {
    node: &'a SelectNode,
    failure: &'a Failure,
    marker: PhantomData<fn() -> T>,
}

impl<'de, T: RowShape> Visitor<'de> for ListVisitor<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let seed = RowSeed::<T> { node: self.node, failure: self.failure, marker: PhantomData };
        while let Some(item) = seq.next_element_seed(seed.clone())? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_unit<Er: de::Error>(self) -> std::result::Result<Self::Value, Er> {
        Err(self.failure.fail(embedded_error(Error::validation("", "expected a list"))))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<Self::Value, A::Error> {
        Err(self.failure.fail(embedded_error(Error::validation("", "expected a list"))))
    }

    refuse_other_json!(embedded_error(Error::validation("", "expected a list")));
}

/// One embedded row of a list.
struct RowSeed<'a, T> {
    node: &'a SelectNode,
    failure: &'a Failure,
    marker: PhantomData<fn() -> T>,
}

impl<T> Clone for RowSeed<'_, T> {
    fn clone(&self) -> Self {
        RowSeed { node: self.node, failure: self.failure, marker: PhantomData }
    }
}

impl<'de, T: RowShape> DeserializeSeed<'de> for RowSeed<'_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<T, D::Error> {
        T::deserialize_embedded(deserializer, self.node, self.failure)
    }
}

/// An entity's JSON object, read field by field into values of the
/// fields' kinds, then built with [`Entity::from_values`]: the same
/// values, checks and errors as [`Entity::from_json`].
struct EntityVisitor<'a, E> {
    failure: &'a Failure,
    marker: PhantomData<fn() -> E>,
}

impl<'de, E: Entity> Visitor<'de> for EntityVisitor<'_, E> {
    type Value = E;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<E, A::Error> {
        let fields = E::META.fields;
        let mut values = vec![Value::Null; fields.len()];
        while let Some(index) = map.next_key_seed(FieldIndex(fields))? {
            match index {
                Some(i) => {
                    values[i] =
                        map.next_value_seed(FieldValue { field: &fields[i], failure: self.failure })?
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // A missing member reads as null, as in `from_json`.
        if let Some(field) = fields.iter().zip(&values).find(|(f, v)| !f.nullable && **v == Value::Null) {
            return Err(self
                .failure
                .fail(embedded_error(Error::validation(field.0.name, "must not be null"))));
        }
        E::from_values(values).map_err(|err| {
            // `from_json` reports a value its type refuses as null.
            let path = match &err {
                Error::Validation(v) => v.path.clone(),
                _ => String::new(),
            };
            self.failure.fail(embedded_error(Error::validation(path, "must not be null")))
        })
    }

    fn visit_unit<Er: de::Error>(self) -> std::result::Result<E, Er> {
        Err(self.failure.fail(expected_object()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> std::result::Result<E, A::Error> {
        Err(self.failure.fail(expected_object()))
    }

    refuse_other_json!(expected_object());
}

/// A member name: the index of the field it names, if any.
struct FieldIndex(&'static [FieldMeta]);

impl<'de> DeserializeSeed<'de> for FieldIndex {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldIndex {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<Er: de::Error>(self, name: &str) -> std::result::Result<Option<usize>, Er> {
        Ok(self.0.iter().position(|f| f.name == name))
    }
}

/// A member's value as a [`Value`] of its field's kind, exactly as
/// [`Value::from_json`] reads it; strings (text, ids, timestamps) without
/// building a JSON string first.
struct FieldValue<'a> {
    field: &'static FieldMeta,
    failure: &'a Failure,
}

impl FieldValue<'_> {
    fn fail<Er: de::Error>(&self, message: String) -> Er {
        self.failure.fail(embedded_error(Error::validation(self.field.name, message)))
    }

    fn read_json<Er: de::Error>(&self, json: &Json) -> std::result::Result<Value, Er> {
        Value::from_json(self.field.kind, json).map_err(|m| self.fail(m))
    }
}

impl<'de> DeserializeSeed<'de> for FieldValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Value, D::Error> {
        match self.field.kind {
            FieldKind::Text | FieldKind::DbId | FieldKind::Timestamp => deserializer.deserialize_any(self),
            _ => {
                let json = Json::deserialize(deserializer)?;
                self.read_json(&json)
            }
        }
    }
}

impl<'de> Visitor<'de> for FieldValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<Er: de::Error>(self, s: &str) -> std::result::Result<Value, Er> {
        if s.contains('\0') {
            return self.read_json(&Json::String(s.to_owned()));
        }
        match self.field.kind {
            FieldKind::Text => Ok(Value::Text(s.to_owned())),
            FieldKind::DbId => s.parse().map(Value::DbId).map_err(|e| self.fail(format!("{e}"))),
            FieldKind::Timestamp => DateTime::parse_from_rfc3339(s)
                .map(|t| Value::Timestamp(t.with_timezone(&Utc)))
                .map_err(|_| self.fail("expected an RFC 3339 timestamp".to_owned())),
            _ => self.read_json(&Json::String(s.to_owned())),
        }
    }

    fn visit_unit<Er: de::Error>(self) -> std::result::Result<Value, Er> {
        Ok(Value::Null)
    }

    fn visit_bool<Er: de::Error>(self, b: bool) -> std::result::Result<Value, Er> {
        self.read_json(&Json::Bool(b))
    }

    fn visit_i64<Er: de::Error>(self, n: i64) -> std::result::Result<Value, Er> {
        self.read_json(&Json::from(n))
    }

    fn visit_u64<Er: de::Error>(self, n: u64) -> std::result::Result<Value, Er> {
        self.read_json(&Json::from(n))
    }

    fn visit_f64<Er: de::Error>(self, n: f64) -> std::result::Result<Value, Er> {
        self.read_json(&Json::from(n))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Value, A::Error> {
        let json = Json::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.read_json(&json)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Value, A::Error> {
        let json = Json::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.read_json(&json)
    }
}

fn embedded_error(err: Error) -> Error {
    Error::Database(crate::DatabaseError::new("decoding an embedded row", err.to_string()))
}

fn shape_mismatch() -> Error {
    Error::Database(crate::DatabaseError::new(
        "decoding a row",
        "the result does not have the shape of the query",
    ))
}
