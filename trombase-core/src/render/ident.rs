//! The one place identifiers (and the rare literal) are quoted.

/// Quotes an identifier for PostgreSQL: `user_id` -> `"user_id"`, doubling
/// any `"` inside. Every table and column name in rendered SQL goes through
/// here, and only names from the schema ever do.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_quoted_ident(&mut out, name);
    out
}

/// Appends the quoted form of `name` to `out`.
pub(crate) fn push_quoted_ident(out: &mut String, name: &str) {
    out.push('"');
    if !name.as_bytes().contains(&b'"') {
        // Schema names almost never hold a `"`: copied whole.
        out.push_str(name);
    } else {
        for c in name.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
    }
    out.push('"');
}

/// Quotes a string literal: `it's` -> `'it''s'`. Used only for schema names
/// inside DDL, never for values (values are always bind parameters).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(quote_ident("userId"), "\"userId\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("\"\"x\""), "\"\"\"\"\"x\"\"\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
