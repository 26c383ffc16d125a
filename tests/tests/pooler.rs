#![allow(missing_docs)] // test fixtures, not API
#![allow(non_snake_case)] // the scale reads as constants
//! The reference app under concurrent load (60 clients of 10 users here; the
//! full 100 clients of 20 users in BENCHMARKS.md), the way it runs behind
//! PgBouncer in transaction mode (the second run of `scripts/test.sh`;
//! directly otherwise): every select answered, each client seeing only its
//! own rows, on no more server connections than the pool allows.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::Client;
use serde_json::{json, Value};
use trombase::DbId;
use trombase_tests::TestDb;

/// PgBouncer's default `default_pool_size`, and more than the library's
/// own pool (16): the server connections one database may get.
const SERVER_CONNECTIONS: i64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_each_see_only_their_own_rows() {
    // TROMBASE_POOLER_TEST_FULL=1: the full figure (20 users, 100 clients,
    // 2,000 selects), as BENCHMARKS.md reports it.
    let full = std::env::var("TROMBASE_POOLER_TEST_FULL").is_ok_and(|v| v == "1");
    let (USERS, CLIENTS, SELECTS_PER_CLIENT) = if full { (20, 100, 20) } else { (10, 60, 5) };
    let db = TestDb::new().await;
    let trom = notes_app::connect(db.url()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(notes_app::serve(listener, trom, async {
        let _ = stopped.await;
    }));
    let http = Client::new();

    // 20 users, three notes each.
    let mut users = Vec::new();
    for u in 0..USERS {
        let body = json!({"email": format!("user{u}@example.com"), "password": "correct horse"});
        let signed: Value = http
            .post(format!("{base}/api/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (token, id) = (
            signed["session"]["token"].as_str().unwrap().to_owned(),
            signed["user"]["id"].as_str().unwrap().to_owned(),
        );
        let notes: Vec<Value> = (0..3)
            .map(|n| json!({"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": format!("{u}/{n}"), "content": "c", "userId": id}}))
            .collect();
        let status = http
            .post(format!("{base}/api/db/mutations"))
            .header("x-session-token", &token)
            .json(&notes)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        users.push((token, id));
    }

    let peak = Arc::new(AtomicUsize::new(0));
    let sampling = {
        let (peak, url, name) = (Arc::clone(&peak), db.direct_url().to_owned(), db.name().to_owned());
        tokio::spawn(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            loop {
                let row = client
                    .query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", &[&name])
                    .await
                    .unwrap();
                peak.fetch_max(row.get::<_, i64>(0) as usize, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };

    let users = Arc::new(users);
    let started = std::time::Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (http, base, users) = (http.clone(), base.clone(), Arc::clone(&users));
            tokio::spawn(async move {
                let (token, id) = &users[c % USERS];
                for _ in 0..SELECTS_PER_CLIENT {
                    let response = http
                        .get(format!(
                            "{base}/api/db/select?action%5Btable%5D=notes&action%5Bwith%5D%5Bauthor%5D=true"
                        ))
                        .header("x-session-token", token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200, "client {c}");
                    let rows: Vec<Value> = response.json().await.unwrap();
                    assert_eq!(rows.len(), 3, "client {c}: {rows:?}");
                    assert!(
                        rows.iter().all(|r| r["userId"] == json!(id) && r["author"]["id"] == json!(id)),
                        "client {c}: {rows:?}"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let elapsed = started.elapsed();
    sampling.abort();
    let peak = peak.load(Ordering::SeqCst) as i64;
    assert!(peak <= SERVER_CONNECTIONS, "{peak} server connections for one database");
    eprintln!(
        "{} selects from {CLIENTS} clients of {USERS} users in {:?}; peak server connections {peak}; through a pooler: {}",
        CLIENTS * SELECTS_PER_CLIENT,
        elapsed,
        db.through_pooler()
    );
    drop(stop);
}
