//! The library's own option in a database URL: `pgbouncer=true` (the name
//! Prisma users know) says the URL leads to a transaction-pooling proxy, so
//! statements must be unnamed and session settings must not be relied on.
//! It is taken out before the URL reaches tokio-postgres, which knows no
//! such option.

/// `url` without its `pgbouncer` option, and the option's value if present.
pub(crate) fn take_pooler_flag(url: &str) -> (String, Option<bool>) {
    if url.contains("://") {
        let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
        let (kept, flag) = without_flag(query.split('&').filter(|pair| !pair.is_empty()));
        let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
        return (url, flag);
    }
    // A key-value connection string: `host=... pgbouncer=true ...`.
    let (kept, flag) = without_flag(url.split_whitespace());
    (kept.join(" "), flag)
}

/// The `key=value` pairs other than `pgbouncer`, and its value if present.
fn without_flag<'a>(pairs: impl Iterator<Item = &'a str>) -> (Vec<&'a str>, Option<bool>) {
    let mut flag = None;
    let kept = pairs
        .filter(|pair| match pair.split_once('=') {
            Some(("pgbouncer", value)) => {
                flag = Some(value == "true" || value == "1");
                false
            }
            _ => true,
        })
        .collect();
    (kept, flag)
}

#[cfg(test)]
mod tests {
    use super::take_pooler_flag;

    #[test]
    fn the_flag_is_taken_out_of_urls_and_key_value_strings() {
        assert_eq!(
            take_pooler_flag("postgres://u@h:6432/db?pgbouncer=true"),
            ("postgres://u@h:6432/db".into(), Some(true))
        );
        assert_eq!(
            take_pooler_flag("postgres://u@h/db?sslmode=disable&pgbouncer=false&application_name=x"),
            ("postgres://u@h/db?sslmode=disable&application_name=x".into(), Some(false))
        );
        assert_eq!(take_pooler_flag("postgres://u@h/db"), ("postgres://u@h/db".into(), None));
        assert_eq!(
            take_pooler_flag("host=h port=6432 pgbouncer=true user=u"),
            ("host=h port=6432 user=u".into(), Some(true))
        );
    }
}
