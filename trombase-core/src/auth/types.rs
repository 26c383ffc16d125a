//! What the auth flows answer: [`AuthUser`], [`SignedIn`], [`LogoutResult`] and
//! [`ResetRequested`]. Each serializes to the JSON of the HTTP API (times as
//! epoch milliseconds), so a handler can return it as it is, and deserializes
//! with validation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire;
use crate::{DbId, Session};

/// A registered user of the auth system, without the password hash. (Named
/// `AuthUser` so it does not collide with an application's own `User` entity.)
///
/// JSON: `{"id":"AzL8n0Y58m8","email":"ada@example.com","createdAt":1700000000000,"updatedAt":1700000000000}`.
/// Deserializing refuses an empty or malformed id, an email that does not
/// look like an address (and lower-cases and trims one that does), and
/// times that are not whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthUser {
    /// The user's id.
    pub id: DbId,
    /// The email address, trimmed and lower-cased.
    #[serde(deserialize_with = "wire::email::deserialize")]
    pub email: String,
    /// When the user registered.
    #[serde(with = "wire::epoch_ms")]
    pub created_at: DateTime<Utc>,
    /// When the user last changed (a password reset changes it).
    #[serde(with = "wire::epoch_ms")]
    pub updated_at: DateTime<Utc>,
}

/// A user with a fresh session: what registration, login and a completed
/// password reset answer. The session carries its token
/// (`session.token` is `Some`), the only time the token is ever available.
///
/// JSON: `{"user":{...},"session":{"id","userId","token","expiresAt"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The user.
    pub user: AuthUser,
    /// The new session, with its token.
    pub session: Session,
}

/// What logging out answers. JSON: `{"invalidated":true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutResult {
    /// Whether a live session was ended (`false` for an unknown, expired,
    /// already ended or malformed token).
    pub invalidated: bool,
}

/// What a password-reset request answers, whether or not the email belongs
/// to a user. JSON: `{"accepted":true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRequested {
    /// Always `true`.
    pub accepted: bool,
}

impl ResetRequested {
    /// The one answer: `{"accepted":true}`.
    pub const ACCEPTED: ResetRequested = ResetRequested { accepted: true };
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user_json() -> serde_json::Value {
        json!({"id": "AzL8n0Y58m8", "email": "ada@example.com", "createdAt": 1_700_000_000_123_i64, "updatedAt": 1_700_000_000_456_i64})
    }

    #[test]
    fn user_round_trips() -> Result<(), serde_json::Error> {
        let user: AuthUser = serde_json::from_value(user_json())?;
        assert_eq!(user.created_at.timestamp_millis(), 1_700_000_000_123);
        assert_eq!(serde_json::to_value(&user)?, user_json());
        Ok(())
    }

    #[test]
    fn user_rejects_bad_fields() {
        let bad = [
            ("id", json!("")),
            ("id", json!("not-an-id")),
            ("email", json!("nope")),
            ("email", json!(null)),
            ("createdAt", json!("1700000000000")),
            ("createdAt", json!(1.5)),
            ("updatedAt", json!(true)),
            ("updatedAt", json!(9.0e300)),
        ];
        for (field, value) in bad {
            let mut json = user_json();
            json[field] = value.clone();
            assert!(serde_json::from_value::<AuthUser>(json).is_err(), "accepted {field} = {value}");
        }
    }

    #[test]
    fn user_email_is_normalized_and_whole_float_times_accepted() -> Result<(), serde_json::Error> {
        let mut json = user_json();
        json["email"] = json!("  Ada@Example.com ");
        json["createdAt"] = json!(1_700_000_000_000.0);
        let user: AuthUser = serde_json::from_value(json)?;
        assert_eq!(user.email, "ada@example.com");
        assert_eq!(user.created_at.timestamp_millis(), 1_700_000_000_000);
        Ok(())
    }

    #[test]
    fn small_results_have_their_shapes() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_value(LogoutResult { invalidated: true })?, json!({"invalidated": true}));
        assert_eq!(serde_json::to_value(ResetRequested::ACCEPTED)?, json!({"accepted": true}));
        assert!(serde_json::from_value::<LogoutResult>(json!({"invalidated": "yes"})).is_err());
        assert!(serde_json::from_value::<ResetRequested>(json!({})).is_err());
        Ok(())
    }
}

/// One live session of a user, as [`Auth::sessions`](crate::Auth::sessions)
/// lists them (never the token). JSON:
/// `{"id","createdAt","expiresAt","current"}` (times as epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The session's id.
    pub id: DbId,
    /// When it started.
    #[serde(with = "wire::epoch_ms")]
    pub created_at: DateTime<Utc>,
    /// When it expires.
    #[serde(with = "wire::epoch_ms")]
    pub expires_at: DateTime<Utc>,
    /// Whether it is the session that asked.
    pub current: bool,
}
