#![allow(missing_docs)] // test fixtures, not API
//! The reference app outside the browser: its routes over a real server, and
//! the creation of its own database on a fresh server.

use tokio_postgres::NoTls;
use trombase_tests::{server_url, with_database, TestDb};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn favicon_is_not_a_404() -> TestResult {
    let db = TestDb::new().await;
    let trom = notes_app::connect(db.url()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(notes_app::serve(listener, trom, std::future::pending()));

    let response = reqwest::get(format!("{base}/favicon.ico")).await?;
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
    // The page names an empty icon, so a browser does not ask at all.
    let page = reqwest::get(format!("{base}/")).await?.text().await?;
    assert!(page.contains(r#"<link rel="icon" href="data:,">"#), "the page names no icon");
    // Other unknown paths still answer 404.
    assert_eq!(reqwest::get(format!("{base}/no-such-page")).await?.status(), reqwest::StatusCode::NOT_FOUND);
    Ok(())
}

async fn admin() -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(&server_url(), NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn database_exists(name: &str) -> Result<bool, tokio_postgres::Error> {
    let row =
        admin().await?.query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name]).await?;
    Ok(row.get::<_, i64>(0) == 1)
}

/// A name that only works quoted: capitals, a space, a double quote.
fn awkward_name() -> (String, String) {
    let suffix = format!("{:016x}", rand::random::<u64>());
    let name = format!("notes_app Test \"{suffix}\"");
    let in_url = format!("notes_app%20Test%20%22{suffix}%22");
    (name, in_url)
}

async fn drop_database(name: &str) -> Result<(), tokio_postgres::Error> {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    admin().await?.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")).await
}

#[tokio::test]
async fn ensure_database_creates_a_missing_database_once() -> TestResult {
    let (name, in_url) = awkward_name();
    let url = with_database(&server_url(), &in_url);
    let checks = async {
        assert!(!database_exists(&name).await?);
        notes_app::ensure_database(&url).await?;
        assert!(database_exists(&name).await?, "{name} was not created");
        // Again: it is there, nothing to do.
        notes_app::ensure_database(&url).await?;
        assert!(database_exists(&name).await?);
        // The app starts on it.
        let trom = notes_app::connect(&url).await?;
        drop(trom);
        Ok::<_, Box<dyn std::error::Error>>(())
    }
    .await;
    drop_database(&name).await?;
    checks
}

#[tokio::test]
async fn ensure_database_names_the_database_it_may_not_create() -> TestResult {
    // A role that may log in but not create databases.
    let role = format!("notes_app_no_createdb_{:016x}", rand::random::<u64>());
    let admin = admin().await?;
    admin.batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN NOCREATEDB")).await?;
    let (name, in_url) = awkward_name();
    let url = with_database(&server_url(), &in_url);
    let url = match url.split_once("://") {
        // The same server as that role: `scheme://role@host...`.
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{role}@{host}")
        }
        None => url,
    };
    let outcome = notes_app::ensure_database(&url).await;
    let exists = database_exists(&name).await;
    drop_database(&name).await?;
    admin.batch_execute(&format!("DROP ROLE \"{role}\"")).await?;

    let err = outcome.expect_err("a role without CREATEDB created a database");
    let message = err.to_string();
    assert!(message.contains(&name), "the error does not name the database: {message}");
    assert!(message.contains("cannot be created"), "{message}");
    assert!(!exists?);
    Ok(())
}
