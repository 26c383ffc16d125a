//! An email sender for tests that keeps what it was given.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use trombase::{Email, EmailSender, SendError};

/// Records every email; with `fail`, also answers every send with an error.
#[derive(Clone, Default)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Email>>>,
    fail: bool,
}

impl Outbox {
    /// An outbox whose every send fails.
    pub fn failing() -> Self {
        Outbox { fail: true, ..Outbox::default() }
    }

    /// Every email sent so far.
    pub fn emails(&self) -> Vec<Email> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The token of the last email (inside `<code>...</code>`).
    pub fn last_token(&self) -> Option<String> {
        let html = self.emails().last()?.html.clone();
        let start = html.find("<code>")? + "<code>".len();
        let end = html[start..].find("</code>")? + start;
        Some(html[start..end].to_owned())
    }
}

impl EmailSender for Outbox {
    fn send<'a>(
        &'a self,
        email: &'a Email,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner).push(email.clone());
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                Err("the mail provider is down".into())
            } else {
                Ok(())
            }
        })
    }
}
