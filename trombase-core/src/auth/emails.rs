//! The auth system's emails (welcome, password reset) and their delivery
//! through the application's [`EmailSender`](crate::EmailSender). A failing
//! sender is logged and never fails the flow that sent the mail.

use crate::{Email, EmailSender};

/// The welcome email for a new user.
pub(super) fn welcome(to: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Welcome".to_owned(),
        html: format!("<p>Welcome! Your account <b>{}</b> is ready.</p>", escape_html(to)),
    }
}

/// The password-reset email carrying `token`, as a link when the config has
/// a link prefix.
pub(super) fn password_reset(to: &str, token: &str, link_prefix: Option<&str>, ttl_minutes: u64) -> Email {
    let action = token_action(token, link_prefix, "Choose a new password", "Your password reset code:");
    Email {
        to: to.to_owned(),
        subject: "Reset your password".to_owned(),
        html: format!(
            "<p>Someone asked to reset the password of <b>{}</b>.</p>{action}\
             <p>This expires in {ttl_minutes} minutes and works once. \
             If it was not you, ignore this email.</p>",
            escape_html(to)
        ),
    }
}

/// Hands `email` to the sender; a failure is logged (without the body,
/// which may hold a token) and swallowed.
/// The paragraph carrying a token: a link when there is a link prefix,
/// else the token itself.
fn token_action(token: &str, link_prefix: Option<&str>, link_text: &str, code_label: &str) -> String {
    match link_prefix {
        Some(prefix) => {
            let link = escape_html(&format!("{prefix}{token}"));
            format!("<p><a href=\"{link}\">{link_text}</a></p>")
        }
        // The token is base64url: nothing in it needs escaping.
        None => format!("<p>{code_label}</p><p><code>{token}</code></p>"),
    }
}

/// The email-verification message.
pub(super) fn verification(to: &str, token: &str, link_prefix: Option<&str>, ttl_hours: u64) -> Email {
    let action =
        token_action(token, link_prefix, "Verify your email address", "Your email verification code:");
    Email {
        to: to.to_owned(),
        subject: "Verify your email address".to_owned(),
        html: format!("{action}<p>It works once, for {ttl_hours} hours.</p>"),
    }
}

pub(super) async fn send(sender: &dyn EmailSender, email: &Email, kind: &'static str) {
    if let Err(error) = sender.send(email).await {
        // Never the address (nor the body, which may hold a token).
        tracing::warn!(target: "trombase::auth", kind, error = %error, "sending an email failed");
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_email_carries_the_token_or_a_link() {
        let plain = password_reset("a@b.co", "TOKEN", None, 60);
        assert!(plain.html.contains("<code>TOKEN</code>"));
        assert!(plain.html.contains("60 minutes"));
        let linked = password_reset("a@b.co", "TOKEN", Some("https://x.test/r?a=1&token="), 15);
        assert!(linked.html.contains("href=\"https://x.test/r?a=1&amp;token=TOKEN\""), "{}", linked.html);
    }

    #[test]
    fn addresses_are_escaped() {
        assert!(welcome("o'neil&co@b.co").html.contains("o&#39;neil&amp;co@b.co"));
    }
}
