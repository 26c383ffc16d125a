#![allow(missing_docs)] // test fixtures, not API
//! Authentication against a real PostgreSQL: every flow, every error code,
//! tokens and passwords never stored in plain text, resets that cannot be
//! raced, hashing that does not stall the runtime, and the JSON shapes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use trombase::{
    Argon2Params, AuthConfig, AuthErrorCode, AuthUser, Error, LogoutResult, ResetRequested, Session,
    SignedIn, TromBase,
};
use trombase_tests::{Outbox, TestDb};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery";

// ---- fixtures ----

/// Cheap argon2 parameters: most tests are about flows, not hashing cost.
fn cheap_config() -> AuthConfig {
    AuthConfig::default().argon2(Argon2Params::new(1024, 1, 1).expect("valid parameters"))
}

async fn connect(db: &TestDb, outbox: &Outbox, config: AuthConfig) -> Result<TromBase, Error> {
    let trom = TromBase::builder()
        .database_url(db.url())
        .email_sender(outbox.clone())
        .auth_config(config)
        .connect()
        .await?;
    trom.create_tables().await?;
    Ok(trom)
}

async fn setup() -> Result<(TestDb, TromBase, Outbox), Error> {
    let db = TestDb::new().await;
    let outbox = Outbox::default();
    let trom = connect(&db, &outbox, cheap_config()).await?;
    Ok((db, trom, outbox))
}

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> AuthErrorCode {
    match result {
        Err(Error::Auth(e)) => e.code,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

fn token_of(signed_in: &SignedIn) -> String {
    signed_in.session.token.clone().expect("a new session carries its token")
}

async fn count(db: &TestDb, table: &str) -> Result<i64, tokio_postgres::Error> {
    db.client().await.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await?.try_get(0)
}

/// Malformed forms of a token: empty, not base64url, wrong length, padded.
fn malformed_tokens(good: &str) -> Vec<String> {
    vec![
        String::new(),
        "not a token".to_owned(),
        format!("{}+", &good[..42]),
        format!("{}/", &good[..42]),
        format!("{}!", &good[..42]),
        good[..42].to_owned(),
        format!("{good}A"),
        format!("{good}="),
        "A".repeat(10_000),
    ]
}

// ---- registration ----

#[tokio::test]
async fn register_creates_user_and_session_and_sends_a_welcome() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    let signed_in = trom.auth.register_with_username_password("  Ada@Example.COM ", PASSWORD).await?;
    assert_eq!(signed_in.user.email, EMAIL);
    assert_eq!(signed_in.session.user_id, signed_in.user.id);
    let token = token_of(&signed_in);
    assert_eq!(token.len(), 43);
    let ttl = signed_in.session.expires_at - chrono::Utc::now();
    assert!((ttl - chrono::TimeDelta::days(30)).abs() < chrono::TimeDelta::minutes(5), "{ttl:?}");

    let found = trom.auth.get_session_by_token(&token).await?.expect("the new session is live");
    assert_eq!(found, Session { token: None, ..signed_in.session.clone() });

    let emails = outbox.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, EMAIL);
    assert_eq!(emails[0].subject, "Welcome");
    assert_eq!(count(&db, "trom_auth_users").await?, 1);
    assert_eq!(count(&db, "trom_auth_sessions").await?, 1);
    Ok(())
}

#[tokio::test]
async fn register_refuses_a_taken_email_also_in_another_case_or_with_spaces() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    for email in [EMAIL, "ADA@example.com", "  ada@EXAMPLE.com\t"] {
        let result = trom.auth.register_with_username_password(email, "another password").await;
        assert_eq!(code(result), AuthErrorCode::UsernameTaken, "{email:?}");
    }
    assert_eq!(count(&db, "trom_auth_users").await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_email_make_one_user() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    let attempts: Vec<_> = ["race@example.com", "RACE@example.com", " race@example.com", "Race@Example.com"]
        .into_iter()
        .cycle()
        .take(8)
        .map(|email| {
            let auth = trom.auth.clone();
            tokio::spawn(async move { auth.register_with_username_password(email, PASSWORD).await })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await? {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(code::<()>(Err(e)), AuthErrorCode::UsernameTaken),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(count(&db, "trom_auth_users").await?, 1);
    assert_eq!(count(&db, "trom_auth_sessions").await?, 1);
    Ok(())
}

#[tokio::test]
async fn register_refuses_short_and_overlong_passwords() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    for password in ["", "1234567", "ééééééé", &"x".repeat(1025)] {
        let result = trom.auth.register_with_username_password(EMAIL, password).await;
        assert_eq!(code(result), AuthErrorCode::InvalidAuthInput, "{} chars", password.chars().count());
    }
    assert_eq!(count(&db, "trom_auth_users").await?, 0);
    assert!(outbox.emails().is_empty());
    // Eight characters (sixteen bytes) is enough.
    trom.auth.register_with_username_password(EMAIL, "éééééééé").await?;
    trom.auth.login_with_username_password(EMAIL, "éééééééé").await?;
    Ok(())
}

#[tokio::test]
async fn register_refuses_malformed_emails() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    for email in
        ["", "   ", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@@example.com"]
    {
        let result = trom.auth.register_with_username_password(email, PASSWORD).await;
        assert_eq!(code(result), AuthErrorCode::InvalidAuthInput, "{email:?}");
    }
    assert_eq!(count(&db, "trom_auth_users").await?, 0);
    Ok(())
}

// ---- login ----

#[tokio::test]
async fn login_with_the_right_password_starts_a_new_session() -> TestResult {
    let (_db, trom, _outbox) = setup().await?;
    let registered = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let signed_in = trom.auth.login_with_username_password(" ADA@example.com ", PASSWORD).await?;
    assert_eq!(signed_in.user, registered.user);
    assert_ne!(signed_in.session.id, registered.session.id);
    assert_ne!(token_of(&signed_in), token_of(&registered));
    // Both sessions are live.
    assert!(trom.auth.get_session_by_token(&token_of(&registered)).await?.is_some());
    assert!(trom.auth.get_session_by_token(&token_of(&signed_in)).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_alike() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let wrong = trom.auth.login_with_username_password(EMAIL, "wrong password").await;
    let unknown = trom.auth.login_with_username_password("nobody@example.com", PASSWORD).await;
    let (Err(wrong), Err(unknown)) = (wrong, unknown) else { panic!("both logins must fail") };
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(code::<()>(Err(wrong)), AuthErrorCode::InvalidCredentials);
    assert_eq!(code::<()>(Err(unknown)), AuthErrorCode::InvalidCredentials);
    // Malformed emails and overlong passwords: the same answer.
    for (email, password) in [("not an email", PASSWORD), ("", ""), (EMAIL, &"x".repeat(5000))] {
        let result = trom.auth.login_with_username_password(email, password).await;
        assert_eq!(code(result), AuthErrorCode::InvalidCredentials);
    }
    assert_eq!(count(&db, "trom_auth_sessions").await?, 1, "only the registration's session");
    Ok(())
}

#[tokio::test]
async fn hashes_made_by_another_implementation_log_in() -> TestResult {
    // Made with Python argon2-cffi 25.1.0:
    //   argon2.PasswordHasher().hash("correct horse battery staple")   (argon2id, m=65536, t=3, p=4)
    //   argon2.PasswordHasher(time_cost=3, memory_cost=4096, parallelism=2, type=argon2.Type.I)
    //       .hash("Tr0ub4dor&3-legacy")                                (argon2i)
    let vectors = [
        (
            "cffi-id@example.com",
            "correct horse battery staple",
            "$argon2id$v=19$m=65536,t=3,p=4$GIEpfBpL3k/II/3W9VhROA$2CYwvg57U6W1KiVZ6a2Pzs27vk5/6fWNZ1RVqjQ4lRs",
        ),
        (
            "cffi-i@example.com",
            "Tr0ub4dor&3-legacy",
            "$argon2i$v=19$m=4096,t=3,p=2$VWFEa0ZovY7i45OVH2e+zw$TPdhBBh3BbG4wGsGphENSiBKiWG4QCcgInBJsEhFBM4",
        ),
    ];
    let (db, trom, _outbox) = setup().await?;
    let client = db.client().await;
    for (email, password, phc) in vectors {
        let id = trombase::DbId::new();
        client
            .execute(
                "INSERT INTO trom_auth_users (id, email, password_hash) VALUES ($1, $2, $3)",
                &[&id, &email, &phc],
            )
            .await?;
        let signed_in = trom.auth.login_with_username_password(email, password).await?;
        assert_eq!(signed_in.user.id, id);
        let wrong = trom.auth.login_with_username_password(email, "not the password").await;
        assert_eq!(code(wrong), AuthErrorCode::InvalidCredentials);
    }
    Ok(())
}

// ---- sessions ----

#[tokio::test]
async fn malformed_tokens_find_no_session_without_touching_the_database() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    let good = token_of(&trom.auth.register_with_username_password(EMAIL, PASSWORD).await?);
    // With the sessions table gone, any query would fail: the malformed
    // tokens must be answered without one.
    db.client().await.batch_execute("ALTER TABLE trom_auth_sessions RENAME TO moved_away").await?;
    for token in malformed_tokens(&good) {
        assert_eq!(trom.auth.get_session_by_token(&token).await?, None, "{token:?}");
        assert_eq!(trom.auth.invalidate_session_token(&token).await?, LogoutResult { invalidated: false });
        assert_eq!(code(trom.auth.require_session(&token).await), AuthErrorCode::SessionNotFound);
    }
    assert!(matches!(trom.auth.get_session_by_token(&good).await, Err(Error::Database(_))));
    Ok(())
}

#[tokio::test]
async fn unknown_tokens_find_no_session() -> TestResult {
    let (_db, trom, _outbox) = setup().await?;
    let unknown = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    assert_eq!(trom.auth.get_session_by_token(unknown).await?, None);
    assert_eq!(code(trom.auth.require_session(unknown).await), AuthErrorCode::SessionNotFound);
    assert!(!trom.auth.invalidate_session_token(unknown).await?.invalidated);
    Ok(())
}

#[tokio::test]
async fn expired_sessions_are_dead() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let token = token_of(&signed_in);
    db.client()
        .await
        .execute(
            "UPDATE trom_auth_sessions SET expires_at = now() - interval '1 second' WHERE id = $1",
            &[&signed_in.session.id],
        )
        .await?;
    assert_eq!(trom.auth.get_session_by_token(&token).await?, None);
    assert_eq!(code(trom.auth.require_session(&token).await), AuthErrorCode::SessionNotFound);
    assert!(!trom.auth.invalidate_session_token(&token).await?.invalidated);
    Ok(())
}

#[tokio::test]
async fn logout_ends_exactly_one_live_session() -> TestResult {
    let (db, trom, _outbox) = setup().await?;
    let first = token_of(&trom.auth.register_with_username_password(EMAIL, PASSWORD).await?);
    let second = token_of(&trom.auth.login_with_username_password(EMAIL, PASSWORD).await?);
    assert_eq!(trom.auth.invalidate_session_token(&first).await?, LogoutResult { invalidated: true });
    assert_eq!(trom.auth.get_session_by_token(&first).await?, None);
    assert_eq!(code(trom.auth.require_session(&first).await), AuthErrorCode::SessionNotFound);
    assert_eq!(trom.auth.invalidate_session_token(&first).await?, LogoutResult { invalidated: false });
    assert!(trom.auth.require_session(&second).await.is_ok(), "the other session lives on");
    let ended: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM trom_auth_sessions WHERE invalidated_at IS NOT NULL", &[])
        .await?
        .try_get(0)?;
    assert_eq!(ended, 1);
    Ok(())
}

#[tokio::test]
async fn session_lifetime_is_configurable() -> TestResult {
    let db = TestDb::new().await;
    let config = cheap_config().session_ttl(Duration::from_secs(3600));
    let trom = connect(&db, &Outbox::default(), config).await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let ttl = signed_in.session.expires_at - chrono::Utc::now();
    assert!((ttl - chrono::TimeDelta::hours(1)).abs() < chrono::TimeDelta::minutes(1), "{ttl:?}");
    Ok(())
}

// ---- password reset ----

#[tokio::test]
async fn a_reset_sets_the_password_ends_old_sessions_and_signs_in() -> TestResult {
    let (_db, trom, outbox) = setup().await?;
    let registered = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let logged_in = trom.auth.login_with_username_password(EMAIL, PASSWORD).await?;

    assert_eq!(
        trom.auth.request_password_reset(" ADA@example.com").await?,
        ResetRequested { accepted: true }
    );
    let emails = outbox.emails();
    assert_eq!(emails.len(), 2, "welcome, then the reset");
    assert_eq!(emails[1].to, EMAIL);
    let token = outbox.last_token().expect("the reset email carries a token");
    assert_eq!(token.len(), 43);

    let reset = trom.auth.validate_password_reset(&token, "a brand new passphrase").await?;
    assert_eq!(reset.user.id, registered.user.id);
    assert!(reset.user.updated_at > registered.user.updated_at);
    assert!(trom.auth.require_session(&token_of(&reset)).await.is_ok());
    for old in [&registered, &logged_in] {
        assert_eq!(trom.auth.get_session_by_token(&token_of(old)).await?, None, "old sessions end");
    }
    let old_login = trom.auth.login_with_username_password(EMAIL, PASSWORD).await;
    assert_eq!(code(old_login), AuthErrorCode::InvalidCredentials);
    trom.auth.login_with_username_password(EMAIL, "a brand new passphrase").await?;

    let reused = trom.auth.validate_password_reset(&token, "yet another passphrase").await;
    assert_eq!(code(reused), AuthErrorCode::InvalidResetToken);
    Ok(())
}

#[tokio::test]
async fn unknown_email_reset_requests_are_accepted_and_send_nothing() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let before = outbox.emails().len();
    assert_eq!(
        trom.auth.request_password_reset("nobody@example.com").await?,
        ResetRequested { accepted: true }
    );
    assert_eq!(outbox.emails().len(), before);
    assert_eq!(count(&db, "trom_auth_password_resets").await?, 0);
    let malformed = trom.auth.request_password_reset("not an address").await;
    assert_eq!(code(malformed), AuthErrorCode::InvalidAuthInput);
    Ok(())
}

#[tokio::test]
async fn expired_reset_tokens_are_refused() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    trom.auth.request_password_reset(EMAIL).await?;
    let token = outbox.last_token().expect("a token");
    db.client()
        .await
        .batch_execute("UPDATE trom_auth_password_resets SET expires_at = now() - interval '1 second'")
        .await?;
    let result = trom.auth.validate_password_reset(&token, "a brand new passphrase").await;
    assert_eq!(code(result), AuthErrorCode::InvalidResetToken);
    trom.auth.login_with_username_password(EMAIL, PASSWORD).await?;
    Ok(())
}

#[tokio::test]
async fn reset_tokens_are_checked_before_anything_changes() -> TestResult {
    let (_db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    trom.auth.request_password_reset(EMAIL).await?;
    let token = outbox.last_token().expect("a token");
    for bad in malformed_tokens(&token) {
        let result = trom.auth.validate_password_reset(&bad, "a brand new passphrase").await;
        assert_eq!(code(result), AuthErrorCode::InvalidResetToken, "{bad:?}");
    }
    let unknown = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    assert_eq!(
        code(trom.auth.validate_password_reset(unknown, "a new passphrase").await),
        AuthErrorCode::InvalidResetToken
    );
    // A short new password is refused and leaves the token usable.
    assert_eq!(
        code(trom.auth.validate_password_reset(&token, "short").await),
        AuthErrorCode::InvalidAuthInput
    );
    trom.auth.validate_password_reset(&token, "long enough now").await?;
    Ok(())
}

#[tokio::test]
async fn redeeming_a_reset_retires_the_users_older_reset_tokens() -> TestResult {
    let (_db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    trom.auth.request_password_reset(EMAIL).await?;
    let older = outbox.last_token().expect("a token");
    trom.auth.request_password_reset(EMAIL).await?;
    let newer = outbox.last_token().expect("a token");
    assert_ne!(older, newer);
    trom.auth.validate_password_reset(&newer, "a brand new passphrase").await?;
    let result = trom.auth.validate_password_reset(&older, "sneaky passphrase").await;
    assert_eq!(code(result), AuthErrorCode::InvalidResetToken);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_of_one_reset_token_exactly_one_wins() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    trom.auth.request_password_reset(EMAIL).await?;
    let token = outbox.last_token().expect("a token");
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let (auth, token) = (trom.auth.clone(), token.clone());
            tokio::spawn(
                async move { auth.validate_password_reset(&token, &format!("new passphrase {i}")).await },
            )
        })
        .collect();
    let mut winners = Vec::new();
    for (i, attempt) in attempts.into_iter().enumerate() {
        match attempt.await? {
            Ok(signed_in) => winners.push((i, signed_in)),
            Err(e) => assert_eq!(code::<()>(Err(e)), AuthErrorCode::InvalidResetToken),
        }
    }
    assert_eq!(winners.len(), 1);
    let (i, winner) = &winners[0];
    trom.auth.login_with_username_password(EMAIL, &format!("new passphrase {i}")).await?;
    assert!(trom.auth.require_session(&token_of(winner)).await.is_ok());
    let live: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM trom_auth_sessions WHERE invalidated_at IS NULL", &[])
        .await?
        .try_get(0)?;
    assert_eq!(live, 2, "the winner's session and the login's");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_waiting_on_the_row_lock_finds_the_token_used() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    trom.auth.request_password_reset(EMAIL).await?;
    let token = outbox.last_token().expect("a token");

    // Hold the reset row's lock, so both attempts queue on it inside their
    // transactions; then let them go.
    let mut holder = db.client().await;
    let hold = holder.transaction().await?;
    hold.execute("SELECT 1 FROM trom_auth_password_resets FOR UPDATE", &[]).await?;
    let attempts: Vec<_> = ["first passphrase", "second passphrase"]
        .into_iter()
        .map(|password| {
            let (auth, token) = (trom.auth.clone(), token.clone());
            tokio::spawn(async move { auth.validate_password_reset(&token, password).await })
        })
        .collect();
    let observer = db.client().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await?
            .try_get(0)?;
        if waiting == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the attempts never queued on the lock ({waiting} waiting)");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hold.commit().await?;

    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await?);
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let loser = results.into_iter().find(Result::is_err).expect("one attempt loses");
    assert_eq!(code(loser), AuthErrorCode::InvalidResetToken);
    Ok(())
}

// ---- email sender failures ----

#[tokio::test]
async fn a_failing_email_sender_fails_neither_registration_nor_reset_requests() -> TestResult {
    let db = TestDb::new().await;
    let outbox = Outbox::failing();
    let trom = connect(&db, &outbox, cheap_config()).await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    assert!(trom.auth.require_session(&token_of(&signed_in)).await.is_ok());
    assert_eq!(trom.auth.request_password_reset(EMAIL).await?, ResetRequested { accepted: true });
    assert_eq!(outbox.emails().len(), 2, "both emails were attempted");
    assert_eq!(count(&db, "trom_auth_password_resets").await?, 1);
    Ok(())
}

// ---- nothing secret at rest ----

#[tokio::test]
async fn the_database_holds_no_plaintext_token_or_password() -> TestResult {
    let (db, trom, outbox) = setup().await?;
    let new_password = "the reset passphrase";
    let mut secrets = vec![PASSWORD.to_owned(), new_password.to_owned()];
    secrets.push(token_of(&trom.auth.register_with_username_password(EMAIL, PASSWORD).await?));
    secrets.push(token_of(&trom.auth.login_with_username_password(EMAIL, PASSWORD).await?));
    trom.auth.request_password_reset(EMAIL).await?;
    secrets.push(outbox.last_token().expect("a token"));
    trom.auth.request_password_reset(EMAIL).await?;
    let reset_token = outbox.last_token().expect("a token");
    secrets.push(reset_token.clone());
    secrets.push(token_of(&trom.auth.validate_password_reset(&reset_token, new_password).await?));

    let client = db.client().await;
    let columns = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name LIKE 'trom_auth_%' \
             AND data_type IN ('text', 'character varying', 'character')",
            &[],
        )
        .await?;
    assert!(columns.len() >= 8, "the auth tables' text columns: {}", columns.len());
    let mut scanned = 0;
    for column in &columns {
        let (table, name): (String, String) = (column.try_get(0)?, column.try_get(1)?);
        for row in client.query(&format!("SELECT \"{name}\" FROM \"{table}\""), &[]).await? {
            let value: Option<String> = row.try_get(0)?;
            let value = value.unwrap_or_default();
            for secret in &secrets {
                assert!(!value.contains(secret.as_str()), "{table}.{name} holds a secret in plain text");
            }
            scanned += 1;
        }
    }
    assert_eq!(scanned, 18, "1 user, 3 sessions and 2 resets, 3 text columns each");
    let hash: String =
        client.query_one("SELECT password_hash FROM trom_auth_users", &[]).await?.try_get(0)?;
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    Ok(())
}

// ---- hashing holds no pool connection ----

/// Sixteen logins at once on a pool of two connections, with tokio's
/// blocking pool (where hashes run) held back by the test: every login
/// stops at its hash and cannot finish until the test lets it. All sixteen
/// still look their user up, and a fresh checkout of the pool answers a
/// query while none of them has finished. A login that kept its connection
/// while it waited for or computed its hash would exhaust the pool after two
/// lookups, and the others (and the query) could not get a connection.
///
/// Nothing here depends on how fast the machine is: the order of events is
/// forced, not timed (the only clock is a generous deadline that matters
/// only when the property is broken).
#[test]
fn sixteen_concurrent_logins_do_not_stall_other_queries() -> TestResult {
    // One blocking thread, which the test occupies: no hash can run until
    // it lets go.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = TestDb::new().await;
        let trom = TromBase::builder()
            .database_url(db.url())
            .email_sender(Outbox::default())
            .auth_config(cheap_config())
            .max_connections(2)
            .wait_timeout(None)
            .connect()
            .await?;
        trom.create_tables().await?;
        trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
        // Both connections made now (making one may resolve a host name on
        // the blocking pool).
        let pool = trom.pool();
        let (a, b) = tokio::try_join!(pool.get(), pool.get())?;
        a.simple_query("SELECT 1").await?;
        b.simple_query("SELECT 1").await?;
        drop((a, b));

        let (release, held) = std::sync::mpsc::channel::<()>();
        let (occupied, blocking_pool_full) = tokio::sync::oneshot::channel();
        let blocker = tokio::task::spawn_blocking(move || {
            let _ = occupied.send(());
            let _ = held.recv();
        });
        blocking_pool_full.await?;

        let before = trom.statements_executed();
        let finished = Arc::new(AtomicUsize::new(0));
        let logins: Vec<_> = (0..16)
            .map(|i| {
                let auth = trom.auth.clone();
                let finished = Arc::clone(&finished);
                let password = if i % 2 == 0 { PASSWORD } else { "a wrong password" };
                tokio::spawn(async move {
                    let result = auth.login_with_username_password(EMAIL, password).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                    result
                })
            })
            .collect();

        // Each login looks its user up (a statement) before it hashes.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let lookups = trom.statements_executed() - before;
            if lookups >= 16 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {lookups} of 16 logins looked their user up on a pool of 2 while their hashes waited: \
                 the logins keep pool connections while they hash"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // An ordinary query gets a connection and an answer while all
        // sixteen logins wait for their hashes.
        let probe = pool.get().await?;
        probe.simple_query("SELECT 1").await?;
        drop(probe);
        assert_eq!(finished.load(Ordering::SeqCst), 0, "a login finished while the hashes were held back");

        // Let the hashes run: every login ends as it should.
        drop(release);
        blocker.await?;
        for (i, login) in logins.into_iter().enumerate() {
            let result = login.await?;
            if i % 2 == 0 {
                result?;
            } else {
                assert_eq!(code(result), AuthErrorCode::InvalidCredentials);
            }
        }
        assert_eq!(finished.load(Ordering::SeqCst), 16);
        Ok(())
    })
}

// ---- JSON shapes ----

#[tokio::test]
async fn results_serialize_to_the_http_shapes_and_round_trip() -> TestResult {
    let (_db, trom, _outbox) = setup().await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let value = serde_json::to_value(&signed_in)?;
    let user = &value["user"];
    let session = &value["session"];
    let mut user_keys: Vec<_> = user.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    user_keys.sort();
    assert_eq!(user_keys, ["createdAt", "email", "id", "updatedAt"]);
    let mut session_keys: Vec<_> =
        session.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    session_keys.sort();
    assert_eq!(session_keys, ["expiresAt", "id", "token", "userId"]);
    assert_eq!(user["id"], json!(signed_in.user.id.to_string()));
    assert_eq!(user["email"], json!(EMAIL));
    assert_eq!(user["createdAt"], json!(signed_in.user.created_at.timestamp_millis()));
    assert_eq!(session["userId"], user["id"]);
    assert_eq!(session["token"], json!(token_of(&signed_in)));
    assert_eq!(session["expiresAt"], json!(signed_in.session.expires_at.timestamp_millis()));

    let back: SignedIn = serde_json::from_value(value.clone())?;
    assert_eq!(serde_json::to_value(&back)?, value);
    assert_eq!(back.session.token, signed_in.session.token);

    let looked_up = trom.auth.get_session_by_token(&token_of(&signed_in)).await?.expect("live");
    assert_eq!(serde_json::to_value(&looked_up)?["token"], json!(null));

    let logout = trom.auth.invalidate_session_token(&token_of(&signed_in)).await?;
    assert_eq!(serde_json::to_value(logout)?, json!({"invalidated": true}));
    assert!(!serde_json::from_value::<LogoutResult>(json!({"invalidated": false}))?.invalidated);
    let accepted = trom.auth.request_password_reset(EMAIL).await?;
    assert_eq!(serde_json::to_value(accepted)?, json!({"accepted": true}));
    assert_eq!(serde_json::from_value::<ResetRequested>(json!({"accepted": true}))?, accepted);
    Ok(())
}

#[test]
fn result_deserialization_rejects_bad_values() {
    let good = json!({
        "user": {"id": "AzL8n0Y58m8", "email": EMAIL, "createdAt": 1_700_000_000_000_i64, "updatedAt": 1_700_000_000_001_i64},
        "session": {"id": "BzL8n0Y58m8", "userId": "AzL8n0Y58m8", "token": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "expiresAt": 1_702_592_000_000_i64},
    });
    assert!(serde_json::from_value::<SignedIn>(good.clone()).is_ok());
    let bad = [
        ("/user/email", json!("not an email")),
        ("/user/email", json!("")),
        ("/user/id", json!("")),
        ("/user/id", json!("0000000000!")),
        ("/session/id", json!("")),
        ("/session/userId", json!(null)),
        ("/session/token", json!("")),
        ("/session/token", json!("too-short")),
        ("/session/token", json!("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")),
        ("/session/token", json!("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+")),
        ("/user/createdAt", json!("yesterday")),
        ("/user/updatedAt", json!("1700000000000")),
        ("/session/expiresAt", json!(null)),
        ("/session/expiresAt", json!(1.25)),
    ];
    for (pointer, value) in bad {
        let mut json = good.clone();
        *json.pointer_mut(pointer).expect("the pointer names a field") = value.clone();
        assert!(serde_json::from_value::<SignedIn>(json).is_err(), "accepted {pointer} = {value}");
    }
    assert!(serde_json::from_value::<AuthUser>(json!({"id": "AzL8n0Y58m8"})).is_err());
    assert!(serde_json::from_value::<LogoutResult>(json!({"invalidated": 1})).is_err());
    assert!(serde_json::from_value::<ResetRequested>(json!({"accepted": "true"})).is_err());
}
