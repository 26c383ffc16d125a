//! JSON rows of a read written straight into an answer's bytes: the last
//! touches of [`json_rows`](super::json_rows) (aggregate columns renamed to
//! their aliases, timestamps in UTC with a `Z`) done in one pass over
//! PostgreSQL's text, with no tree built and none serialized again. For
//! answers that go to a client as they are (the JSON API's select route).
//!
//! The walk follows the read: a row object is read against its node (its
//! timestamp columns, aggregate columns and embeds, by key); every other
//! value is copied as it is, without recursion (so a deeply nested value
//! stored in a JSON field cannot exhaust the stack). Whitespace between
//! tokens (`json_agg` writes some) is dropped.

use super::SelectNode;
use crate::render::aggregate_column;
use crate::schema::FieldKind;
use crate::value::{parse_timestamp, timestamp_text};

/// PostgreSQL's text was not the JSON the read asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Writes `rows` (each one row's JSON object of the read `node`) as a JSON
/// array into `out`.
pub(crate) fn write_rows<'a>(
    rows: impl IntoIterator<Item = &'a [u8]>,
    node: &SelectNode,
    out: &mut Vec<u8>,
) -> Result<(), Malformed> {
    out.push(b'[');
    for (i, row) in rows.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(row, node, out)?;
    }
    out.push(b']');
    Ok(())
}

/// Writes one value of PostgreSQL's JSON text (`text`: an embed's column,
/// its rows of `node`) into `out`, with the same touches.
pub(super) fn write_value(text: &[u8], node: &SelectNode, out: &mut Vec<u8>) -> Result<(), Malformed> {
    let mut walk = Walk { text, at: 0, out };
    walk.value(Some(node))?;
    walk.skip_space();
    if walk.at != text.len() {
        return Err(Malformed);
    }
    Ok(())
}

struct Walk<'t, 'o> {
    text: &'t [u8],
    at: usize,
    out: &'o mut Vec<u8>,
}

impl Walk<'_, '_> {
    fn peek(&self) -> Result<u8, Malformed> {
        self.text.get(self.at).copied().ok_or(Malformed)
    }

    fn skip_space(&mut self) {
        while matches!(self.text.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Malformed> {
        self.skip_space();
        if self.peek()? != byte {
            return Err(Malformed);
        }
        self.at += 1;
        Ok(())
    }

    /// A value: objects and arrays of `node`'s rows are walked, anything
    /// else copied.
    fn value(&mut self, node: Option<&SelectNode>) -> Result<(), Malformed> {
        self.skip_space();
        match (self.peek()?, node) {
            (b'{', Some(node)) => self.object(node),
            (b'[', Some(node)) => self.array(node),
            _ => self.copy_value(),
        }
    }

    fn array(&mut self, node: &SelectNode) -> Result<(), Malformed> {
        self.at += 1;
        self.out.push(b'[');
        self.skip_space();
        if self.peek()? == b']' {
            self.at += 1;
            self.out.push(b']');
            return Ok(());
        }
        loop {
            self.value(Some(node))?;
            if !self.next_item(b']')? {
                return Ok(());
            }
        }
    }

    fn object(&mut self, node: &SelectNode) -> Result<(), Malformed> {
        self.at += 1;
        self.out.push(b'{');
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            self.out.push(b'}');
            return Ok(());
        }
        loop {
            self.skip_space();
            let key = self.string()?;
            self.expect(b':')?;
            self.member(node, key)?;
            if !self.next_item(b'}')? {
                return Ok(());
            }
        }
    }

    /// After an item of an array or object: a comma (another item comes:
    /// `true`) or the closing bracket `close` (`false`), copied.
    fn next_item(&mut self, close: u8) -> Result<bool, Malformed> {
        self.skip_space();
        let byte = self.peek()?;
        if byte != b',' && byte != close {
            return Err(Malformed);
        }
        self.at += 1;
        self.out.push(byte);
        Ok(byte == b',')
    }

    /// One member of a row object: its key written back (an aggregate
    /// column under its alias), then its value.
    fn member(&mut self, node: &SelectNode, key: (usize, usize)) -> Result<(), Malformed> {
        let name = &self.text[key.0..key.1];
        let aggregate = || {
            node.aggregates
                .iter()
                .enumerate()
                .find_map(|(i, term)| (aggregate_column(i).as_bytes() == name).then_some(term))
        };
        if let Some(term) = name.starts_with(b"#").then(aggregate).flatten() {
            // The alias is client text: written as a JSON string.
            serde_json::to_writer(&mut *self.out, &term.alias).map_err(|_| Malformed)?;
            self.out.push(b':');
            return if term.func.result_kind(term.field.map(|f| f.kind)) == FieldKind::Timestamp {
                self.time()
            } else {
                self.copy_value()
            };
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name);
        self.out.extend_from_slice(b"\":");
        if node.columns.iter().any(|f| f.kind == FieldKind::Timestamp && f.name.as_bytes() == name) {
            return self.time();
        }
        match node.embeds.iter().find(|e| e.relation.name.as_bytes() == name) {
            Some(embed) => self.value(Some(&embed.node)),
            None => self.copy_value(),
        }
    }

    /// A timestamp: `+00:00` becomes `Z`; another offset, the same instant
    /// in UTC; `null` stays.
    fn time(&mut self) -> Result<(), Malformed> {
        self.skip_space();
        if self.peek()? != b'"' {
            return self.copy_value();
        }
        let (start, end) = self.string()?;
        let text = &self.text[start..end];
        self.out.push(b'"');
        if let Some(local) = text.strip_suffix(b"+00:00") {
            self.out.extend_from_slice(local);
            self.out.push(b'Z');
        } else if text.ends_with(b"Z") {
            self.out.extend_from_slice(text);
        } else {
            let parsed = std::str::from_utf8(text).ok().and_then(parse_timestamp).ok_or(Malformed)?;
            self.out.extend_from_slice(timestamp_text(&parsed).as_bytes());
        }
        self.out.push(b'"');
        Ok(())
    }

    /// A string at the cursor: the range of its contents (escapes left as
    /// they are); the cursor after its closing quote.
    fn string(&mut self) -> Result<(usize, usize), Malformed> {
        if self.peek()? != b'"' {
            return Err(Malformed);
        }
        let start = self.at + 1;
        let mut i = start;
        loop {
            match self.text.get(i) {
                Some(b'"') => break,
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
                None => return Err(Malformed),
            }
        }
        self.at = i + 1;
        Ok((start, i))
    }

    /// Any value copied as it is: a scalar up to its end, an object or an
    /// array up to its matching bracket (counted, not recursed).
    fn copy_value(&mut self) -> Result<(), Malformed> {
        self.skip_space();
        let start = self.at;
        let mut depth = 0usize;
        loop {
            match self.text.get(self.at) {
                Some(b'"') => {
                    self.string()?;
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                Some(b'{' | b'[') => depth += 1,
                Some(b'}' | b']') if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        self.at += 1;
                        break;
                    }
                }
                Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') if depth == 0 => break,
                Some(_) => {}
                None if depth == 0 && self.at > start => break,
                None => return Err(Malformed),
            }
            self.at += 1;
        }
        self.out.extend_from_slice(&self.text[start..self.at]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permit::EntityHandle;
    use crate::schema::{Casing, EntityMeta, FieldMeta};

    const fn field(name: &'static str, kind: FieldKind) -> FieldMeta {
        FieldMeta { nullable: true, ..FieldMeta::for_tests(name, name, kind, None) }
    }

    static EVENTS: EntityMeta = EntityMeta {
        rust_name: "Event",
        name: "events",
        table: "events",
        casing: Casing::Snake,
        fields: &[
            field("at", FieldKind::Timestamp),
            field("note", FieldKind::Text),
            field("data", FieldKind::Json),
        ],
        relations: &[],
        indexes: &[],
    };

    fn node() -> SelectNode {
        let mut node = SelectNode::new(EntityHandle::deny_all(&EVENTS));
        node.columns = EVENTS.fields.iter().collect();
        node
    }

    fn write(rows: &[&str]) -> Result<String, Malformed> {
        let mut out = Vec::new();
        write_rows(rows.iter().map(|r| r.as_bytes()), &node(), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn times_of_the_read_get_a_z_and_nothing_else_changes() {
        let row = r#"{"at":"2026-12-01T07:49:58.880675+00:00", "note":"at 10:00+00:00", "data":{"at":"1+00:00", "x":[1, {"y":"]"}]}}"#;
        assert_eq!(
            write(&[row, r#"{"at":null,"note":"q\"+00:00","data":null}"#]).unwrap(),
            r#"[{"at":"2026-12-01T07:49:58.880675Z","note":"at 10:00+00:00","data":{"at":"1+00:00", "x":[1, {"y":"]"}]}},{"at":null,"note":"q\"+00:00","data":null}]"#
        );
        // Another offset: the same instant in UTC.
        assert_eq!(
            write(&[r#"{"at":"2026-12-01T09:49:58.5+02:00"}"#]).unwrap(),
            r#"[{"at":"2026-12-01T07:49:58.5Z"}]"#
        );
        assert_eq!(write(&[]).unwrap(), "[]");
    }

    #[test]
    fn text_that_is_not_the_rows_json_is_refused_not_a_panic() {
        for bad in [
            "",
            "{",
            r#"{"at""#,
            r#"{"at":"#,
            r#"{"at":"2026"#,
            r#"{"note":"\"#,
            r#"{"note":1 2}"#,
            "[1,",
            r#"{"at":"not a time"}"#,
            r#"{"data":[[[}"#,
            "{}x",
        ] {
            assert_eq!(write(&[bad]), Err(Malformed), "{bad:?}");
        }
    }

    #[test]
    fn a_deeply_nested_value_is_copied_without_recursion() {
        let deep = format!(r#"{{"data":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(write(&[&deep]).unwrap(), format!("[{deep}]"));
    }
}
