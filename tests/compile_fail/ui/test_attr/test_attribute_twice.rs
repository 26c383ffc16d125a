use trombase::testing::TestDb;

#[trombase::test]
#[test]
async fn checks_something(db: TestDb) {
    let _ = db;
}

fn main() {}
