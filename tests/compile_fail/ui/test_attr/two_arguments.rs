use trombase::testing::{TestApp, TestDb};

#[trombase::test]
async fn checks_something(db: TestDb, app: TestApp) {
    let _ = (db, app);
}

fn main() {}
