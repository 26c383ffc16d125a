//! Bootstrap DDL for a [`Schema`].

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{EntityMeta, FieldMeta, Managed, Schema};
use crate::render::quote_ident;

/// Tables first (without foreign keys, so their order does not matter and
/// cycles are fine), then each foreign key once, then the indexes.
pub(super) fn render(schema: &Schema) -> Vec<String> {
    let mut statements: Vec<String> = schema.entities().iter().map(|e| create_table(e)).collect();
    for fk in foreign_keys(schema) {
        statements.push(add_foreign_key(&fk));
        statements.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
            quote_ident(&format!("{}_{}_idx", fk.table, fk.column)),
            quote_ident(fk.table),
            quote_ident(fk.column)
        ));
    }
    for entity in schema.entities() {
        for index in entity.indexes {
            let columns: Vec<&str> = index.iter().filter_map(|f| entity.field(f)).map(|f| f.column).collect();
            statements.push(format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                quote_ident(&format!("{}_{}_idx", entity.table, columns.join("_"))),
                quote_ident(entity.table),
                columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    statements
}

fn create_table(entity: &EntityMeta) -> String {
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {} (", quote_ident(entity.table));
    for (i, field) in entity.fields.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        column(&mut sql, field);
    }
    sql.push(')');
    sql
}

fn column(sql: &mut String, field: &FieldMeta) {
    let _ = write!(sql, "{} {}", quote_ident(field.column), field.kind.sql_type());
    if field.managed == Some(Managed::Id) {
        sql.push_str(" PRIMARY KEY");
    } else {
        if !field.nullable {
            sql.push_str(" NOT NULL");
        }
        if field.unique {
            sql.push_str(" UNIQUE");
        }
    }
}

/// One foreign key, in physical names.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    table: &'static str,
    column: &'static str,
    ref_table: &'static str,
    ref_column: &'static str,
}

/// Every foreign key the relations imply, each once (a points-to and its
/// inverse resolves-to-many describe the same key).
fn foreign_keys(schema: &Schema) -> BTreeSet<ForeignKey> {
    let mut keys = BTreeSet::new();
    for entity in schema.entities() {
        for relation in entity.relations {
            for link in super::links::links(schema, entity, relation).into_iter().flatten() {
                let (Some(fk), Some(key)) = (link.from.field(link.field), link.to.field(link.key)) else {
                    continue;
                };
                keys.insert(ForeignKey {
                    table: link.from.table,
                    column: fk.column,
                    ref_table: link.to.table,
                    ref_column: key.column,
                });
            }
        }
    }
    keys
}

/// `ADD CONSTRAINT` has no `IF NOT EXISTS`; an existing constraint of the
/// same name is the one we made before, so that error is swallowed.
fn add_foreign_key(fk: &ForeignKey) -> String {
    format!(
        "DO $trombase$ BEGIN ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $trombase$",
        quote_ident(fk.table),
        quote_ident(&format!("{}_{}_fkey", fk.table, fk.column)),
        quote_ident(fk.column),
        quote_ident(fk.ref_table),
        quote_ident(fk.ref_column),
    )
}
