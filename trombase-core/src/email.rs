//! [`EmailSender`]: how the library hands mail to the application. The
//! library never sends mail itself.

use futures_util::future::BoxFuture;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body, as HTML.
    pub html: String,
}

/// The error an [`EmailSender`] may answer with. It is logged, never shown to
/// the user, and never fails the registration or reset request that sent it.
pub type SendError = Box<dyn std::error::Error + Send + Sync>;

/// Delivers the library's emails (welcome, password reset). Implement it
/// with your mail provider.
///
/// ```
/// use trombase_core::{Email, EmailSender, SendError};
/// use futures_util::future::BoxFuture;
///
/// struct Outbox;
/// impl EmailSender for Outbox {
///     fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>> {
///         Box::pin(async move {
///             println!("to {}: {}", email.to, email.subject);
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait EmailSender: Send + Sync + 'static {
    /// Sends one message.
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>>;
}

/// The default sender: writes each message to the log (`tracing`, target
/// `trombase::email`) instead of sending it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEmailSender;

impl EmailSender for LogEmailSender {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            tracing::info!(target: "trombase::email", to = %email.to, subject = %email.subject, html = %email.html, "email");
            Ok(())
        })
    }
}
