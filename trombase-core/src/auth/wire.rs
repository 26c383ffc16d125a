//! Serde helpers for the JSON shapes of the auth results (SPEC §9): times as
//! epoch milliseconds, tokens and emails validated on the way in.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serializer};

/// `DateTime<Utc>` as a JSON number of milliseconds since the Unix epoch
/// (sub-millisecond precision is dropped). Deserializing accepts integers,
/// and floats without a fractional part, within chrono's range; anything
/// else (strings, fractions, booleans, null) is an error.
pub(crate) mod epoch_ms {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(time.timestamp_millis())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        deserializer.deserialize_any(EpochMsVisitor)
    }
}

struct EpochMsVisitor;

impl EpochMsVisitor {
    fn from_millis<E: de::Error>(millis: i64) -> Result<DateTime<Utc>, E> {
        DateTime::from_timestamp_millis(millis)
            .ok_or_else(|| E::custom(format!("time {millis} is out of range")))
    }
}

impl Visitor<'_> for EpochMsVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time as an integer number of milliseconds since the Unix epoch")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::from_millis(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let millis = i64::try_from(v).map_err(|_| E::custom(format!("time {v} is out of range")))?;
        Self::from_millis(millis)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // JavaScript numbers: accept whole values only, within the exactly
        // representable integer range.
        const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
        if !v.is_finite() || v.fract() != 0.0 || v.abs() > MAX_SAFE {
            return Err(E::custom(format!("time {v} is not a whole number of milliseconds")));
        }
        // In range and whole, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Self::from_millis(v as i64)
    }
}

/// An optional session token: serialized as the token text or `null`;
/// deserialized from a well-formed token, `null` or a missing field.
pub(crate) mod opt_token {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(token: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        match token {
            Some(token) => serializer.serialize_str(token),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        let token = Option::<String>::deserialize(deserializer)?;
        match token {
            Some(token) if !crate::auth::token::is_well_formed(&token) => Err(de::Error::custom(
                "malformed token: expected 43 base64url characters (32 bytes, no padding)",
            )),
            token => Ok(token),
        }
    }
}

/// An email address: deserialized only when it looks like an address, and
/// kept trimmed and lower-cased.
pub(crate) mod email {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw = String::deserialize(deserializer)?;
        crate::auth::email_address::normalize(&raw)
            .ok_or_else(|| de::Error::custom("malformed email: expected an address like name@example.com"))
    }
}
