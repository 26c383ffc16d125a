//! Decoding typed results: what a typed select returns. Top-level columns
//! decode straight from the row; embedded relations from the JSON
//! PostgreSQL builds for them.

use serde_json::{Map, Value as Json};
use tokio_postgres::Row;

use super::SelectNode;
use crate::{Entity, Error, FieldType, Result, Value};

/// A type a typed select can return rows of.
pub trait RowShape: Sized + Send + 'static {
    /// Decodes a result row; `embeds` counts the embed columns used so far.
    #[doc(hidden)]
    fn decode_row(row: &Row, node: &SelectNode, embeds: &mut usize) -> Result<Self>;

    /// Decodes an embedded row from its JSON object.
    #[doc(hidden)]
    fn decode_json(object: &Map<String, Json>, node: &SelectNode, embeds: &mut usize) -> Result<Self>;
}

impl<E: Entity> RowShape for E {
    fn decode_row(row: &Row, _: &SelectNode, _: &mut usize) -> Result<Self> {
        E::from_row(row)
    }

    fn decode_json(object: &Map<String, Json>, _: &SelectNode, _: &mut usize) -> Result<Self> {
        E::from_json(object).map_err(embedded_error)
    }
}

/// What an embedded relation decodes to: `Option<T>` (points-to) or
/// `Vec<T>` (resolves-to-many).
pub trait EmbedShape: Sized + Send + 'static {
    #[doc(hidden)]
    fn decode_embed(json: Json, node: &SelectNode) -> Result<Self>;
}

impl<T: RowShape> EmbedShape for Option<T> {
    fn decode_embed(json: Json, node: &SelectNode) -> Result<Self> {
        match json {
            Json::Null => Ok(None),
            Json::Object(object) => T::decode_json(&object, node, &mut 0).map(Some),
            _ => Err(embedded_error(Error::validation("", "expected an object"))),
        }
    }
}

impl<T: RowShape> EmbedShape for Vec<T> {
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
}

/// A row with an embedded relation: `(Note, Option<User>)`, `(User, Vec<Note>)`.
impl<R: RowShape, X: EmbedShape> RowShape for (R, X) {
    fn decode_row(row: &Row, node: &SelectNode, embeds: &mut usize) -> Result<Self> {
        let parent = R::decode_row(row, node, embeds)?;
        let index = *embeds;
        *embeds += 1;
        let embed = node.embeds.get(index).ok_or_else(shape_mismatch)?;
        let json: Option<Json> = row
            .try_get(node.columns.len() + index)
            .map_err(|e| crate::DatabaseError::new("decoding an embedded relation", e))?;
        let json = json.unwrap_or(Json::Null);
        Ok((parent, X::decode_embed(json, &embed.node)?))
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
        names: &[&str],
    ) -> Result<Self>;
}

macro_rules! column_values {
    ($len:expr; $($t:ident $i:tt),*) => {
        impl<$($t: FieldType),*> ColumnValues for ($($t,)*) {
            const LEN: usize = $len;
            #[allow(unused_variables)]
            fn take_from(row: Option<&Row>, object: Option<&Map<String, Json>>, first: usize, names: &[&str]) -> Result<Self> {
                Ok(($(take::<$t>(row, object, first + $i, names.get(first + $i).copied().unwrap_or(""))?,)*))
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

fn names(node: &SelectNode) -> Vec<&str> {
    node.columns.iter().map(|f| f.name).chain(node.aggregates.iter().map(|a| a.alias.as_str())).collect()
}

impl<T: ColumnValues> RowShape for Cols<T> {
    fn decode_row(row: &Row, node: &SelectNode, _: &mut usize) -> Result<Self> {
        T::take_from(Some(row), None, 0, &names(node)).map(Cols)
    }

    fn decode_json(object: &Map<String, Json>, node: &SelectNode, _: &mut usize) -> Result<Self> {
        T::take_from(None, Some(object), 0, &names(node)).map(Cols)
    }
}

impl<G: ColumnValues, A: ColumnValues> RowShape for Grouped<G, A> {
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

fn embedded_error(err: Error) -> Error {
    Error::Database(crate::DatabaseError::new("decoding an embedded row", err.to_string()))
}

fn shape_mismatch() -> Error {
    Error::Database(crate::DatabaseError::new(
        "decoding a row",
        "the result does not have the shape of the query",
    ))
}
