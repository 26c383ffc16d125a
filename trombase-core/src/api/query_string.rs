//! The nested query-string form of `GET /api/db/select`, read as the `qs`
//! library's `parse` reads it by default (what the TypeScript library's
//! server accepts), whichever way a `qs` client encoded it:
//!
//! - indices: `action[orderBy][0][field]=createdAt` (brackets percent-encoded
//!   or not);
//! - brackets: `action[columns][]=id&action[columns][]=title`,
//!   `action[orderBy][][field]=title&action[orderBy][][direction]=desc`;
//! - repeat: `action[columns]=id&action[columns]=title`.
//!
//! Pairs are merged as `qs` merges them: values of one key gather into a
//! list, `[]` appends, objects at the same list position merge. Values stay
//! strings: the library reads them as the kind of the field they meet.

use serde_json::{Map, Value};

/// How deep keys may nest, and how many pairs a query string may hold.
const MAX_DEPTH: usize = 12;
const MAX_PAIRS: usize = 1000;
/// `qs`'s `arrayLimit`: a larger index makes an object key, not a list slot.
const MAX_INDEX: usize = 20;

/// The `action` of a select query string.
pub fn select_action(query: &str) -> Result<Value, crate::Error> {
    let invalid = |message: String| crate::Error::validation("", format!("invalid query string: {message}"));
    let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if pairs.len() > MAX_PAIRS {
        return Err(invalid(format!("more than {MAX_PAIRS} parameters")));
    }
    let mut root = Node::Object(Vec::new());
    for pair in pairs {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key).map_err(invalid)?, decode(value).map_err(invalid)?);
        let segments = segments(&key).map_err(invalid)?;
        root = merge(root, build(&segments, Node::Leaf(value)));
    }
    let Value::Object(mut decoded) = arrays(root.into_json()) else {
        return Err(invalid("expected key=value pairs".into()));
    };
    match decoded.remove("action") {
        Some(action @ Value::Object(_)) => Ok(action),
        Some(_) => Err(crate::Error::validation("action", "expected an object")),
        None => Err(crate::Error::validation("action", "is required")),
    }
}

/// A parsed value: text, a list (with holes, as `qs` makes them), or an
/// object (keys in order of appearance).
#[derive(Debug, Clone)]
enum Node {
    Leaf(String),
    List(Vec<Option<Node>>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn into_json(self) -> Value {
        match self {
            Node::Leaf(text) => Value::String(text),
            Node::List(items) => Value::Array(items.into_iter().flatten().map(Node::into_json).collect()),
            Node::Object(entries) => {
                let mut map = Map::new();
                for (key, node) in entries {
                    map.insert(key, node.into_json());
                }
                Value::Object(map)
            }
        }
    }

    /// A list as an object keyed by index, for merging into an object.
    fn into_entries(self) -> Vec<(String, Node)> {
        match self {
            Node::Object(entries) => entries,
            Node::List(items) => {
                items.into_iter().enumerate().filter_map(|(i, n)| n.map(|n| (i.to_string(), n))).collect()
            }
            Node::Leaf(text) => vec![(text, Node::Leaf("true".into()))],
        }
    }
}

/// `a[b][]` as `["a", "b", "[]"]` (the brackets of `[]` kept to mark it).
fn segments(key: &str) -> Result<Vec<String>, String> {
    let (root, mut rest) = match key.find('[') {
        Some(0) | None => return Ok(vec![key.to_owned()]),
        Some(i) => (&key[..i], &key[i..]),
    };
    let mut out = vec![root.to_owned()];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else { break };
        if out.len() > MAX_DEPTH {
            return Err(format!("keys may nest at most {MAX_DEPTH} deep"));
        }
        let segment = &inner[..end];
        out.push(if segment.is_empty() { "[]".to_owned() } else { segment.to_owned() });
        rest = &inner[end + 1..];
    }
    if !rest.is_empty() {
        // What is left after the brackets is one more segment, as `qs` keeps it.
        out.push(rest.to_owned());
    }
    Ok(out)
}

/// The value `leaf` at the path `segments` (the first is the root key).
fn build(segments: &[String], leaf: Node) -> Node {
    let mut node = leaf;
    for segment in segments.iter().skip(1).rev() {
        node = match segment.as_str() {
            "[]" => Node::List(vec![Some(node)]),
            index if index.parse::<usize>().is_ok_and(|i| i <= MAX_INDEX) && !index.starts_with('+') => {
                let index: usize = index.parse().unwrap_or_default();
                let mut items = vec![None; index];
                items.push(Some(node));
                Node::List(items)
            }
            name => Node::Object(vec![(name.to_owned(), node)]),
        };
    }
    Node::Object(vec![(segments[0].clone(), node)])
}

/// `qs`'s merge: `source` into `target`.
fn merge(target: Node, source: Node) -> Node {
    match (target, source) {
        (Node::List(mut items), Node::List(more)) => {
            for (i, item) in more.into_iter().enumerate() {
                let Some(item) = item else { continue };
                match items.get_mut(i) {
                    Some(slot @ Some(_)) => {
                        let existing = slot.take().unwrap_or(Node::Leaf(String::new()));
                        if matches!((&existing, &item), (Node::Object(_), Node::Object(_))) {
                            *slot = Some(merge(existing, item));
                        } else {
                            *slot = Some(existing);
                            items.push(Some(item));
                        }
                    }
                    Some(slot) => *slot = Some(item),
                    None => {
                        items.resize(i, None);
                        items.push(Some(item));
                    }
                }
            }
            Node::List(items)
        }
        (Node::List(mut items), Node::Leaf(text)) => {
            items.push(Some(Node::Leaf(text)));
            Node::List(items)
        }
        (Node::Object(mut entries), source @ (Node::Object(_) | Node::List(_))) => {
            for (key, value) in source.into_entries() {
                match entries.iter().position(|(k, _)| *k == key) {
                    Some(at) => {
                        let (_, existing) = entries.remove(at);
                        entries.insert(at, (key, merge(existing, value)));
                    }
                    None => entries.push((key, value)),
                }
            }
            Node::Object(entries)
        }
        (target @ Node::List(_), source @ Node::Object(_)) => {
            merge(Node::Object(target.into_entries()), source)
        }
        (Node::Object(mut entries), Node::Leaf(text)) => {
            entries.push((text, Node::Leaf("true".into())));
            Node::Object(entries)
        }
        // A repeated plain key gathers its values into a list.
        (target @ Node::Leaf(_), source) => {
            let mut items = vec![Some(target)];
            match source {
                Node::List(more) => items.extend(more.into_iter().filter(Option::is_some)),
                other => items.push(Some(other)),
            }
            Node::List(items)
        }
    }
}

/// Percent-decoding, `+` as a space.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    // As `qs` does: a `%` that starts no escape stays itself.
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 after percent-decoding".to_owned())
}

/// Turns `{"0": a, "1": b}` into `[a, b]`, everywhere (indices past `qs`'s
/// list limit arrive as object keys).
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let indexed: Option<Vec<usize>> = map.keys().map(|k| k.parse::<usize>().ok()).collect();
            match indexed {
                Some(mut indexes) if !map.is_empty() => {
                    indexes.sort_unstable();
                    if indexes.iter().enumerate().all(|(i, n)| i == *n) {
                        let mut items: Vec<(usize, Value)> =
                            map.into_iter().map(|(k, v)| (k.parse().unwrap_or(0), arrays(v))).collect();
                        items.sort_by_key(|(i, _)| *i);
                        return Value::Array(items.into_iter().map(|(_, v)| v).collect());
                    }
                    Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
                }
                _ => Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect()),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(arrays).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_qs_encoding() {
        let query = "action%5Btable%5D=notes&action%5Bwhere%5D%5BuserId%5D=AzL8n0Y58m8\
                     &action%5BorderBy%5D%5B0%5D%5Bfield%5D=createdAt&action%5BorderBy%5D%5B0%5D%5Bdirection%5D=desc\
                     &action%5Blimit%5D=5&action%5Bwith%5D%5Bauthor%5D=true";
        assert_eq!(
            select_action(query).unwrap(),
            json!({"table": "notes", "where": {"userId": "AzL8n0Y58m8"},
                   "orderBy": [{"field": "createdAt", "direction": "desc"}], "limit": "5", "with": {"author": "true"}})
        );
        let plain = "action[table]=notes&action[columns][0]=id&action[columns][1]=title";
        assert_eq!(select_action(plain).unwrap(), json!({"table": "notes", "columns": ["id", "title"]}));
    }

    #[test]
    fn decodes_the_brackets_and_repeat_forms_as_qs_parse_does() {
        let brackets = "action[table]=notes&action[columns][]=id&action[columns][]=title\
                        &action[orderBy][][field]=title&action[orderBy][][direction]=desc";
        assert_eq!(
            select_action(brackets).unwrap(),
            json!({"table": "notes", "columns": ["id", "title"], "orderBy": [{"field": "title", "direction": "desc"}]})
        );
        let repeat = "action[table]=notes&action[columns]=id&action[columns]=title&action[where][title][in]=a&action[where][title][in]=b";
        assert_eq!(
            select_action(repeat).unwrap(),
            json!({"table": "notes", "columns": ["id", "title"], "where": {"title": {"in": ["a", "b"]}}})
        );
        let encoded = "action%5Bcolumns%5D%5B%5D=id&action%5Bcolumns%5D%5B%5D=title&action%5Btable%5D=notes";
        assert_eq!(select_action(encoded).unwrap(), json!({"columns": ["id", "title"], "table": "notes"}));
        let spaces = "action[table]=notes&action[where][title]=a+b%20c";
        assert_eq!(select_action(spaces).unwrap()["where"]["title"], json!("a b c"));
    }

    #[test]
    fn rejects_what_is_not_a_select() {
        assert!(select_action("table=notes").is_err());
        assert!(select_action("action=x").is_err());
        let deep = format!("action{}=1", "[a]".repeat(20));
        assert!(select_action(&deep).is_err());
        let many = vec!["action[x]=1"; 1001].join("&");
        assert!(select_action(&many).is_err());
    }
}
