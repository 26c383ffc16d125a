//! [`Cursor`]: where a page starts, opaque to clients: base64url of the
//! key names and the values of the last row of the page before.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use serde_json::{json, Value as Json};

/// Where a page starts: an opaque token naming the last row of the page
/// before (its values of the order-by fields and `id`). Its text is
/// base64url; clients pass it back as they got it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    pub(super) fn from_text(text: &str) -> Cursor {
        Cursor(text.to_owned())
    }

    /// The cursor's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn encode(keys: &[String], values: &Json) -> Cursor {
        let text = json!({"k": keys, "v": values}).to_string();
        Cursor(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text))
    }

    /// The key names and values, if the text is a cursor at all.
    pub(super) fn decode(&self) -> Option<(Vec<String>, Vec<Json>)> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        let json: Json = serde_json::from_slice(&bytes).ok()?;
        let keys: Option<Vec<String>> =
            json.get("k")?.as_array()?.iter().map(|k| k.as_str().map(str::to_owned)).collect();
        Some((keys?, json.get("v")?.as_array()?.clone()))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({})", self.0)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Cursor {
    type Err = std::convert::Infallible;

    /// Any text: whether it is a cursor of the query is checked when the
    /// page is read.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Cursor(s.to_owned()))
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}
