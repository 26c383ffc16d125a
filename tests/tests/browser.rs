#![allow(missing_docs)] // test fixtures, not API
//! The reference app's web UI driven in headless Chromium (Debian's
//! chromium and chromium-driver; `scripts/test.sh` installs them): register,
//! write, edit and delete notes, log out and in again; a second user sees
//! none of the first user's notes. A screenshot is left under
//! `target/e2e/` for a person to look at.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use trombase_tests::TestDb;

/// A chromedriver process on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Option<Driver> {
        if std::env::var("TROMBASE_SKIP_BROWSER").as_deref() == Ok("1") {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not found: run scripts/test.sh (it installs chromium and chromium-driver) or set TROMBASE_SKIP_BROWSER=1");
        Some(Driver { child, port })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver) -> Client {
    let profile = std::env::temp_dir().join(format!("trombase-chromium-{}", rand::random::<u64>()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1000,1200", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() > deadline => panic!("cannot start headless chromium: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Waits until `check` holds (the UI updates asynchronously).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

async fn note_titles(client: &Client) -> Vec<String> {
    let mut titles = Vec::new();
    for element in client.find_all(Locator::Css(".note .note-title")).await.unwrap_or_default() {
        titles.push(element.text().await.unwrap_or_default());
    }
    titles
}

async fn visible(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn sign_in(client: &Client, button: &str, email: &str) {
    fill(client, "#email", email).await;
    fill(client, "#password", "correct horse").await;
    click(client, button).await;
    until("signing in", || async { visible(client, "#signed-in").await }).await;
    let who = client.find(Locator::Css("#who")).await.unwrap().text().await.unwrap();
    assert_eq!(who, email);
}

async fn add_note(client: &Client, title: &str, content: &str) {
    let before = note_titles(client).await.len();
    fill(client, "#note-title", title).await;
    fill(client, "#note-content", content).await;
    click(client, "#create-note").await;
    until("the new note", || async { note_titles(client).await.len() == before + 1 }).await;
}

async fn log_out(client: &Client) {
    click(client, "#logout").await;
    until("signing out", || async { visible(client, "#signed-out").await }).await;
}

#[tokio::test]
async fn the_web_ui_works_in_a_real_browser() {
    let Some(driver) = Driver::start() else {
        eprintln!("browser test skipped: TROMBASE_SKIP_BROWSER=1");
        return;
    };
    let db = TestDb::new().await;
    let trom = notes_app::connect(db.url()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(notes_app::serve(listener, trom, std::future::pending()));

    let client = browser(&driver).await;
    client.goto(&base).await.unwrap();

    // Register, write two notes (newest first), edit one, delete the other.
    sign_in(&client, "#register", "ada@example.com").await;
    add_note(&client, "Groceries", "eggs, milk").await;
    add_note(&client, "Ideas", "a Rust data layer").await;
    assert_eq!(note_titles(&client).await, ["Ideas", "Groceries"]);
    let author = client.find(Locator::Css(".note .meta")).await.unwrap().text().await.unwrap();
    assert!(author.starts_with("by ada@example.com"), "{author}");

    click(&client, ".note[data-id] .edit").await; // the newest: Ideas
    fill(&client, ".note .edit-title", "Big ideas").await;
    click(&client, ".note .save").await;
    until("the edit", || async { note_titles(&client).await == ["Big ideas", "Groceries"] }).await;

    let groceries = client.find_all(Locator::Css(".note .delete")).await.unwrap();
    groceries[1].click().await.unwrap();
    until("the delete", || async { note_titles(&client).await == ["Big ideas"] }).await;

    // Log out, log back in: the remaining note is there.
    log_out(&client).await;
    sign_in(&client, "#login", "ada@example.com").await;
    until("ada's notes", || async { note_titles(&client).await == ["Big ideas"] }).await;
    screenshot(&client, "notes_app.png").await;

    // A second user sees none of them.
    log_out(&client).await;
    sign_in(&client, "#register", "bob@example.com").await;
    until("bob's empty list", || async { visible(&client, "#empty").await }).await;
    assert!(note_titles(&client).await.is_empty());

    // A failing request shows a readable error.
    log_out(&client).await;
    fill(&client, "#email", "ada@example.com").await;
    fill(&client, "#password", "wrong horse").await;
    click(&client, "#login").await;
    until("the error message", || async { visible(&client, "#error").await }).await;
    let message = client.find(Locator::Css("#error")).await.unwrap().text().await.unwrap();
    assert!(!message.is_empty() && !message.contains("500"), "{message}");
    screenshot(&client, "notes_app_error.png").await;

    client.close().await.unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}
