#![allow(missing_docs)] // test fixtures, not API
//! The auth system under abuse, each attack replayed against a real
//! PostgreSQL: password guessing, reset floods, lookalike addresses, stale
//! hashes; the limiter shared by two instances of an app; and the account
//! operations (change password, sessions, email verification).

use std::time::Duration;

use trombase::{
    Argon2Params, AuthConfig, AuthErrorCode, EmailVerification, Error, Limit, RateLimits, TromBase,
};
use trombase_tests::{Outbox, TestDb};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery";

fn cheap() -> AuthConfig {
    AuthConfig::default().argon2(Argon2Params::new(1024, 1, 1).expect("valid parameters"))
}

async fn connect(
    db: &TestDb,
    outbox: &Outbox,
    config: AuthConfig,
    in_database: bool,
) -> Result<TromBase, Error> {
    let mut builder =
        TromBase::builder().database_url(db.url()).email_sender(outbox.clone()).auth_config(config);
    if in_database {
        builder = builder.rate_limits_in_database();
    }
    let trom = builder.connect().await?;
    trom.create_tables().await?;
    Ok(trom)
}

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> AuthErrorCode {
    match result {
        Err(Error::Auth(e)) => e.code,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

/// 40 wrong passwords, then the right one: guessing stops at the limit, and
/// the right password does not get through while it holds; the answer
/// carries when to retry. Unknown emails are limited alike.
#[tokio::test]
async fn password_guessing_is_stopped_at_the_limit() -> TestResult {
    for in_database in [false, true] {
        let db = TestDb::new().await;
        let outbox = Outbox::default();
        let trom = connect(&db, &outbox, cheap(), in_database).await?;
        trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
        let mut codes = Vec::new();
        for _ in 0..40 {
            codes.push(code(trom.auth.login_with_username_password(EMAIL, "wrong guess!").await));
        }
        let failures = codes.iter().filter(|c| **c == AuthErrorCode::InvalidCredentials).count();
        assert_eq!(failures, 10, "the default allows 10 failures per 15 minutes: {codes:?}");
        assert!(codes[10..].iter().all(|c| *c == AuthErrorCode::RateLimited), "{codes:?}");
        match trom.auth.login_with_username_password(EMAIL, PASSWORD).await {
            Err(Error::Auth(e)) => {
                assert_eq!(e.code, AuthErrorCode::RateLimited);
                let after = e.retry_after.expect("a retry hint");
                assert!(
                    after > Duration::from_secs(60) && after <= Duration::from_secs(15 * 60),
                    "{after:?}"
                );
            }
            other => panic!("the right password got through the lockout: {other:?}"),
        }
        // Another account is not locked by this one's failures...
        trom.auth.register_with_username_password("bob@example.com", PASSWORD).await?;
        trom.auth.login_with_username_password("bob@example.com", PASSWORD).await?;
        // ...and an unknown email is limited exactly like a known one.
        for _ in 0..10 {
            let result = trom.auth.login_with_username_password("nobody@example.com", "wrong guess!").await;
            assert_eq!(code(result), AuthErrorCode::InvalidCredentials);
        }
        let result = trom.auth.login_with_username_password("nobody@example.com", "wrong guess!").await;
        assert_eq!(code(result), AuthErrorCode::RateLimited);
    }
    Ok(())
}

/// One client guessing across many accounts is limited per client.
#[tokio::test]
async fn one_client_guessing_many_accounts_is_limited() -> TestResult {
    let db = TestDb::new().await;
    let limits = RateLimits::default().login_failures_per_client(Limit::per_minutes(20, 15));
    let trom = connect(&db, &Outbox::default(), cheap().rate_limits(limits), false).await?;
    let attacker = trom.auth.with_client("203.0.113.9");
    let mut limited_at = None;
    for i in 0..30 {
        let result =
            attacker.login_with_username_password(&format!("user{i}@example.com"), "guess guess").await;
        if code(result) == AuthErrorCode::RateLimited {
            limited_at = Some(i);
            break;
        }
    }
    assert_eq!(limited_at, Some(20));
    // Another client, and the same emails without a client key, are not affected.
    let other = trom.auth.with_client("198.51.100.7");
    let result = other.login_with_username_password("user0@example.com", "guess guess").await;
    assert_eq!(code(result), AuthErrorCode::InvalidCredentials);
    Ok(())
}

/// 200 reset requests for one address: at most the cap of emails goes out,
/// every request is still "accepted", and only the newest token works.
#[tokio::test]
async fn a_reset_flood_sends_a_few_emails_and_leaves_one_live_token() -> TestResult {
    let db = TestDb::new().await;
    let outbox = Outbox::default();
    let trom = connect(&db, &outbox, cheap(), false).await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let welcome = outbox.emails().len();
    let mut tokens = Vec::new();
    for _ in 0..200 {
        assert!(trom.auth.request_password_reset(EMAIL).await?.accepted);
        if outbox.emails().len() > welcome + tokens.len() {
            tokens.push(outbox.last_token().expect("a token"));
        }
    }
    assert_eq!(tokens.len(), 3, "3 reset emails per address per hour by default");
    let live: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FROM trom_auth_password_resets WHERE used_at IS NULL", &[])
        .await?
        .try_get(0)?;
    assert_eq!(live, 1, "a new token retires the older ones");
    for older in &tokens[..2] {
        assert_eq!(
            code(trom.auth.validate_password_reset(older, "new passphrase").await),
            AuthErrorCode::InvalidResetToken
        );
    }
    trom.auth.validate_password_reset(&tokens[2], "new passphrase").await?;
    // From one client, the requests themselves are limited (any address).
    let client = trom.auth.with_client("203.0.113.9");
    let mut answers = Vec::new();
    for i in 0..25 {
        answers.push(
            client.request_password_reset(&format!("someone{i}@example.com")).await.map(|r| r.accepted),
        );
    }
    assert!(answers[..20].iter().all(|a| matches!(a, Ok(true))));
    assert!(answers[20..]
        .iter()
        .all(|a| matches!(a, Err(Error::Auth(e)) if e.code == AuthErrorCode::RateLimited)));
    Ok(())
}

/// Lookalike spellings of one address are one account, or refused.
#[tokio::test]
async fn lookalike_addresses_are_one_account_or_refused() -> TestResult {
    let db = TestDb::new().await;
    let trom = connect(&db, &Outbox::default(), cheap(), false).await?;
    trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    for same in ["ａｌｉｃｅ@example.com", "ALICE@EXAMPLE.COM", "alice@ｅｘａｍｐｌｅ.ｃｏｍ"]
    {
        let result = trom.auth.register_with_username_password(same, PASSWORD).await;
        assert_eq!(code(result), AuthErrorCode::UsernameTaken, "{same}");
        trom.auth.login_with_username_password(same, PASSWORD).await?;
    }
    // Cyrillic "а" in a Latin local part: refused, not a second account.
    let result = trom.auth.register_with_username_password("\u{430}lice@example.com", PASSWORD).await;
    assert_eq!(code(result), AuthErrorCode::InvalidAuthInput);
    // The Unicode and the punycode form of one domain: one account.
    trom.auth.register_with_username_password("jürgen@bücher.de", PASSWORD).await?;
    let result = trom.auth.register_with_username_password("jürgen@xn--bcher-kva.de", PASSWORD).await;
    assert_eq!(code(result), AuthErrorCode::UsernameTaken);
    let users: i64 =
        db.client().await.query_one("SELECT count(*) FROM trom_auth_users", &[]).await?.try_get(0)?;
    assert_eq!(users, 2);
    Ok(())
}

/// A hash made with older parameters is replaced by one of the configured
/// parameters at the next login, which still works afterwards.
#[tokio::test]
async fn logins_upgrade_hashes_of_older_parameters() -> TestResult {
    let db = TestDb::new().await;
    let outbox = Outbox::default();
    let old = connect(&db, &outbox, cheap(), false).await?;
    old.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let stored = || async {
        let row =
            db.client().await.query_one("SELECT password_hash FROM trom_auth_users", &[]).await.unwrap();
        row.get::<_, String>(0)
    };
    let before = stored().await;
    assert!(before.contains("m=1024,t=1,p=1"), "{before}");
    let stronger = AuthConfig::default().argon2(Argon2Params::new(2048, 2, 1)?);
    let new = connect(&db, &outbox, stronger, false).await?;
    new.auth.login_with_username_password(EMAIL, PASSWORD).await?;
    let after = stored().await;
    assert!(after.contains("m=2048,t=2,p=1"), "{after}");
    new.auth.login_with_username_password(EMAIL, PASSWORD).await?;
    assert_eq!(stored().await, after, "a hash of the configured parameters is kept");
    Ok(())
}

/// Two instances of an app on one database share the database limiter: the
/// failures counted by one stop guessing through the other.
#[tokio::test]
async fn the_database_limiter_holds_across_two_instances() -> TestResult {
    let db = TestDb::new().await;
    let outbox = Outbox::default();
    let one = connect(&db, &outbox, cheap(), true).await?;
    let two = connect(&db, &outbox, cheap(), true).await?;
    one.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    for i in 0..10 {
        let instance = if i % 2 == 0 { &one } else { &two };
        assert_eq!(
            code(instance.auth.login_with_username_password(EMAIL, "wrong guess!").await),
            AuthErrorCode::InvalidCredentials
        );
    }
    assert_eq!(
        code(one.auth.login_with_username_password(EMAIL, PASSWORD).await),
        AuthErrorCode::RateLimited
    );
    assert_eq!(
        code(two.auth.login_with_username_password(EMAIL, PASSWORD).await),
        AuthErrorCode::RateLimited
    );
    // The table holds hashes of the keys, never the emails.
    let plain: i64 = db
        .client()
        .await
        .query_one("SELECT count(*) FILTER (WHERE key_hash LIKE '%@%') FROM trom_auth_rate_limits", &[])
        .await?
        .try_get(0)?;
    assert_eq!(plain, 0);
    // In-process limiters do not share: the contrast.
    let db = TestDb::new().await;
    let one = connect(&db, &outbox, cheap(), false).await?;
    let two = connect(&db, &outbox, cheap(), false).await?;
    one.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    for _ in 0..10 {
        let _ = one.auth.login_with_username_password(EMAIL, "wrong guess!").await;
    }
    assert_eq!(
        code(one.auth.login_with_username_password(EMAIL, PASSWORD).await),
        AuthErrorCode::RateLimited
    );
    two.auth.login_with_username_password(EMAIL, PASSWORD).await?;
    Ok(())
}

/// Changing the password needs the current one, ends the other sessions
/// and keeps this one; the old password stops working.
#[tokio::test]
async fn change_password_ends_the_other_sessions() -> TestResult {
    let db = TestDb::new().await;
    let trom = connect(&db, &Outbox::default(), cheap(), false).await?;
    let first = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?.session;
    let second = trom.auth.login_with_username_password(EMAIL, PASSWORD).await?.session;
    let listed = trom.auth.sessions(&second).await?;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|s| s.current).map(|s| s.id).collect::<Vec<_>>(), vec![second.id]);

    let wrong = trom.auth.change_password(&second, "not the password", "a new passphrase").await;
    assert_eq!(code(wrong), AuthErrorCode::InvalidCredentials);
    let short = trom.auth.change_password(&second, PASSWORD, "short").await;
    assert_eq!(code(short), AuthErrorCode::InvalidAuthInput);
    trom.auth.change_password(&second, PASSWORD, "a new passphrase").await?;

    let token = |s: &trombase::Session| s.token.clone().expect("a token");
    assert!(trom.auth.get_session_by_token(&token(&first)).await?.is_none(), "the other session ended");
    assert!(trom.auth.get_session_by_token(&token(&second)).await?.is_some(), "this one is kept");
    assert_eq!(
        code(trom.auth.login_with_username_password(EMAIL, PASSWORD).await),
        AuthErrorCode::InvalidCredentials
    );
    trom.auth.login_with_username_password(EMAIL, "a new passphrase").await?;

    // Sign out everywhere: every session ends, this one too.
    assert_eq!(trom.auth.end_all_sessions(&second).await?, 2);
    assert!(trom.auth.get_session_by_token(&token(&second)).await?.is_none());
    assert_eq!(code(trom.auth.sessions(&second).await), AuthErrorCode::SessionNotFound);
    Ok(())
}

/// Verification, opt-in and required: login waits for the email to be
/// verified; a token works once; a new one retires the older.
#[tokio::test]
async fn required_email_verification_gates_login() -> TestResult {
    let db = TestDb::new().await;
    let outbox = Outbox::default();
    let config = cheap().email_verification(EmailVerification::Required);
    let trom = connect(&db, &outbox, config, false).await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let first = outbox.last_token().expect("a verification email");
    assert_eq!(
        code(trom.auth.login_with_username_password(EMAIL, PASSWORD).await),
        AuthErrorCode::EmailNotVerified
    );
    assert_eq!(
        code(trom.auth.login_with_username_password(EMAIL, "wrong password!").await),
        AuthErrorCode::InvalidCredentials,
        "only the right password learns that the email is unverified"
    );
    assert!(!trom.auth.email_verified(&signed_in.session).await?);

    trom.auth.request_email_verification(&signed_in.session).await?;
    let second = outbox.last_token().expect("another verification email");
    assert_eq!(
        code(trom.auth.verify_email(&first).await),
        AuthErrorCode::InvalidVerificationToken,
        "retired"
    );
    let user = trom.auth.verify_email(&second).await?;
    assert_eq!(user.email, EMAIL);
    assert_eq!(code(trom.auth.verify_email(&second).await), AuthErrorCode::InvalidVerificationToken, "used");
    assert!(trom.auth.email_verified(&signed_in.session).await?);
    trom.auth.login_with_username_password(EMAIL, PASSWORD).await?;
    assert_eq!(code(trom.auth.verify_email("garbage").await), AuthErrorCode::InvalidVerificationToken);
    Ok(())
}
