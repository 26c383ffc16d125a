//! The nested query-string form of `GET /api/db/select`, as the `qs` library
//! sends it: `action[table]=notes&action[where][userId]=...&action[orderBy][0][field]=createdAt`,
//! brackets percent-encoded or not. Decoded with serde_qs into JSON; maps
//! whose keys are all indexes become arrays. Values stay strings: the
//! library reads them as the kind of the field they meet.

use serde_json::{Map, Value};

/// The `action` of a select query string.
pub fn select_action(query: &str) -> Result<Value, trombase::Error> {
    // Not strict: `qs` percent-encodes the brackets by default.
    let config = serde_qs::Config::new(12, false);
    let decoded: Map<String, Value> = config
        .deserialize_str(query)
        .map_err(|e| trombase::Error::validation("", format!("invalid query string: {e}")))?;
    let mut decoded = decoded;
    match decoded.remove("action") {
        Some(action) => Ok(arrays(action)),
        None => Err(trombase::Error::validation("action", "is required")),
    }
}

/// Turns `{"0": a, "1": b}` into `[a, b]`, everywhere.
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
    fn rejects_what_is_not_a_select() {
        assert!(select_action("table=notes").is_err());
        assert!(select_action("action[table]=notes&action=x").is_err());
    }
}
