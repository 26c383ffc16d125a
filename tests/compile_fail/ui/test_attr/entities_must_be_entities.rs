use trombase::testing::TestApp;

pub struct Note {
    pub title: String,
}

#[trombase::test(entities(Note))]
async fn checks_something(app: TestApp) {
    let _ = app;
}

fn main() {}
