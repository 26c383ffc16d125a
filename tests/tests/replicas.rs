#![allow(missing_docs)] // test fixtures, not API
//! Read replicas, against a real primary and streaming replica of the
//! test's own (initdb, then `pg_basebackup -R`): reads answered by the
//! replica, writes by the primary, read-your-writes for the writing user,
//! and fallback to the primary when the replica lags or is stopped.
//!
//! Which server answered is proven by pausing the replica's WAL replay: a
//! row written after the pause exists only on the primary.

use std::time::{Duration, Instant};

use trombase::prelude::*;
use trombase::{SessionDb, TromBase};
use trombase_tests::{session_for, Cluster};

/// A board of posts everyone signed in may read; anyone may post.
#[derive(Entity, Debug, Clone)]
#[entity(table = "posts")]
#[permit(read = anyone, create = anyone)]
pub struct Post {
    pub id: DbId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

async fn titles(db: &SessionDb) -> Vec<String> {
    let mut titles: Vec<String> =
        db.select(Post::query()).await.unwrap().into_iter().map(|p| p.title).collect();
    titles.sort();
    titles
}

async fn post(db: &SessionDb, title: &str) {
    db.do_mutations([Mutation::insert(NewPost { id: DbId::new(), title: title.into() })]).await.unwrap();
}

/// Waits until `check` holds (the replica replays asynchronously).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sql(url: &str, statement: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(statement).await.unwrap();
}

/// Pauses the replica's WAL replay, and waits until it has stopped.
async fn pause_replay(url: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute("SELECT pg_wal_replay_pause()").await.unwrap();
    eventually("the replay pauses", async || {
        let row = client.query_one("SELECT pg_get_wal_replay_pause_state()", &[]).await.unwrap();
        row.get::<_, String>(0) == "paused"
    })
    .await;
}

/// The titles a read returns, and whether a replica answered it. A
/// replica within the lag bound may not have replayed even the table yet
/// (a reader without writes of their own may read it stale): that read
/// counts as no titles.
async fn titles_from(trom: &TromBase, db: &SessionDb) -> (Vec<String>, bool) {
    let before = trom.replica_reads();
    let mut titles: Vec<String> = match db.select(Post::query()).await {
        Ok(posts) => posts.into_iter().map(|p| p.title).collect(),
        Err(_) => Vec::new(),
    };
    titles.sort();
    (titles, trom.replica_reads() > before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_unless_it_lacks_the_readers_writes_or_is_gone() {
    let primary = Cluster::create();
    let replica = primary.replica();
    let connect = |max_lag: Duration| {
        TromBase::builder()
            .database_url(primary.url())
            .read_replica(replica.url())
            .replica_max_lag(max_lag)
            .entity::<Post>()
            .connect()
    };
    let trom = connect(Duration::from_secs(60)).await.unwrap();
    // Tables are created on the primary (the replica is read-only).
    trom.create_tables().await.unwrap();
    let (ann, bob) =
        (trom.db.with_session(&session_for(DbId::new())), trom.db.with_session(&session_for(DbId::new())));

    // Writes go to the primary; the writer reads its own write at once
    // (from the primary until a replica has replayed it).
    post(&ann, "first").await;
    assert_eq!(titles(&ann).await, ["first"], "read-your-writes");
    eventually("the replica answers with the first post", async || {
        titles_from(&trom, &bob).await == (vec!["first".to_owned()], true)
    })
    .await;

    // With replay paused, a post exists only on the primary.
    pause_replay(&replica.url()).await;
    post(&ann, "second").await;
    assert_eq!(
        titles_from(&trom, &ann).await,
        (vec!["first".into(), "second".into()], false),
        "the writer: primary"
    );
    assert_eq!(
        titles_from(&trom, &bob).await,
        (vec!["first".into()], true),
        "another user: the replica, without the post"
    );
    let primary_only = titles_from(&trom, &bob.on_primary()).await;
    assert_eq!(
        primary_only,
        (vec!["first".into(), "second".into()], false),
        "a read that asks for the primary"
    );

    // A replica further behind than the lag bound is left out.
    let strict = connect(Duration::from_millis(200)).await.unwrap();
    let carl = strict.db.with_session(&session_for(DbId::new()));
    eventually("a lagging replica is left out", async || {
        titles_from(&strict, &carl).await == (vec!["first".to_owned(), "second".to_owned()], false)
    })
    .await;
    assert_eq!(
        titles_from(&trom, &bob).await,
        (vec!["first".into()], true),
        "within its bound, still the replica"
    );

    sql(&replica.url(), "SELECT pg_wal_replay_resume()").await;
    eventually("the replica catches up", async || {
        titles_from(&trom, &bob).await == (vec!["first".to_owned(), "second".to_owned()], true)
    })
    .await;

    // A stopped replica: reads go on, from the primary.
    replica.stop();
    for _ in 0..5 {
        assert_eq!(titles(&bob).await, ["first", "second"]);
    }
    let (titles_now, from_replica) = titles_from(&trom, &bob).await;
    assert_eq!((titles_now, from_replica), (vec!["first".into(), "second".into()], false));
    post(&bob, "third").await;
    assert_eq!(titles(&bob).await, ["first", "second", "third"]);
}
