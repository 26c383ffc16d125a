#![allow(missing_docs)] // test fixtures, not API
//! A server that refuses to create the test database gets a panic naming
//! DATABASE_URL and the missing privilege. On its own in this binary: it
//! points DATABASE_URL, process-wide, at a role without CREATEDB.

use trombase::testing::{server_url, TestDb};

/// `url` (a `postgres://` URL) as `user` with `password`.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("DATABASE_URL is a postgres:// URL");
    let host = match rest.split_once('/') {
        Some((authority, path)) => format!("{}/{path}", authority.rsplit('@').next().unwrap_or(authority)),
        None => rest.rsplit('@').next().unwrap_or(rest).to_owned(),
    };
    format!("{scheme}://{user}:{password}@{host}")
}

#[tokio::test]
async fn a_role_without_createdb_is_told_what_it_lacks() {
    let server = server_url();
    let (admin, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let role = format!("trombase_nocreatedb_{:016x}", rand::random::<u64>());
    admin.batch_execute(&format!("CREATE ROLE {role} LOGIN NOCREATEDB PASSWORD 'not-secret'")).await.unwrap();

    std::env::set_var("DATABASE_URL", as_user(&server, &role, "not-secret"));
    let outcome = tokio::spawn(TestDb::new()).await;
    std::env::set_var("DATABASE_URL", &server);
    admin.batch_execute(&format!("DROP ROLE {role}")).await.unwrap();

    let payload = outcome.expect_err("the server refused").into_panic();
    let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(!message.contains("not-secret"), "the password is hidden: {message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(message.contains(&format!("the role `{role}` needs the CREATEDB privilege")), "{message}");
    assert!(message.contains("permission denied to create database"), "{message}");
}
