//! [`TestApp`]: the app's [`TromBase`] on a [`TestDb`], its tables created;
//! and the builder it starts from.

use super::TestDb;
use crate::{Argon2Params, AuthConfig, Session, SessionDb, SignedIn, TromBase, TromBaseBuilder};

/// The auth settings of test apps: [`AuthConfig::default`] with the
/// cheapest argon2id parameters (8 KiB, one pass), so that registering and
/// logging in take microseconds instead of tens of milliseconds. Base an
/// app's own test settings on it:
/// `test_auth_config().session_ttl(Duration::from_secs(60))`.
pub fn test_auth_config() -> AuthConfig {
    AuthConfig::default().argon2(Argon2Params::new(8, 1, 1).unwrap_or_default())
}

impl TestDb {
    /// A [`TromBase::builder`] on this database, with the auth settings of
    /// [`test_auth_config`]; register the app's entities and connect.
    pub fn builder(&self) -> TromBaseBuilder {
        TromBase::builder().database_url(self.url()).auth_config(test_auth_config())
    }

    /// The app's TromBase on this database, its tables created:
    /// `configure` registers the entities (and changes any other setting)
    /// on [`builder`](Self::builder).
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity)]
    /// # #[entity(table = "notes")]
    /// # pub struct Note { pub id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::testing::TestDb) {
    /// let trom = db.trombase(|builder| builder.entity::<Note>()).await;
    /// # let _ = trom; }
    /// ```
    ///
    /// # Panics
    ///
    /// When the schema is invalid, or connecting or creating the tables fails.
    pub async fn trombase(&self, configure: impl FnOnce(TromBaseBuilder) -> TromBaseBuilder) -> TromBase {
        let trom = configure(self.builder())
            .connect()
            .await
            .unwrap_or_else(|e| panic!("trombase::testing: the app's TromBase did not connect: {e}"));
        trom.create_tables()
            .await
            .unwrap_or_else(|e| panic!("trombase::testing: creating the app's tables failed: {e}"));
        trom
    }

    /// This database with the app's TromBase on it ([`trombase`](Self::trombase)).
    pub async fn into_app(self, configure: impl FnOnce(TromBaseBuilder) -> TromBaseBuilder) -> TestApp {
        let trom = self.trombase(configure).await;
        TestApp { trom, database: self }
    }
}

/// The app's [`TromBase`] on a fresh [`TestDb`], its tables (the entities'
/// and the auth system's) created. Dropping it closes the pool and drops
/// the database.
///
/// `#[trombase::test(entities(Note, User))]` hands one to a test taking
/// `app: TestApp`; by hand, `TestApp::new(|builder| builder.entity::<Note>())`.
#[derive(Debug)]
pub struct TestApp {
    /// The app's TromBase: `app.trom.db.with_session(&session)`,
    /// `app.trom.auth`.
    pub trom: TromBase,
    database: TestDb,
}

impl TestApp {
    /// A fresh database with the app's TromBase on it: `configure`
    /// registers the entities on [`TestDb::builder`].
    ///
    /// # Panics
    ///
    /// As [`TestDb::new`] and [`TestDb::trombase`] do.
    pub async fn new(configure: impl FnOnce(TromBaseBuilder) -> TromBaseBuilder) -> TestApp {
        TestDb::new().await.into_app(configure).await
    }

    /// The database the app runs on (for [`TestDb::client`], say).
    pub fn test_db(&self) -> &TestDb {
        &self.database
    }

    /// Registers a new user through the auth system (a unique email, a
    /// random password) and answers the user with their live session, as
    /// the login endpoint would: `session.token` is the bearer token, and
    /// the session row exists, so the token works over HTTP as well.
    ///
    /// # Panics
    ///
    /// When registration fails.
    pub async fn session_for_new_user(&self) -> SignedIn {
        let email = format!("user-{:016x}@example.com", rand::random::<u64>());
        let password = format!("password-{:016x}", rand::random::<u64>());
        self.trom
            .auth
            .register_with_username_password(&email, &password)
            .await
            .unwrap_or_else(|e| panic!("trombase::testing: registering a test user failed: {e}"))
    }

    /// The app's data as `session`'s user sees it:
    /// `app.trom.db.with_session(session)`.
    pub fn as_user(&self, session: &Session) -> SessionDb {
        self.trom.db.with_session(session)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Close the pool's idle connections before the database goes
        // (`database` drops after this; it forces out any still open).
        self.trom.pool().close();
    }
}
