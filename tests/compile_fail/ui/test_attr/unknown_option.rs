use trombase::testing::TestApp;

#[trombase::test(entity(Note), flavor = "multi_thread")]
async fn checks_something(app: TestApp) {
    let _ = app;
}

fn main() {}
