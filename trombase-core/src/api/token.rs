//! Which header carries the session token.

/// The session token of a request, from its headers: `Authorization:
/// Bearer <token>` (the scheme in any case), else `x-session-token: <token>`
/// (what the TypeScript library's clients send). A request carries one
/// credential: when an `Authorization` header is there it alone counts, so
/// one that is not a Bearer token means no session, whatever
/// `x-session-token` says. `None` when there is no token.
///
/// ```
/// use trombase_core::api::session_token;
/// assert_eq!(session_token(Some("Bearer abc"), None), Some("abc"));
/// assert_eq!(session_token(Some("bearer  abc "), None), Some("abc"));
/// assert_eq!(session_token(None, Some("abc")), Some("abc"));
/// assert_eq!(session_token(Some("Basic dXNlcg=="), Some("abc")), None);
/// assert_eq!(session_token(Some("Bearer "), Some("abc")), None);
/// ```
pub fn session_token<'a>(
    authorization: Option<&'a str>,
    x_session_token: Option<&'a str>,
) -> Option<&'a str> {
    let token = match authorization {
        Some(value) => {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())?
        }
        None => x_session_token?.trim(),
    };
    (!token.is_empty()).then_some(token)
}

/// The header names [`session_token`] reads, lowercase.
pub const TOKEN_HEADERS: [&str; 2] = ["authorization", "x-session-token"];
