//! What the fuzz targets share: a schema like an application's, and the
//! invariants rendered SQL must keep.

use trombase::prelude::*;
use trombase::query::SelectNode;
use trombase::schema::Schema;
use trombase::EntityHandle;

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// A user.
#[derive(Entity, Debug, Clone)]
#[entity(table = "users")]
#[relation(notes = resolves_to_many(Note, user_id -> id))]
#[permit(all = anyone)]
pub struct User {
    /// Id.
    pub id: DbId,
    /// Email.
    #[field(unique)]
    pub email: String,
    /// Age.
    pub age: Option<i16>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// A note.
#[derive(Entity, Debug, Clone)]
#[entity(table = "notes", casing = "camel")]
#[relation(author = points_to(User, user_id -> id), tags = resolves_to_many(Tag, note_id -> id))]
#[permit(all = anyone)]
pub struct Note {
    /// Id.
    pub id: DbId,
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Stars.
    pub stars: i32,
    /// Views.
    pub view_count: i64,
    /// Score.
    pub score: f64,
    /// Published.
    pub published: bool,
    /// Extra.
    pub extra: serde_json::Value,
    /// Owner.
    #[field(immutable)]
    pub user_id: DbId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// A tag.
#[derive(Entity, Debug, Clone)]
#[entity(table = "tags")]
#[relation(note = points_to(Note, note_id -> id))]
#[permit(all = anyone)]
pub struct Tag {
    /// Id.
    pub id: DbId,
    /// Note.
    pub note_id: DbId,
    /// Label.
    pub label: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// The schema the targets parse against.
pub fn schema() -> Schema {
    Schema::from_handles(vec![
        EntityHandle::of::<User>(),
        EntityHandle::of::<Note>(),
        EntityHandle::of::<Tag>(),
    ])
    .expect("a valid schema")
}

/// Gives every node a row filter on its id (not null), as a read
/// permitter's filter would, so rendering takes the fenced path.
pub fn add_row_filters(node: &mut SelectNode) {
    let id = node.entity.meta().fields.iter().find(|f| f.name == "id").expect("every entity has an id");
    node.row_filters.push(trombase::query::Predicate::NotNull(id));
    for embed in &mut node.embeds {
        add_row_filters(&mut embed.node);
    }
}

/// Every name that may appear quoted in SQL rendered for `node`: the
/// schema's tables, columns, logical names and relation names, and the
/// library's own aggregate column names (client aliases never reach SQL).
fn allowed_names(schema: &Schema, node: &SelectNode, out: &mut Vec<String>) {
    for entity in schema.entities() {
        out.push(entity.table.to_owned());
        for field in entity.fields {
            out.push(field.column.to_owned());
            out.push(field.name.to_owned());
        }
        for relation in entity.relations {
            out.push(relation.name.to_owned());
        }
    }
    out.push("_".to_owned());
    // Aggregate columns are named by the library, never by the client.
    for n in node.walk() {
        out.extend((0..n.aggregates.len()).map(trombase::render::aggregate_column));
    }
}

/// The quoted identifiers of `sql`, unescaped.
pub fn quoted_identifiers(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut in_literal = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_literal = !in_literal,
            '"' if !in_literal => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            name.push('"');
                        }
                        Some('"') | None => break,
                        Some(other) => name.push(other),
                    }
                }
                names.push(name);
            }
            _ => {}
        }
    }
    names
}

/// The largest `$n` placeholder in `sql`.
pub fn max_placeholder(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if end > start {
                max = max.max(sql[start..end].parse().unwrap_or(usize::MAX));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    max
}

/// Checks a rendered select: only schema names are quoted, and the
/// placeholders match the parameters one to one.
pub fn check_rendered(schema: &Schema, node: &SelectNode, sql: &str, params: usize) {
    let mut allowed = Vec::new();
    allowed_names(schema, node, &mut allowed);
    for name in quoted_identifiers(sql) {
        assert!(allowed.contains(&name), "identifier {name:?} is not from the schema in {sql}");
    }
    assert_eq!(max_placeholder(sql), params, "placeholders and parameters differ in {sql}");
    for n in 1..=params {
        assert!(sql.contains(&format!("${n}")), "${n} unused in {sql}");
    }
}
