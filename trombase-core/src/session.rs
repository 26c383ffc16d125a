//! [`Session`]: an authenticated session, the key to all data access.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::wire;
use crate::DbId;

/// A live authenticated session. Data access goes through
/// `trom.db.with_session(&session)`.
///
/// `Debug` never shows the token.
///
/// # JSON
///
/// `{"id":"AzL8n0Y58m8","userId":"Bx1...","token":"<43 base64url characters>","expiresAt":1700000000000}`:
/// `expiresAt` is epoch milliseconds; `token` is `null` when the session
/// carries none (only a just-created session does). Deserializing refuses
/// an empty or malformed id, a token that is not 43 base64url characters
/// without padding, and a time that is not a whole number; a missing
/// `token` reads as `None`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The session's id.
    pub id: DbId,
    /// The user the session belongs to.
    pub user_id: DbId,
    /// When the session stops being valid.
    #[serde(with = "wire::epoch_ms")]
    pub expires_at: DateTime<Utc>,
    /// The bearer token, present only when the session was just created
    /// (the database stores only its hash).
    #[serde(default, with = "wire::opt_token")]
    pub token: Option<String>,
}

impl Session {
    /// Whether the session has expired at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TOKEN: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn session_json() -> serde_json::Value {
        json!({"id": "AzL8n0Y58m8", "userId": "BzL8n0Y58m8", "token": TOKEN, "expiresAt": 1_700_000_000_123_i64})
    }

    #[test]
    fn round_trips_with_and_without_a_token() -> Result<(), serde_json::Error> {
        let session: Session = serde_json::from_value(session_json())?;
        assert_eq!(session.token.as_deref(), Some(TOKEN));
        assert_eq!(session.expires_at.timestamp_millis(), 1_700_000_000_123);
        assert_eq!(serde_json::to_value(&session)?, session_json());

        let without = Session { token: None, ..session };
        let json = serde_json::to_value(&without)?;
        assert_eq!(json["token"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<Session>(json)?, without);
        let mut missing = session_json();
        missing.as_object_mut().map(|o| o.remove("token"));
        assert_eq!(serde_json::from_value::<Session>(missing)?.token, None);
        Ok(())
    }

    #[test]
    fn rejects_bad_fields() {
        let bad = [
            ("id", json!("")),
            ("userId", json!("0")),
            ("token", json!("")),
            ("token", json!(format!("{TOKEN}="))),
            ("token", json!(&TOKEN[1..])),
            ("token", json!(format!("{}+", &TOKEN[1..]))),
            ("token", json!(12)),
            ("expiresAt", json!("1700000000000")),
            ("expiresAt", json!(null)),
        ];
        for (field, value) in bad {
            let mut json = session_json();
            json[field] = value.clone();
            assert!(serde_json::from_value::<Session>(json).is_err(), "accepted {field} = {value}");
        }
    }

    #[test]
    fn debug_hides_the_token() -> Result<(), serde_json::Error> {
        let session: Session = serde_json::from_value(session_json())?;
        assert!(!format!("{session:?}").contains(TOKEN));
        Ok(())
    }
}
