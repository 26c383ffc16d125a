//! The URLs a test database is reached by: the server `DATABASE_URL` names,
//! an optional pooler (`TROMBASE_TEST_POOLER_URL`), and one of them with its
//! database name swapped for the test database's.

/// The server tests create their databases on when `DATABASE_URL` is unset.
pub const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server test databases are created on: `DATABASE_URL`, or
/// [`DEFAULT_SERVER_URL`].
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned())
}

/// The transaction-pooling proxy (PgBouncer) the app under test goes
/// through, if `TROMBASE_TEST_POOLER_URL` names one.
pub fn pooler_url() -> Option<String> {
    std::env::var("TROMBASE_TEST_POOLER_URL").ok().filter(|url| !url.trim().is_empty())
}

/// `url` with its database name replaced by `name` (put in as is: a name
/// with characters special in URLs must come percent-encoded). Works on
/// URLs (`postgres://u@h:5432/db?opt=x`) and key-value strings
/// (`host=h dbname=db`).
pub fn with_database(url: &str, name: &str) -> String {
    if !is_url(url) {
        let mut pairs: Vec<String> =
            url.split_whitespace().filter(|pair| !pair.starts_with("dbname=")).map(str::to_owned).collect();
        pairs.push(format!("dbname={name}"));
        return pairs.join(" ");
    }
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `url` with one more `key=value` option.
pub(crate) fn with_option(url: &str, option: &str) -> String {
    if !is_url(url) {
        format!("{url} {option}")
    } else if url.contains('?') {
        format!("{url}&{option}")
    } else {
        format!("{url}?{option}")
    }
}

/// `url` with its password replaced by `***`, for messages.
pub(crate) fn redacted(url: &str) -> String {
    if !is_url(url) {
        let pairs = url.split_whitespace().map(|pair| match pair.split_once('=') {
            Some(("password", _)) => "password=***".to_owned(),
            _ => pair.to_owned(),
        });
        return pairs.collect::<Vec<_>>().join(" ");
    }
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[scheme_end..].find(['/', '?']).map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else { return url.to_owned() };
    let Some(colon) = authority[..at].find(':') else { return url.to_owned() };
    format!("{}{}:***{}", &url[..scheme_end], &authority[..colon], &url[scheme_end + at..])
}

fn is_url(url: &str) -> bool {
    url.contains("://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("host=h dbname=postgres user=u", "x"), "host=h user=u dbname=x");
        assert_eq!(with_database("host=h", "x"), "host=h dbname=x");
    }

    #[test]
    fn adds_options() {
        assert_eq!(with_option("postgres://h/db", "a=1"), "postgres://h/db?a=1");
        assert_eq!(with_option("postgres://h/db?b=2", "a=1"), "postgres://h/db?b=2&a=1");
        assert_eq!(with_option("host=h", "a=1"), "host=h a=1");
    }

    #[test]
    fn hides_passwords() {
        assert_eq!(redacted("postgres://u:secret@h:1/db"), "postgres://u:***@h:1/db");
        assert_eq!(redacted("postgres://u@h:1/db"), "postgres://u@h:1/db");
        assert_eq!(redacted("postgres://h/db?user=u"), "postgres://h/db?user=u");
        assert_eq!(redacted("host=h password=secret user=u"), "host=h password=*** user=u");
    }
}
