//! Email addresses as the auth system keeps them: one canonical string per
//! address, and shaped like an address.
//!
//! Registration, login and reset requests look accounts up by this string,
//! so every spelling of one address must give the same string, and an
//! address made to look like someone else's must be refused. The canonical
//! form is:
//!
//! - the whole trimmed input in Unicode NFKC, so fullwidth, ligature and
//!   other compatibility spellings are the plain characters they stand for;
//! - the local part lower-cased (full Unicode lower case) and put through
//!   NFKC again, as lower-casing can undo it;
//! - the domain through IDNA (UTS #46, which does its own case mapping) and
//!   kept in its Unicode form, so `xn--bcher-kva.de`, `BÜCHER.de` and
//!   `bücher.de` are all `bücher.de`.
//!
//! Refused as confusable: a local part or a domain label that mixes scripts
//! (a Cyrillic `а` among Latin letters, say; characters of the Common and
//! Inherited scripts, such as digits and punctuation, go with any), and
//! invisible format characters (zero-width space and joiners, byte order
//! mark, bidi controls) anywhere. A look-alike written wholly in another
//! script is not caught by this.
//!
//! "Shaped like an address" is deliberately modest (full RFC 5322 is neither
//! needed nor wanted here): one `@`; a local part of 1 to 64 characters; a
//! domain of dot-separated labels of letters, digits and `-` (not at either
//! end of a label), with at least two labels, valid for IDNA, and at most 253
//! bytes with labels of at most 63 bytes in its ASCII (punycode) form; 254
//! characters at most; no whitespace, control characters, quotes, angle
//! brackets or other characters that have no business in an everyday
//! address.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

/// The longest address accepted (RFC 5321 path limit minus the brackets).
const MAX_LEN: usize = 254;
/// The longest local part accepted (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// The longest domain label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;
/// The most bytes worked on at any step: more than any acceptable address
/// takes, however it is spelled.
const MAX_WORK_LEN: usize = MAX_LEN * 4;

/// The canonical form of the address `input` (see the module doc); `None`
/// when it does not look like an email address or is refused as confusable.
pub(crate) fn normalize(input: &str) -> Option<String> {
    let trimmed = input.trim();
    // Bound the work before normalizing or lower-casing.
    if trimmed.len() > MAX_WORK_LEN {
        return None;
    }
    // NFKC can expand text: stop as soon as it passes the bound.
    let folded = collect_bounded(trimmed.nfkc())?;
    if folded.chars().any(is_format_char) {
        return None;
    }
    let (local, domain) = folded.split_once('@')?;
    let local = collect_bounded(local.to_lowercase().nfkc())?;
    if !is_local_part(&local) {
        return None;
    }
    let domain = canonical_domain(domain)?;
    let email = format!("{local}@{domain}");
    (email.chars().count() <= MAX_LEN).then_some(email)
}

/// Collects `chars`, or `None` once they pass [`MAX_WORK_LEN`] bytes.
fn collect_bounded(chars: impl Iterator<Item = char>) -> Option<String> {
    let mut out = String::new();
    for c in chars {
        if out.len() + c.len_utf8() > MAX_WORK_LEN {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

/// Invisible format characters: general category Cf (Unicode 15.1).
fn is_format_char(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

fn is_local_part(local: &str) -> bool {
    let len = local.chars().count();
    (1..=MAX_LOCAL_LEN).contains(&len)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(is_local_char)
        && is_single_script(local)
}

/// Characters of the unquoted ("dot-atom") local part, plus non-ASCII
/// letters and digits for internationalised addresses.
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || ".!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// The Unicode form of `domain` after IDNA (UTS #46, non-transitional, STD3
/// rules, hyphens checked at the ends of labels); `None` when IDNA refuses
/// it, its ASCII form is too long for DNS, or it breaks the label rules.
fn canonical_domain(domain: &str) -> Option<String> {
    let uts46 = Uts46::new();
    // `DnsLength::Verify`: at most 253 bytes, labels of 1 to 63 bytes, no
    // trailing dot.
    let ascii = uts46
        .to_ascii(domain.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast, DnsLength::Verify)
        .ok()?;
    let (unicode, result) = uts46.to_unicode(ascii.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast);
    result.ok()?;
    is_domain(&unicode).then(|| unicode.into_owned())
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
        && is_single_script(label)
}

/// Whether the characters of `text` outside the Common and Inherited scripts
/// all belong to one script, or to one of the mixes UTS #39 calls "highly
/// restrictive" (how Japanese, Chinese and Korean are written, with Latin):
/// {Latin, Han, Hiragana, Katakana}, {Latin, Han, Bopomofo}, {Latin, Han,
/// Hangul}. Latin beside Cyrillic or Greek, the look-alike mixes, is not.
fn is_single_script(text: &str) -> bool {
    const MIXES: [&[Script]; 3] = [
        &[Script::Latin, Script::Han, Script::Hiragana, Script::Katakana],
        &[Script::Latin, Script::Han, Script::Bopomofo],
        &[Script::Latin, Script::Han, Script::Hangul],
    ];
    let mut scripts: Vec<Script> = text
        .chars()
        .map(|c| c.script())
        .filter(|s| !matches!(s, Script::Common | Script::Inherited))
        .collect();
    scripts.sort_unstable_by_key(|s| s.full_name());
    scripts.dedup();
    scripts.len() <= 1 || MIXES.iter().any(|mix| scripts.iter().all(|s| mix.contains(s)))
}

/// The spellings a row stored before the canonical form may hold the
/// address in, besides `canonical`: the input as the TypeScript library
/// (and this library before) stored it, trimmed and lower-cased; and the
/// canonical form with its domain in ASCII (punycode), for a domain stored
/// as typed in that form. Lookups try them after the canonical form, so
/// accounts of a database that library filled keep working.
pub(crate) fn earlier_spellings(input: &str, canonical: &str) -> [String; 2] {
    let typed = input.trim().to_lowercase();
    let ascii = canonical
        .split_once('@')
        .and_then(|(local, domain)| idna::domain_to_ascii(domain).ok().map(|d| format!("{local}@{d}")))
        .unwrap_or_else(|| canonical.to_owned());
    [typed, ascii]
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
    fn compatibility_and_case_spellings_are_one_address() {
        let canonical = Some("alice@example.com");
        assert_eq!(normalize("alice@example.com").as_deref(), canonical);
        assert_eq!(normalize("ALICE@Example.COM").as_deref(), canonical);
        assert_eq!(normalize("ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ").as_deref(), canonical);
        assert_eq!(normalize("ＡＬＩＣＥ＠ＥＸＡＭＰＬＥ．ＣＯＭ").as_deref(), canonical);
        // U+FB01 LATIN SMALL LIGATURE FI.
        assert_eq!(normalize("\u{fb01}n@example.com").as_deref(), Some("fin@example.com"));
        // Composed and decomposed `ü` in the local part.
        assert_eq!(normalize("ju\u{308}rgen@bücher.de").as_deref(), Some("jürgen@bücher.de"));
        assert_eq!(normalize("JÜRGEN@BÜCHER.DE").as_deref(), Some("jürgen@bücher.de"));
    }

    #[test]
    fn punycode_and_unicode_domains_are_one_address() {
        let canonical = Some("alice@bücher.de");
        assert_eq!(normalize("alice@bücher.de").as_deref(), canonical);
        assert_eq!(normalize("alice@xn--bcher-kva.de").as_deref(), canonical);
        assert_eq!(normalize("alice@XN--BCHER-KVA.DE").as_deref(), canonical);
        assert_eq!(normalize("alice@BÜCHER.de").as_deref(), canonical);
        assert_eq!(normalize("Alice@Bu\u{308}cher.De").as_deref(), canonical);
    }

    #[test]
    fn canonical_form_is_its_own_canonical_form() {
        let inputs = [
            "  Ada.Lovelace@Example.COM \n",
            "ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ",
            "alice@XN--BCHER-KVA.DE",
            "JÜRGEN@BÜCHER.DE",
            "АЛИСА@ПРИМЕР.РФ",
            "ΑΛΙΚΗ@example.gr",
        ];
        for input in inputs {
            let once = normalize(input).unwrap_or_else(|| panic!("refused {input:?}"));
            assert_eq!(normalize(&once).as_deref(), Some(once.as_str()), "from {input:?}");
        }
    }

    #[test]
    fn single_script_local_parts_are_accepted() {
        assert_eq!(
            normalize("山田たろう@example.jp").as_deref(),
            Some("山田たろう@example.jp"),
            "Japanese mixes scripts"
        );
        assert_eq!(normalize("김철수@example.kr").as_deref(), Some("김철수@example.kr"));
        assert_eq!(normalize("АЛИСА@example.com").as_deref(), Some("алиса@example.com"));
        assert_eq!(normalize("алиса.1990@пример.рф").as_deref(), Some("алиса.1990@пример.рф"));
        assert_eq!(normalize("Αλίκη@example.gr").as_deref(), Some("αλίκη@example.gr"));
        assert_eq!(normalize("alice-2024+news@example.com").as_deref(), Some("alice-2024+news@example.com"));
    }

    #[test]
    fn mixed_script_look_alikes_are_refused() {
        let cases = [
            // U+0430 CYRILLIC SMALL LETTER A, then Latin.
            "\u{430}lice@example.com",
            // U+0410 CYRILLIC CAPITAL LETTER A, lower-cased to U+0430.
            "\u{410}lice@example.com",
            // U+03BF GREEK SMALL LETTER OMICRON between Latin letters.
            "b\u{3bf}b@example.com",
            // U+0435 CYRILLIC SMALL LETTER IE in a Latin domain label.
            "alice@\u{435}xample.com",
            // The same label as punycode.
            "alice@xn--xample-2of.com",
            // Greek omicron in a Latin label.
            "alice@g\u{3bf}\u{3bf}gle.com",
        ];
        for case in cases {
            assert_eq!(normalize(case), None, "accepted {case:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        let cases = [
            "ali\u{200b}ce@example.com",
            "alice@exam\u{200b}ple.com",
            "\u{feff}alice@example.com",
            "alice@example.com\u{feff}",
            "alice@exam\u{feff}ple.com",
            "ali\u{200d}ce@example.com",
            "alice@exam\u{200c}ple.com",
            "alice@exam\u{ad}ple.com",
            "alice\u{202e}@example.com",
            "alice@exam\u{2060}ple.com",
        ];
        for case in cases {
            assert_eq!(normalize(case), None, "accepted {case:?}");
        }
    }

    #[test]
    fn domains_that_idna_refuses_are_refused() {
        let cases = [
            "user@xn--zz--.com",
            "user@xn--a.com",
            "user@xn--.com",
            "user@example.xn--",
            // U+2100 ACCOUNT OF: `a/c` after NFKC.
            "user@\u{2100}.com",
        ];
        for case in cases {
            assert_eq!(normalize(case), None, "accepted {case:?}");
        }
    }

    #[test]
    fn domains_too_long_as_punycode_are_refused() {
        // 63 characters, but far more than 63 bytes as punycode.
        let long_label = format!("user@{}.de", "ü".repeat(63));
        assert_eq!(normalize(&long_label), None);
        // Well under 254 characters, but over 253 bytes as punycode: labels
        // of 15 unrelated Han characters take over 40 bytes each.
        let han_domain = |labels: u32| {
            let label = |j: u32| {
                (0..15).map(|i| char::from_u32(0x4e00 + (j * 15 + i) * 227).unwrap()).collect::<String>()
            };
            let labels: Vec<String> = (0..labels).map(label).collect();
            format!("{}.com", labels.join("."))
        };
        let domain = han_domain(6);
        assert!(domain.chars().count() < 100);
        assert!(idna::domain_to_ascii(&domain).is_ok_and(|ascii| ascii.len() > 253));
        assert_eq!(normalize(&format!("user@{domain}")), None);
        // Shorter ones are fine.
        let domain = han_domain(4);
        assert_eq!(normalize(&format!("user@{domain}")), Some(format!("user@{domain}")));
    }

    #[test]
    fn very_long_input_is_refused_cheaply() {
        assert_eq!(normalize(&"a".repeat(1_000_000)), None);
        // U+FDFA expands eighteen-fold under NFKC.
        assert_eq!(normalize(&format!("{}@example.com", "\u{fdfa}".repeat(300))), None);
    }
}
