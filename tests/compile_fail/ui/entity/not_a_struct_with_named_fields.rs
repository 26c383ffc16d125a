use trombase::prelude::*;

#[derive(Entity)]
pub struct Note(DbId, String);

fn main() {}
