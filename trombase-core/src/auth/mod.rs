//! Authentication: users, sessions and password resets in the library's own
//! tables.

mod config;
pub(crate) mod tables;

pub use config::AuthConfig;

use std::sync::Arc;

use crate::client::Core;

/// The auth side of a [`TromBase`](crate::TromBase):
/// `trom.auth.register_with_username_password(...)` and friends.
#[derive(Clone)]
pub struct Auth {
    #[allow(dead_code)] // used by the flows
    core: Arc<Core>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        Auth { core }
    }
}
