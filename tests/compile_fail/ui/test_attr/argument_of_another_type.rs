#[trombase::test]
async fn checks_something(url: String) {
    let _ = url;
}

fn main() {}
