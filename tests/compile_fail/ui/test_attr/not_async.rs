use trombase::testing::TestDb;

#[trombase::test]
fn checks_something(db: TestDb) {
    let _ = db;
}

fn main() {}
