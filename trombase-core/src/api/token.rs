//! Which header carries the session token.

/// The session token of a request, from its headers: `Authorization:
/// Bearer <token>` (the scheme in any case), else `x-session-token: <token>`
/// (what the TypeScript library's clients send). `None` when neither holds
/// one; an `Authorization` header of another scheme is ignored.
///
/// ```
/// use trombase_core::api::session_token;
/// assert_eq!(session_token(Some("Bearer abc"), None), Some("abc"));
/// assert_eq!(session_token(Some("bearer  abc "), None), Some("abc"));
/// assert_eq!(session_token(None, Some("abc")), Some("abc"));
/// assert_eq!(session_token(Some("Basic dXNlcg=="), Some("abc")), Some("abc"));
/// assert_eq!(session_token(Some("Bearer "), None), None);
/// ```
pub fn session_token<'a>(
    authorization: Option<&'a str>,
    x_session_token: Option<&'a str>,
) -> Option<&'a str> {
    let bearer = authorization.and_then(|value| {
        let value = value.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    bearer.or(x_session_token.map(str::trim)).filter(|token| !token.is_empty())
}

/// The header names [`session_token`] reads, lowercase.
pub const TOKEN_HEADERS: [&str; 2] = ["authorization", "x-session-token"];
