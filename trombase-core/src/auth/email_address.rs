//! Email addresses as the auth system keeps them: trimmed, lower-cased, and
//! shaped like an address.
//!
//! "Shaped like an address" is deliberately modest (full RFC 5322 is neither
//! needed nor wanted here): one `@`; a local part of 1 to 64 characters; a
//! domain of dot-separated labels of letters, digits and `-` (not at either
//! end of a label), with at least two labels; 254 characters at most; no
//! whitespace, control characters, quotes, angle brackets or other characters
//! that have no business in an everyday address.

/// The longest address accepted (RFC 5321 path limit minus the brackets).
const MAX_LEN: usize = 254;
/// The longest local part accepted (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// The longest domain label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Trims and lower-cases `input`; `None` when the result does not look like
/// an email address.
pub(crate) fn normalize(input: &str) -> Option<String> {
    let trimmed = input.trim();
    // Bound the work before allocating or lower-casing.
    if trimmed.len() > MAX_LEN * 4 {
        return None;
    }
    let email = trimmed.to_lowercase();
    is_address(&email).then_some(email)
}

fn is_address(email: &str) -> bool {
    if email.chars().count() > MAX_LEN {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    is_local_part(local) && is_domain(domain)
}

fn is_local_part(local: &str) -> bool {
    let len = local.chars().count();
    (1..=MAX_LOCAL_LEN).contains(&len)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(is_local_char)
}

/// Characters of the unquoted ("dot-atom") local part, plus non-ASCII
/// letters and digits for internationalised addresses.
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || ".!#$%&'*+-/=?^_`{|}~".contains(c)
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2 && labels.iter().all(|label| is_label(label))
}

fn is_label(label: &str) -> bool {
    let len = label.chars().count();
    (1..=MAX_LABEL_LEN).contains(&len)
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn trims_and_lower_cases() {
        assert_eq!(normalize("  Ada.Lovelace@Example.COM \n").as_deref(), Some("ada.lovelace@example.com"));
        assert_eq!(normalize("a+tag@sub.example.co.uk").as_deref(), Some("a+tag@sub.example.co.uk"));
        assert_eq!(normalize("jürgen@bücher.de").as_deref(), Some("jürgen@bücher.de"));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b.".repeat(130));
        let cases = [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            "user@exa@mple.com",
            "us er@example.com",
            "user@exam ple.com",
            ".user@example.com",
            "user.@example.com",
            "us..er@example.com",
            "user@.example.com",
            "user@example..com",
            "user@example.com.",
            "user@-example.com",
            "user@example-.com",
            "user@exa_mple.com",
            "\"quoted\"@example.com",
            "<user@example.com>",
            "user@example.com\u{0}",
            "user\t@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ];
        for case in cases {
            assert_eq!(normalize(case), None, "accepted {case:?}");
        }
    }

    #[test]
    fn very_long_input_is_refused_cheaply() {
        assert_eq!(normalize(&"a".repeat(1_000_000)), None);
    }
}
