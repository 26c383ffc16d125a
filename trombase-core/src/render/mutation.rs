//! SQL text of the statements the mutation engine runs. Parameters are
//! always `$n`; names come only from the schema.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{OnceLock, PoisonError, RwLock};

use super::ident::push_quoted_ident;
use crate::schema::{EntityMeta, FieldMeta, Managed};

/// `"a", "b", "c"`: every column of the entity, in field order.
pub(crate) fn column_list(entity: &EntityMeta) -> String {
    let mut sql = String::new();
    for (i, field) in entity.fields.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        push_quoted_ident(&mut sql, field.column);
    }
    sql
}

fn id_column(entity: &EntityMeta) -> &'static str {
    entity.managed(Managed::Id).map_or("id", |f| f.column)
}

/// `INSERT INTO t (every column) VALUES ($1, ...)`.
pub(crate) fn insert(entity: &EntityMeta) -> String {
    insert_from(entity, "VALUES")
}

/// [`insert`], with `RETURNING` every column if `returning`: rendered once
/// per entity and kept for the life of the process (entities are a fixed,
/// compiled-in set), so a one-insert batch renders nothing.
pub(crate) fn insert_once(entity: &'static EntityMeta, returning: bool) -> &'static str {
    type Rendered = RwLock<HashMap<(usize, bool), &'static str>>;
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    let key = (std::ptr::from_ref(entity) as usize, returning);
    let rendered = RENDERED.get_or_init(Rendered::default);
    if let Some(sql) = rendered.read().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return sql;
    }
    let sql = if returning { insert(entity) + &self::returning(entity) } else { insert(entity) };
    let mut rendered = rendered.write().unwrap_or_else(PoisonError::into_inner);
    rendered.entry(key).or_insert_with(|| Box::leak(sql.into_boxed_str()))
}

/// `INSERT INTO t (every column) SELECT v.c0, $2, v.c2 FROM unnest($1, $3)
/// AS v(c0, c2)`: many rows in one statement. `$i` is the `i`-th column:
/// an array of every row's value, or, where `shared[i - 1]`, the one value
/// all rows share (sent once, not once a row).
pub(crate) fn insert_unnest(entity: &EntityMeta, shared: &[bool]) -> String {
    let mut sql = String::from("INSERT INTO ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" (");
    sql.push_str(&column_list(entity));
    sql.push_str(") SELECT ");
    let columns = 0..entity.fields.len();
    let is_shared = |i: usize| shared.get(i).copied().unwrap_or(false);
    for i in columns.clone() {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = if is_shared(i) { write!(sql, "${}", i + 1) } else { write!(sql, "v.c{i}") };
    }
    sql.push_str(" FROM unnest(");
    let arrays: Vec<usize> = columns.filter(|i| !is_shared(*i)).collect();
    for (k, i) in arrays.iter().enumerate() {
        let _ = write!(sql, "{}${}", if k > 0 { ", " } else { "" }, i + 1);
    }
    sql.push_str(") AS v(");
    for (k, i) in arrays.iter().enumerate() {
        let _ = write!(sql, "{}c{i}", if k > 0 { ", " } else { "" });
    }
    sql.push(')');
    sql
}

/// `INSERT INTO t (every column) <source>($1, ..., $n)`.
fn insert_from(entity: &EntityMeta, source: &str) -> String {
    let mut sql = String::from("INSERT INTO ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" (");
    sql.push_str(&column_list(entity));
    sql.push_str(") ");
    sql.push_str(source);
    sql.push_str(" (");
    for i in 1..=entity.fields.len() {
        if i > 1 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${i}"));
    }
    sql.push(')');
    sql
}

/// `SELECT every column FROM t WHERE id = ANY($1) FOR UPDATE`: the current
/// rows of an update or delete, locked, in one statement.
pub(crate) fn select_for_update(entity: &EntityMeta) -> String {
    let mut sql = String::from("SELECT ");
    sql.push_str(&column_list(entity));
    sql.push_str(" FROM ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" WHERE ");
    push_quoted_ident(&mut sql, id_column(entity));
    sql.push_str(" = ANY($1) FOR UPDATE");
    sql
}

/// `SELECT every column FROM t WHERE on = $1 FOR UPDATE`: the row an
/// upsert on `on` finds, locked.
pub(crate) fn select_for_update_on(entity: &EntityMeta, on: &FieldMeta) -> String {
    let mut sql = String::from("SELECT ");
    sql.push_str(&column_list(entity));
    sql.push_str(" FROM ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" WHERE ");
    push_quoted_ident(&mut sql, on.column);
    sql.push_str(" = $1 FOR UPDATE");
    sql
}

/// A lock on one upsert key until the transaction ends (`$1`: the key's
/// text), so that two upserts of one key take turns.
pub(crate) const UPSERT_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// ` RETURNING every column`, in field order (as rows decode).
pub(crate) fn returning(entity: &EntityMeta) -> String {
    format!(" RETURNING {}", column_list(entity))
}

/// `UPDATE t SET a = $1, ..., updated_at = $n WHERE id = $n+1`.
pub(crate) fn update(entity: &EntityMeta, changed: &[&FieldMeta]) -> String {
    let mut sql = String::from("UPDATE ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" SET ");
    let updated_at = entity.managed(Managed::UpdatedAt).map(|f| f.column);
    let columns = changed.iter().map(|f| f.column).chain(updated_at);
    let mut n = 0;
    for (i, column) in columns.enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        n = i + 1;
        push_quoted_ident(&mut sql, column);
        sql.push_str(&format!(" = ${n}"));
    }
    sql.push_str(" WHERE ");
    push_quoted_ident(&mut sql, id_column(entity));
    sql.push_str(&format!(" = ${}", n + 1));
    sql
}

/// `DELETE FROM t WHERE id = ANY($1)`.
pub(crate) fn delete(entity: &EntityMeta) -> String {
    let mut sql = String::from("DELETE FROM ");
    push_quoted_ident(&mut sql, entity.table);
    sql.push_str(" WHERE ");
    push_quoted_ident(&mut sql, id_column(entity));
    sql.push_str(" = ANY($1)");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Casing, FieldKind};

    const fn field(name: &'static str, kind: FieldKind, managed: Option<Managed>) -> FieldMeta {
        FieldMeta::for_tests(name, name, kind, managed)
    }

    static NOTES: EntityMeta = EntityMeta {
        rust_name: "Note",
        name: "notes",
        table: "notes",
        casing: Casing::Camel,
        fields: &[
            field("id", FieldKind::DbId, Some(Managed::Id)),
            field("title", FieldKind::Text, None),
            field("createdAt", FieldKind::Timestamp, Some(Managed::CreatedAt)),
            field("updatedAt", FieldKind::Timestamp, Some(Managed::UpdatedAt)),
        ],
        relations: &[],
        indexes: &[],
    };

    #[test]
    fn renders_each_statement() {
        assert_eq!(
            insert(&NOTES),
            r#"INSERT INTO "notes" ("id", "title", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4)"#
        );
        assert_eq!(
            select_for_update(&NOTES),
            r#"SELECT "id", "title", "createdAt", "updatedAt" FROM "notes" WHERE "id" = ANY($1) FOR UPDATE"#
        );
        assert_eq!(
            update(&NOTES, &[&NOTES.fields[1]]),
            r#"UPDATE "notes" SET "title" = $1, "updatedAt" = $2 WHERE "id" = $3"#
        );
        assert_eq!(delete(&NOTES), r#"DELETE FROM "notes" WHERE "id" = ANY($1)"#);
    }

    #[test]
    fn a_single_row_insert_is_rendered_once_per_entity_and_returning() {
        let (plain, returning) = (insert_once(&NOTES, false), insert_once(&NOTES, true));
        assert_eq!(plain, insert(&NOTES));
        assert_eq!(returning, insert(&NOTES) + &super::returning(&NOTES));
        assert!(std::ptr::eq(plain, insert_once(&NOTES, false)), "kept, not rendered again");
    }

    #[test]
    fn a_multi_row_insert_sends_a_value_all_rows_share_once() {
        assert_eq!(
            insert_unnest(&NOTES, &[false; 4]),
            r#"INSERT INTO "notes" ("id", "title", "createdAt", "updatedAt") SELECT v.c0, v.c1, v.c2, v.c3 FROM unnest($1, $2, $3, $4) AS v(c0, c1, c2, c3)"#
        );
        assert_eq!(
            insert_unnest(&NOTES, &[false, false, true, true]),
            r#"INSERT INTO "notes" ("id", "title", "createdAt", "updatedAt") SELECT v.c0, v.c1, $3, $4 FROM unnest($1, $2) AS v(c0, c1)"#
        );
    }
}
