//! Untrusted JSON text in: a parse failure is a validation error, like every
//! other bad input.

use crate::{Error, Result};

/// Parses a request body as JSON. Malformed text (bad syntax, invalid UTF-8,
/// lone surrogate escapes, nesting deeper than 128) is a validation error
/// saying where, never a panic.
///
/// ```
/// let err = trombase_core::parse_json_body(br#"{"a": [1, }"#).unwrap_err();
/// assert_eq!(err.to_string(), "invalid JSON: expected value at line 1 column 11");
/// ```
pub fn parse_json_body(bytes: &[u8]) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| Error::validation("", format!("invalid JSON: {e}")))
}
