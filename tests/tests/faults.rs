#![allow(missing_docs)] // test fixtures, not API
//! Faults: a connection killed mid-batch, an exhausted pool, a statement
//! that runs too long, the server restarted under a running client. Each fails cleanly, changes nothing, and the next
//! request works.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use trombase::prelude::*;
use trombase_tests::{session_for, TestDb};

#[derive(Entity, Debug, Clone)]
#[entity(table = "items")]
#[permit(read = anyone, create = kill_on_request, update = anyone, delete = anyone)]
pub struct Item {
    pub id: DbId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Allows every insert, but one labelled "kill" first has the server
/// terminate the batch's own connection, from another connection.
async fn kill_on_request(_: &Session, sql: &Sql<'_>, op: &Operation<'_, Item>) -> Permit<Item> {
    if let Operation::Create(c) = op {
        if c.row.label == "kill" {
            let pid: i32 = sql.query_opt("SELECT pg_backend_pid()", &[]).await.unwrap().unwrap().get(0);
            let url = trombase_tests::server_url();
            let (killer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            killer.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
        }
    }
    Permit::Allow
}

fn item(label: &str) -> Mutation {
    Mutation::insert(NewItem { id: DbId::new(), label: label.into() })
}

async fn count(db: &TestDb) -> i64 {
    db.client().await.query_one("SELECT count(*) FROM items", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_connection_killed_mid_batch_rolls_back_and_the_pool_recovers() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .max_connections(2)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));

    let err = data.do_mutations([item("one"), item("two"), item("kill"), item("four")]).await.unwrap_err();
    match &err {
        trombase::Error::Database(e) => assert!(e.is_connection_lost(), "{err:?}"),
        other => panic!("expected a database error, got {other:?}"),
    }
    assert!(!err.to_string().contains("terminat"), "no server text in the message: {err}");
    assert_eq!(count(&db).await, 0, "nothing of the batch was applied");
    // The pool drops the dead connection and serves the next requests.
    for _ in 0..3 {
        data.do_mutations([item("after")]).await.unwrap();
    }
    assert_eq!(count(&db).await, 3);
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_exhausted_pool_answers_a_timeout_not_a_hang() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .max_connections(1)
        .wait_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    let held = trom.pool().get().await.unwrap();
    let started = Instant::now();
    let err = data.select(Item::query()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it waits about the configured time");
    assert!(matches!(err, trombase::Error::Busy(_)), "a pool wait that times out is a busy error: {err:?}");
    assert_eq!(err.http_status(), 503);
    assert!(err.retry_after().is_some());
    drop(held);
    assert!(data.select(Item::query()).await.is_ok(), "works again once a connection is free");
}

#[tokio::test]
async fn statement_timeouts_are_enforced_for_json_selects() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .statement_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    data.do_mutations([item("a"), item("b"), item("c")]).await.unwrap();
    // Another connection holds the table: the select waits past its timeout.
    let mut blocker = db.client().await;
    let lock = blocker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let started = Instant::now();
    let err =
        data.select_json(&json!({"table": "items", "where": {"label": {"like": "%"}}})).await.unwrap_err();
    match &err {
        trombase::Error::Database(e) => assert!(e.is_timeout(), "{err:?}"),
        other => panic!("expected a statement timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    lock.rollback().await.unwrap();
    // The connection is fine afterwards.
    assert_eq!(data.select_json(&json!({"table": "items", "limit": 2})).await.unwrap().len(), 2);
}

/// A PostgreSQL server of this test's own (initdb into a temporary
/// directory, on a free port), so it can be stopped and started without
/// touching the server every other test uses.
struct OwnServer {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
}

impl OwnServer {
    fn bin_dir() -> std::path::PathBuf {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/ensure-postgres.sh installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        found.sort();
        found.pop().expect("a PostgreSQL bin directory with pg_ctl")
    }

    /// Runs a server tool, as the `postgres` OS user when we are root
    /// (initdb and postgres refuse to run as root).
    fn run(&self, tool: &str, args: &[&str]) {
        let tool = self.bin.join(tool);
        let is_root =
            Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
        let mut command = if is_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&tool);
            c
        } else {
            Command::new(&tool)
        };
        let output = command.args(args).stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
        assert!(
            output.status.success(),
            "{} failed: {}",
            tool.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn create() -> OwnServer {
        let data = std::env::temp_dir().join(format!("trombase-restart-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&data).unwrap();
        let _ = Command::new("chown").args(["postgres:postgres", data.to_str().unwrap()]).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = OwnServer { bin: OwnServer::bin_dir(), data, port };
        server.run(
            "initdb",
            &["-D", server.data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        server.start();
        server
    }

    fn start(&self) {
        let options = format!("-p {} -k '' -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let log = self.data.join("log");
        self.run(
            "pg_ctl",
            &["-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options, "-w", "start"],
        );
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test]
async fn a_server_restart_fails_requests_cleanly_and_the_client_recovers() {
    let server = OwnServer::create();
    let trom = TromBase::builder()
        .database_url(server.url())
        .entity::<Item>()
        .max_connections(4)
        .wait_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    data.do_mutations([item("before")]).await.unwrap();
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 1);

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = data.select(Item::query()).await.unwrap_err();
        assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
        assert_eq!(err.http_status(), 500);
        assert!(started.elapsed() < Duration::from_secs(10), "fails, does not hang");
        let err = data.do_mutations([item("while down")]).await.unwrap_err();
        assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
    }

    server.start();
    // The same TromBase, no restart of the client: dead connections are replaced.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match data.select(Item::query()).await {
            Ok(rows) => {
                assert_eq!(rows.len(), 1, "only the acknowledged write is there");
                break;
            }
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("did not recover: {e:?}"),
        }
    }
    data.do_mutations([item("after")]).await.unwrap();
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 2);
}
