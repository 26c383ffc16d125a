//! The request bodies of the auth and select routes. Unknown keys and
//! wrong kinds are validation errors naming the problem.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::{Error, Result};

/// `{"email","password"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Credentials {
    pub email: String,
    pub password: String,
}

/// `{"token"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    pub token: String,
}

/// `{"email"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailBody {
    pub email: String,
}

/// `{"token","newPassword"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct NewPasswordBody {
    pub token: String,
    pub new_password: String,
}

/// `{"currentPassword","newPassword"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ChangePasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// `{"action":{...}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SelectBody {
    pub action: Value,
}

/// A JSON body of type `T`; anything else is a validation error.
pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let json = crate::parse_json_body(bytes)?;
    serde_json::from_value(json).map_err(|e| Error::validation("", format!("invalid request body: {e}")))
}
