#![allow(missing_docs)] // test fixtures, not API
//! The reference app's web UI driven in headless Chromium (Debian's
//! chromium and chromium-driver; `scripts/test.sh` installs them): register,
//! write, edit and delete notes, log out and in again; a second user sees
//! none of the first user's notes. Enter in a field submits its form, an
//! error banner goes when the next action starts, delete asks first, every
//! field has a label, and at 390 px wide no screen scrolls sideways.
//! Screenshots are left under `target/e2e/` for a person to look at.

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

/// The WebDriver key code of Enter.
const ENTER: &str = "\u{E007}";

async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// Presses Enter in a field: its form is submitted, no button clicked.
async fn press_enter(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().send_keys(ENTER).await.unwrap();
}

/// How an action is set off: a click on a button, or Enter in a field.
#[derive(Clone, Copy)]
enum Via {
    Click(&'static str),
    Enter(&'static str),
}

async fn submit(client: &Client, via: Via) {
    match via {
        Via::Click(button) => click(client, button).await,
        Via::Enter(field) => press_enter(client, field).await,
    }
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

async fn script_is_true(client: &Client, script: &str) -> bool {
    client.execute(script, vec![]).await.unwrap() == json!(true)
}

/// Nothing on the page is wider than the window (no horizontal scroll).
async fn assert_fits(client: &Client, screen: &str) {
    let fits =
        script_is_true(client, "return document.documentElement.scrollWidth <= window.innerWidth").await;
    let widths = client
        .execute("return [document.documentElement.scrollWidth, window.innerWidth]", vec![])
        .await
        .unwrap();
    assert!(fits, "{screen}: the page scrolls sideways (scroll width, window width: {widths})");
}

/// Every input and textarea on the page has a label (a `<label>` tied to
/// it, or an `aria-label`).
async fn assert_all_fields_labelled(client: &Client, screen: &str) {
    let labelled = script_is_true(
        client,
        "return [...document.querySelectorAll('input, textarea')]
                  .every((e) => e.labels.length > 0 || e.hasAttribute('aria-label'))",
    )
    .await;
    assert!(labelled, "{screen}: a field has no label");
}

/// Each element `css` finds has an id and a `<label for=...>` naming it.
async fn assert_labelled(client: &Client, css: &str) {
    let fields = client.find_all(Locator::Css(css)).await.unwrap();
    assert!(!fields.is_empty(), "no {css}");
    for field in fields {
        let id = field.attr("id").await.unwrap().unwrap_or_else(|| panic!("{css} has no id"));
        let label = client.find(Locator::Css(&format!("label[for=\"{id}\"]"))).await;
        let text = match label {
            Ok(label) => label.text().await.unwrap(),
            Err(e) => panic!("{css} (#{id}) has no label: {e}"),
        };
        assert!(!text.trim().is_empty(), "the label of {css} is empty");
    }
}

/// The text of the open `confirm` dialog, once it is open.
async fn confirmation(client: &Client) -> String {
    until("the confirmation", || async { client.get_alert_text().await.is_ok() }).await;
    client.get_alert_text().await.unwrap()
}

async fn sign_in(client: &Client, via: Via, email: &str) {
    fill(client, "#email", email).await;
    fill(client, "#password", "correct horse").await;
    submit(client, via).await;
    until("signing in", || async { visible(client, "#signed-in").await }).await;
    let who = client.find(Locator::Css("#who")).await.unwrap().text().await.unwrap();
    assert_eq!(who, email);
}

async fn add_note(client: &Client, title: &str, content: &str, via: Via) {
    let before = note_titles(client).await.len();
    fill(client, "#note-content", content).await;
    fill(client, "#note-title", title).await;
    submit(client, via).await;
    until("the new note", || async { note_titles(client).await.len() == before + 1 }).await;
    assert!(!visible(client, "#error").await, "adding {title} left an error");
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
    // The page names its (empty) icon: the browser asks for no /favicon.ico.
    client.find(Locator::Css(r#"link[rel="icon"]"#)).await.unwrap();
    assert_labelled(&client, "#email, #password").await;
    assert_all_fields_labelled(&client, "signed out").await;

    // Enter in the password field logs in: no account yet, so an error.
    fill(&client, "#email", "ada@example.com").await;
    fill(&client, "#password", "correct horse").await;
    press_enter(&client, "#password").await;
    until("the error of a login without an account", || async { visible(&client, "#error").await }).await;

    // Registering (a click) clears that stale error.
    sign_in(&client, Via::Click("#register"), "ada@example.com").await;
    assert!(!visible(&client, "#error").await, "the failed login's error outlived the registration");
    assert_labelled(&client, "#note-title, #note-content").await;
    assert_all_fields_labelled(&client, "signed in").await;

    // Two notes (newest first): one added with the button, one with Enter
    // in the title.
    add_note(&client, "Groceries", "eggs, milk", Via::Click("#create-note")).await;
    add_note(&client, "Ideas", "a Rust data layer", Via::Enter("#note-title")).await;
    assert_eq!(note_titles(&client).await, ["Ideas", "Groceries"]);
    let author = client.find(Locator::Css(".note .meta")).await.unwrap().text().await.unwrap();
    assert!(author.starts_with("by ada@example.com"), "{author}");

    // Enter with an empty title: an error, which the next action clears.
    client.find(Locator::Css("#note-title")).await.unwrap().clear().await.unwrap();
    press_enter(&client, "#note-title").await;
    until("the empty title's error", || async { visible(&client, "#error").await }).await;

    // Edit the newest (Ideas): labelled fields, Enter in the title saves.
    click(&client, ".note[data-id] .edit").await;
    assert!(!visible(&client, "#error").await, "the empty title's error outlived the next action");
    assert_labelled(&client, ".note .edit-title, .note .edit-content").await;
    assert_all_fields_labelled(&client, "editing").await;
    fill(&client, ".note .edit-title", "Big ideas").await;
    press_enter(&client, ".note .edit-title").await;
    until("the edit", || async { note_titles(&client).await == ["Big ideas", "Groceries"] }).await;

    // Delete asks first: dismissed, the note stays (also on the server, as
    // a reload shows); accepted, it goes.
    client.find_all(Locator::Css(".note .delete")).await.unwrap()[1].click().await.unwrap();
    let question = confirmation(&client).await;
    assert!(question.contains("Groceries"), "{question}");
    client.dismiss_alert().await.unwrap();
    client.refresh().await.unwrap();
    until("the kept note after a reload", || async {
        note_titles(&client).await == ["Big ideas", "Groceries"]
    })
    .await;
    client.find_all(Locator::Css(".note .delete")).await.unwrap()[1].click().await.unwrap();
    confirmation(&client).await;
    client.accept_alert().await.unwrap();
    until("the delete", || async { note_titles(&client).await == ["Big ideas"] }).await;

    // Log out, log back in with Enter: the remaining note is there.
    log_out(&client).await;
    sign_in(&client, Via::Enter("#password"), "ada@example.com").await;
    until("ada's notes", || async { note_titles(&client).await == ["Big ideas"] }).await;
    screenshot(&client, "notes_app.png").await;

    // A second user sees none of them.
    log_out(&client).await;
    sign_in(&client, Via::Click("#register"), "bob@example.com").await;
    until("bob's empty list", || async { visible(&client, "#empty").await }).await;
    assert!(note_titles(&client).await.is_empty());

    // A failing request shows a readable error; the next login clears it.
    log_out(&client).await;
    fill(&client, "#email", "ada@example.com").await;
    fill(&client, "#password", "wrong horse").await;
    click(&client, "#login").await;
    until("the error message", || async { visible(&client, "#error").await }).await;
    let message = client.find(Locator::Css("#error")).await.unwrap().text().await.unwrap();
    assert!(!message.is_empty() && !message.contains("500"), "{message}");
    screenshot(&client, "notes_app_error.png").await;
    sign_in(&client, Via::Click("#login"), "ada@example.com").await;
    assert!(!visible(&client, "#error").await, "the failed login's error outlived the next login");

    // A phone-wide window: no screen scrolls sideways, whatever the email
    // and the notes hold.
    client.set_window_size(390, 844).await.unwrap();
    let width = client.execute("return window.innerWidth", vec![]).await.unwrap();
    assert!(width.as_u64().is_some_and(|w| w <= 390), "the window is {width} px wide, not 390");
    log_out(&client).await;
    assert_fits(&client, "signed out").await;
    let long_email = "ada.augusta.king.countess.of.lovelace@analytical-engine.example.com";
    sign_in(&client, Via::Click("#register"), long_email).await;
    assert_fits(&client, "signed in, no notes").await;
    let long_title = format!("A-title-with-no-spaces-{}", "wider-than-any-phone-".repeat(8));
    let long_content = format!("See https://example.com/{} for more.", "a-very-long-path/".repeat(20));
    add_note(&client, &long_title, &long_content, Via::Enter("#note-title")).await;
    assert_fits(&client, "signed in, a long note").await;
    assert!(
        script_is_true(
            &client,
            "return document.getElementById('logout').getBoundingClientRect().right <= window.innerWidth"
        )
        .await,
        "the Log out button is off screen"
    );
    screenshot(&client, "notes_app_narrow.png").await;
    click(&client, ".note[data-id] .edit").await;
    assert_fits(&client, "editing a long note").await;
    assert_all_fields_labelled(&client, "editing a long note").await;

    client.close().await.unwrap();
}

async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}
