//! [`DbId`]: the 64-bit random identifier used for every TromBase row.
//!
//! A `DbId` is a random `u64` whose most significant bit is always set, so
//! every value lies in `[2^63, 2^64)`. Its text form is base62 (alphabet
//! `0-9A-Za-z`, most significant digit first), which is always exactly
//! [`DbId::ENCODED_LEN`] (11) characters long. The text form is what JSON
//! carries and what is stored in the database (a text column).
//!
//! The TypeScript library gave its users UUIDs (`crypto.randomUUID()`); a
//! `DbId` also carries that form, so a user id of either kind goes wherever
//! a user id goes (sessions, entity fields referencing users, filters, JSON)
//! with no second type in typed code. New ids are always base62.

mod uuid;

use std::error::Error;
use std::fmt;
use std::str::FromStr;

use bytes::BytesMut;
use postgres_types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Base62 digits: `'0'..='9'` = 0..9, `'A'..='Z'` = 10..35, `'a'..='z'` = 36..61.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The most significant bit of a `u64`; set in every valid [`DbId`].
const TOP_BIT: u64 = 1 << 63;

/// A 64-bit random identifier whose most significant bit is always 1, or a
/// UUID that the TypeScript library made (its user ids).
///
/// Its canonical text form (see [`Display`](fmt::Display)) is an 11-character
/// base62 string, or for a UUID the 36-character lowercase hyphenated form;
/// [`DbId::parse`] accepts exactly those forms (a UUID in either case) and
/// nothing else. `DbId` deliberately has no `Default`: use [`DbId::new`] to
/// mint a fresh id (always base62).
///
/// ```
/// use trombase_core::DbId;
/// let new = DbId::new();
/// assert_eq!(new.to_string().len(), 11);
/// let old: DbId = "1b4e28ba-2fa1-41d2-883f-0016d3cca427".parse().unwrap();
/// assert!(old.is_uuid());
/// assert_eq!(old.to_string(), "1b4e28ba-2fa1-41d2-883f-0016d3cca427");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbId(Repr);

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Base62(u64),
    Uuid(u128),
}

/// Why a value could not be turned into a [`DbId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DbIdError {
    /// The text does not have exactly [`DbId::ENCODED_LEN`] characters (nor
    /// the 36 of a UUID).
    #[error("invalid DbId: expected 11 base62 characters or a 36-character UUID, got {len}")]
    InvalidLength {
        /// Number of characters (not bytes) in the rejected text.
        len: usize,
    },
    /// The text contains a character outside `0-9A-Za-z`.
    #[error("invalid DbId: character {ch:?} at position {position} is not base62 (0-9, A-Z, a-z)")]
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Zero-based character index of `ch` in the text.
        position: usize,
    },
    /// The base62 text denotes a value that does not fit in 64 bits.
    #[error("invalid DbId: value does not fit in 64 bits")]
    Overflow,
    /// 36 characters, but not a UUID's `8-4-4-4-12` hex digits.
    #[error("invalid DbId: not a UUID (8-4-4-4-12 hex digits): character {position} is wrong")]
    InvalidUuid {
        /// Zero-based index of the first wrong character.
        position: usize,
    },
    /// The value's most significant bit is clear (every DbId is >= 2^63).
    #[error("invalid DbId: most significant bit of {value:#018x} is clear")]
    TopBitClear {
        /// The rejected 64-bit value.
        value: u64,
    },
}

impl DbId {
    /// Length of the base62 text form of every `DbId`.
    pub const ENCODED_LEN: usize = 11;

    /// Mints a fresh random id (cryptographically secure RNG, top bit forced on).
    #[allow(clippy::new_without_default)] // an id must be created deliberately
    #[must_use]
    pub fn new() -> DbId {
        DbId(Repr::Base62(rand::random::<u64>() | TOP_BIT))
    }

    /// Wraps a raw 64-bit value, rejecting it if its top bit is clear.
    pub fn from_u64(value: u64) -> Result<DbId, DbIdError> {
        if value & TOP_BIT == 0 {
            Err(DbIdError::TopBitClear { value })
        } else {
            Ok(DbId(Repr::Base62(value)))
        }
    }

    /// An id in the UUID form (a user id the TypeScript library made).
    pub const fn from_uuid(value: u128) -> DbId {
        DbId(Repr::Uuid(value))
    }

    /// The raw 64-bit value (always `>= 2^63`) of a base62 id; `None` for a
    /// UUID.
    #[must_use]
    pub const fn as_u64(self) -> Option<u64> {
        match self.0 {
            Repr::Base62(value) => Some(value),
            Repr::Uuid(_) => None,
        }
    }

    /// The 128-bit value of a UUID-form id; `None` for a base62 one.
    #[must_use]
    pub const fn as_uuid(self) -> Option<u128> {
        match self.0 {
            Repr::Uuid(value) => Some(value),
            Repr::Base62(_) => None,
        }
    }

    /// Whether this is a UUID-form id.
    #[must_use]
    pub const fn is_uuid(self) -> bool {
        matches!(self.0, Repr::Uuid(_))
    }

    /// Parses the canonical 11-character base62 text form, or a UUID's
    /// 36-character hyphenated form (either case).
    ///
    /// Rejects (never panics on) text of any other length, characters outside
    /// `0-9A-Za-z`, values that overflow 64 bits, values below `2^63`, and
    /// 36-character text that is not a UUID.
    pub fn parse(s: &str) -> Result<DbId, DbIdError> {
        if let Some(value) = base62_value(s.as_bytes()) {
            return DbId::from_u64(value);
        }
        Self::parse_carefully(s)
    }

    /// [`parse`](Self::parse) for text that is not plain base62: a UUID, or
    /// a mistake, named precisely.
    fn parse_carefully(s: &str) -> Result<DbId, DbIdError> {
        if s.len() == uuid::LEN {
            return uuid::parse(s)
                .map(DbId::from_uuid)
                .map_err(|position| DbIdError::InvalidUuid { position });
        }
        let len = s.chars().count();
        if len != Self::ENCODED_LEN {
            return Err(DbIdError::InvalidLength { len });
        }
        let mut value: u64 = 0;
        for (position, ch) in s.chars().enumerate() {
            let digit = digit_value(ch).ok_or(DbIdError::InvalidChar { ch, position })?;
            value = value
                .checked_mul(62)
                .and_then(|v| v.checked_add(u64::from(digit)))
                .ok_or(DbIdError::Overflow)?;
        }
        DbId::from_u64(value)
    }

    /// Writes the text form into `buf`; the written part.
    fn encode(self, buf: &mut [u8; uuid::LEN]) -> &[u8] {
        match self.0 {
            Repr::Base62(value) => {
                let (text, _) = buf.split_at_mut(Self::ENCODED_LEN);
                text.copy_from_slice(&encode_base62(value));
                text
            }
            Repr::Uuid(value) => {
                *buf = uuid::encode(value);
                buf
            }
        }
    }
}

/// `value` as 11 ASCII base62 digits, most significant first.
fn encode_base62(value: u64) -> [u8; DbId::ENCODED_LEN] {
    let mut buf = [b'0'; DbId::ENCODED_LEN];
    let mut rest = value;
    for slot in buf.iter_mut().rev() {
        // `rest % 62` is always < 62, so the index is in bounds.
        *slot = ALPHABET[(rest % 62) as usize];
        rest /= 62;
    }
    buf
}

/// The value of well-formed base62 text: exactly 11 ASCII alphanumerics
/// whose value fits 64 bits (the top-bit rule is checked after). `None` for
/// anything else, which the careful path then names. Every row's ids are
/// decoded here, so it reads bytes through a table, without a UTF-8 pass or
/// checked arithmetic (62^11 fits a u128).
fn base62_value(bytes: &[u8]) -> Option<u64> {
    let digits: &[u8; DbId::ENCODED_LEN] = bytes.try_into().ok()?;
    let mut value: u128 = 0;
    for &byte in digits {
        let digit = DIGITS[usize::from(byte)];
        if digit == NOT_A_DIGIT {
            return None;
        }
        value = value * 62 + u128::from(digit);
    }
    u64::try_from(value).ok()
}

const NOT_A_DIGIT: u8 = u8::MAX;

/// Each byte's base62 digit, or [`NOT_A_DIGIT`].
static DIGITS: [u8; 256] = {
    let mut table = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < 256 {
        // `i < 256`: the cast cannot truncate.
        let byte = i as u8;
        table[i] = match byte {
            b'0'..=b'9' => byte - b'0',
            b'A'..=b'Z' => byte - b'A' + 10,
            b'a'..=b'z' => byte - b'a' + 36,
            _ => NOT_A_DIGIT,
        };
        i += 1;
    }
    table
};

/// Value of one base62 digit, or `None` if `ch` is not in the alphabet.
fn digit_value(ch: char) -> Option<u8> {
    let digit = DIGITS[usize::from(u8::try_from(ch).ok()?)];
    (digit != NOT_A_DIGIT).then_some(digit)
}

impl fmt::Display for DbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; uuid::LEN];
        // The buffer only holds ASCII alphabet bytes, so this cannot fail.
        let s = std::str::from_utf8(self.encode(&mut buf)).map_err(|_| fmt::Error)?;
        f.pad(s)
    }
}

impl fmt::Debug for DbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbId(\"{self}\")")
    }
}

impl FromStr for DbId {
    type Err = DbIdError;

    fn from_str(s: &str) -> Result<DbId, DbIdError> {
        DbId::parse(s)
    }
}

impl TryFrom<&str> for DbId {
    type Error = DbIdError;

    fn try_from(s: &str) -> Result<DbId, DbIdError> {
        DbId::parse(s)
    }
}

impl TryFrom<u64> for DbId {
    type Error = DbIdError;

    fn try_from(value: u64) -> Result<DbId, DbIdError> {
        DbId::from_u64(value)
    }
}

impl From<DbId> for String {
    fn from(id: DbId) -> String {
        id.to_string()
    }
}

impl Serialize for DbId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Serde visitor accepting only strings, validated with [`DbId::parse`].
struct DbIdVisitor;

impl Visitor<'_> for DbIdVisitor {
    type Value = DbId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an 11-character base62 DbId string or a UUID")
    }

    // `visit_borrowed_str` and `visit_string` forward here by default.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<DbId, E> {
        DbId::parse(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for DbId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DbId, D::Error> {
        deserializer.deserialize_str(DbIdVisitor)
    }
}

/// Whether `ty` is a PostgreSQL text type a `DbId` can be read from / written to.
fn is_text_type(ty: &Type) -> bool {
    matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN)
}

impl ToSql for DbId {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        let mut buf = [0u8; uuid::LEN];
        out.extend_from_slice(self.encode(&mut buf));
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        is_text_type(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for DbId {
    /// Parses the text value; for `BPCHAR` (`char(n)`) trailing blank padding
    /// is ignored, as PostgreSQL itself does.
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<DbId, Box<dyn Error + Sync + Send>> {
        // Plain base62 is ASCII: no UTF-8 pass needed.
        if let Some(value) = base62_value(raw) {
            return Ok(DbId::from_u64(value)?);
        }
        let text = std::str::from_utf8(raw)?;
        let text = if *ty == Type::BPCHAR { text.trim_end_matches(' ') } else { text };
        Ok(DbId::parse(text)?)
    }

    fn accepts(ty: &Type) -> bool {
        is_text_type(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent reference encoder (u128 arithmetic, alphabet built from ranges).
    fn reference_encode(value: u64) -> String {
        let alphabet: Vec<char> = ('0'..='9').chain('A'..='Z').chain('a'..='z').collect();
        let mut v = u128::from(value);
        let mut digits = Vec::new();
        while v > 0 {
            digits.push(alphabet[(v % 62) as usize]);
            v /= 62;
        }
        while digits.len() < 11 {
            digits.push('0');
        }
        digits.iter().rev().collect()
    }

    fn random_ids() -> impl Iterator<Item = DbId> {
        (0..2000).map(|_| DbId::new())
    }

    #[test]
    fn known_vectors() {
        let cases = [
            (1u64 << 63, "AzL8n0Y58m8"),
            (u64::MAX, "LygHa16AHYF"),
            (0x0123_4567_89AB_CDEF | (1 << 63), "B5OdSE3WSy7"),
        ];
        for (value, text) in cases {
            assert_eq!(reference_encode(value), text);
            let id = DbId::from_u64(value).unwrap();
            assert_eq!(id.to_string(), text);
            assert_eq!(DbId::parse(text), Ok(id));
            assert_eq!(format!("{id:?}"), format!("DbId(\"{text}\")"));
        }
    }

    #[test]
    fn random_round_trips() {
        for id in random_ids() {
            assert!(id.as_u64().unwrap() >= 1 << 63);
            let text = id.to_string();
            assert_eq!(text.len(), DbId::ENCODED_LEN);
            assert_eq!(text, reference_encode(id.as_u64().unwrap()));
            assert_eq!(text.parse::<DbId>(), Ok(id));
            assert_eq!(DbId::try_from(text.as_str()), Ok(id));
            assert_eq!(String::from(id), text);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<DbId>(&json).unwrap(), id);
            let value = serde_json::Value::String(text.clone());
            assert_eq!(serde_json::from_value::<DbId>(value).unwrap(), id);
        }
    }

    #[test]
    fn the_table_path_agrees_with_the_careful_one() {
        let mut texts: Vec<String> = random_ids().map(|id| id.to_string()).collect();
        // Below 2^63, past 64 bits, every digit at its extremes, a stray byte.
        texts.extend(
            ["00000000001", "zzzzzzzzzzz", "LygHa16AHYG", "LygHa16AHYF", "AzL8n0Y58m7"].map(String::from),
        );
        texts.extend(["AzL8n0Y58m-", "AzL8n0Y58m\u{7f}", "AzL8n0Y58m\u{0}"].map(String::from));
        for text in &texts {
            let careful = DbId::parse_carefully(text);
            assert_eq!(DbId::parse(text), careful, "{text:?}");
            match careful {
                Ok(id) => assert_eq!(DbId::from_sql(&Type::TEXT, text.as_bytes()).unwrap(), id),
                Err(_) => assert!(DbId::from_sql(&Type::TEXT, text.as_bytes()).is_err(), "{text:?}"),
            }
        }
        assert_eq!(DbId::parse("zzzzzzzzzzz"), Err(DbIdError::Overflow));
        assert!(base62_value(&[0xff; 11]).is_none() && base62_value(b"AzL8n0Y58m").is_none());
    }

    #[test]
    fn from_u64_checks_top_bit() {
        for value in [0, 1, 42, (1 << 63) - 1] {
            assert_eq!(DbId::from_u64(value), Err(DbIdError::TopBitClear { value }));
        }
        assert_eq!(DbId::from_u64(u64::MAX).map(DbId::as_u64), Ok(Some(u64::MAX)));
    }

    #[test]
    fn uuid_ids_round_trip_as_text_json_and_sql() {
        let text = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
        let id = DbId::parse(text).unwrap();
        assert!(id.is_uuid() && id.as_u64().is_none() && id.as_uuid().is_some());
        assert_eq!(id.to_string(), text);
        assert_eq!(DbId::parse(&text.to_uppercase()), Ok(id), "either case, one id");
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<DbId>(&format!("\"{text}\"")).unwrap(), id);
        let mut out = BytesMut::new();
        id.to_sql(&Type::TEXT, &mut out).unwrap();
        assert_eq!(&out[..], text.as_bytes());
        assert_eq!(DbId::from_sql(&Type::TEXT, text.as_bytes()).unwrap(), id);
        assert!(matches!(
            DbId::parse("1b4e28ba-2fa1-41d2-883f-0016d3cca42z"),
            Err(DbIdError::InvalidUuid { position: 35 })
        ));
        assert_ne!(DbId::new(), id);
    }

    #[test]
    fn rejects_wrong_length() {
        for (text, len) in [("", 0), ("AzL8n0Y58m", 10), ("AzL8n0Y58m80", 12), ("ééé", 3)] {
            assert_eq!(DbId::parse(text), Err(DbIdError::InvalidLength { len }));
        }
        let err = DbId::parse("abc").unwrap_err().to_string();
        assert!(err.contains("expected 11") && err.contains("got 3"), "{err}");
    }

    #[test]
    fn rejects_invalid_chars() {
        for ch in ['-', '_', ' ', 'é', '+', '/', '='] {
            for position in [0, 5, 10] {
                let mut chars: Vec<char> = "AzL8n0Y58m8".chars().collect();
                chars[position] = ch;
                let text: String = chars.into_iter().collect();
                let expected = DbIdError::InvalidChar { ch, position };
                assert_eq!(DbId::parse(&text), Err(expected));
            }
        }
        let err = DbId::parse("AzL8n-Y58m8").unwrap_err().to_string();
        assert!(err.contains("'-'") && err.contains("position 5"), "{err}");
    }

    #[test]
    fn rejects_overflow_and_clear_top_bit() {
        assert_eq!(DbId::parse("zzzzzzzzzzz"), Err(DbIdError::Overflow));
        // u64::MAX + 1: the smallest 11-character value that overflows.
        assert_eq!(DbId::parse("LygHa16AHYG"), Err(DbIdError::Overflow));
        assert_eq!(DbId::parse("00000000001"), Err(DbIdError::TopBitClear { value: 1 }));
        // 2^63 - 1: the largest value with the top bit clear.
        assert_eq!(DbId::parse("AzL8n0Y58m7"), Err(DbIdError::TopBitClear { value: (1 << 63) - 1 }));
    }

    #[test]
    fn serde_rejects_non_strings_and_bad_strings() {
        for json in ["9223372036854775808", "1", "null", "true", "[]", "{}"] {
            assert!(serde_json::from_str::<DbId>(json).is_err(), "{json}");
        }
        let err = serde_json::from_str::<DbId>("\"zzzzzzzzzzz\"").unwrap_err();
        assert!(err.to_string().contains("does not fit in 64 bits"), "{err}");
        let err = serde_json::from_str::<DbId>("\"short\"").unwrap_err();
        assert!(err.to_string().contains("expected 11"), "{err}");
    }

    #[test]
    fn sql_round_trip() {
        for ty in [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME, Type::UNKNOWN] {
            assert!(<DbId as ToSql>::accepts(&ty));
            assert!(<DbId as FromSql>::accepts(&ty));
        }
        assert!(!<DbId as ToSql>::accepts(&Type::INT8));
        assert!(!<DbId as FromSql>::accepts(&Type::INT8));

        for id in random_ids().take(100) {
            let mut buf = BytesMut::new();
            let is_null = id.to_sql_checked(&Type::TEXT, &mut buf).unwrap();
            assert!(matches!(is_null, IsNull::No));
            assert_eq!(&buf[..], id.to_string().as_bytes());
            assert_eq!(DbId::from_sql(&Type::TEXT, &buf).unwrap(), id);
        }
        assert!(DbId::new().to_sql_checked(&Type::INT8, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn sql_rejects_bad_text() {
        let id = DbId::from_u64(u64::MAX).unwrap();
        assert_eq!(DbId::from_sql(&Type::BPCHAR, b"LygHa16AHYF  ").unwrap(), id);
        assert!(DbId::from_sql(&Type::TEXT, b"LygHa16AHYF ").is_err());
        assert!(DbId::from_sql(&Type::TEXT, b"\xff\xfe").is_err());
        let err = DbId::from_sql(&Type::TEXT, b"00000000001").unwrap_err();
        let err = err.downcast::<DbIdError>().unwrap();
        assert_eq!(*err, DbIdError::TopBitClear { value: 1 });
    }
}
