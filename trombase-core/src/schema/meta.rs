//! Static schema metadata: what `#[derive(Entity)]` emits for each entity.
//!
//! Everything here is plain `'static` data so the derive can build it in a
//! `const`. The [`Schema`](crate::Schema) checks it across entities at start-up.

/// How logical names (the camelCase names used in JSON) map to physical
/// table and column names in PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// `user_id` (the default).
    Snake,
    /// `"userId"` (the TypeScript library's layout).
    Camel,
}

/// The kind of value a column holds, and so its PostgreSQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// `String` -> `text`.
    Text,
    /// `i16` -> `smallint`.
    I16,
    /// `i32` -> `integer`.
    I32,
    /// `i64` -> `bigint`.
    I64,
    /// `f64` -> `double precision`.
    F64,
    /// `bool` -> `boolean`.
    Bool,
    /// `DateTime<Utc>` -> `timestamptz`.
    Timestamp,
    /// `serde_json::Value` or `Json<T>` -> `jsonb`.
    Json,
    /// [`DbId`](crate::DbId) -> `text` holding the base62 form.
    DbId,
}

impl FieldKind {
    /// The PostgreSQL type used for a column of this kind.
    pub const fn sql_type(self) -> &'static str {
        match self {
            FieldKind::Text | FieldKind::DbId => "text",
            FieldKind::I16 => "smallint",
            FieldKind::I32 => "integer",
            FieldKind::I64 => "bigint",
            FieldKind::F64 => "double precision",
            FieldKind::Bool => "boolean",
            FieldKind::Timestamp => "timestamptz",
            FieldKind::Json => "jsonb",
        }
    }

    /// A short human name of the kind, used in error messages.
    pub const fn describe(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::I16 => "16-bit integer",
            FieldKind::I32 => "32-bit integer",
            FieldKind::I64 => "64-bit integer",
            FieldKind::F64 => "number",
            FieldKind::Bool => "boolean",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Json => "JSON",
            FieldKind::DbId => "DbId",
        }
    }
}

/// The columns the library manages itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Managed {
    /// `id`: chosen by the caller on insert, never changed.
    Id,
    /// `createdAt`: set on insert, never changed.
    CreatedAt,
    /// `updatedAt`: set on insert and on every update.
    UpdatedAt,
}

/// One field of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMeta {
    /// The Rust field name (`user_id`).
    pub rust_name: &'static str,
    /// The logical name used in JSON and the JSON query language (`userId`).
    pub name: &'static str,
    /// The physical column name (`user_id` or `userId`, by casing).
    pub column: &'static str,
    /// The kind of value, hence the SQL type.
    pub kind: FieldKind,
    /// Whether the column is nullable (`Option<T>` in Rust).
    pub nullable: bool,
    /// Whether updates may change this field (`#[field(immutable)]`).
    pub immutable: bool,
    /// Whether the column carries a unique constraint (`#[field(unique)]`).
    pub unique: bool,
    /// Which managed column this is, if any.
    pub managed: Option<Managed>,
}

#[cfg(test)]
impl FieldMeta {
    /// Hand-written metadata for unit tests: named `name` in Rust and JSON,
    /// `column` in SQL; not nullable, immutable or unique.
    pub(crate) const fn for_tests(
        name: &'static str,
        column: &'static str,
        kind: FieldKind,
        managed: Option<Managed>,
    ) -> FieldMeta {
        FieldMeta {
            rust_name: name,
            name,
            column,
            kind,
            nullable: false,
            immutable: false,
            unique: false,
            managed,
        }
    }
}

impl FieldMeta {
    /// Whether this is `createdAt` or `updatedAt`, which only the library sets.
    pub const fn is_managed_timestamp(&self) -> bool {
        matches!(self.managed, Some(Managed::CreatedAt | Managed::UpdatedAt))
    }

    /// Whether an update may set this field.
    pub const fn is_updatable(&self) -> bool {
        !self.immutable && self.managed.is_none()
    }
}

/// The kinds of relation between entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// Many-to-one: this entity's `local` field references the target's `remote` field.
    PointsTo,
    /// One-to-many: the target's `remote` field references this entity's `local` field.
    ResolvesToMany,
    /// Many-to-many through a junction entity whose rows reference both this
    /// entity and the target (see [`JunctionMeta`]).
    ManyVia,
}

impl RelationKind {
    /// Whether the relation leads to at most one row (points-to).
    pub const fn is_one(self) -> bool {
        matches!(self, RelationKind::PointsTo)
    }
}

/// The junction of a many-to-many relation: the entity whose rows link the
/// two sides, and its two referencing fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JunctionMeta {
    /// The junction entity's logical table name (`note_tags`).
    pub entity: &'static str,
    /// Its physical table name.
    pub table: &'static str,
    /// Its field referencing the relation's owner (`noteId`).
    pub owner_field: &'static FieldMeta,
    /// Its field referencing the target (`tagId`).
    pub target_field: &'static FieldMeta,
}

/// A named relation from one entity to another.
///
/// For points-to and resolves-to-many, `foreign_key` is the referencing
/// column and `key` the referenced one; which entity holds which depends on
/// the kind. For many-via, both are referenced by the junction: `key` is
/// this entity's field and `foreign_key` the target's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationMeta {
    /// The relation's name (`author`, `notes`), used in `with` clauses.
    pub name: &'static str,
    /// Many-to-one or one-to-many.
    pub kind: RelationKind,
    /// The logical table name of the target entity.
    pub target: &'static str,
    /// The logical name of the referencing field (on this entity for
    /// points-to, on the target for resolves-to-many).
    pub foreign_key: &'static str,
    /// The logical name of the referenced field (on the target for points-to,
    /// on this entity for resolves-to-many).
    pub key: &'static str,
    /// The junction of a many-via relation; `None` for the other kinds.
    pub junction: Option<JunctionMeta>,
}

impl RelationMeta {
    /// The logical names of (this entity's field, the target's field) that the
    /// relation joins on.
    pub const fn join_fields(&self) -> (&'static str, &'static str) {
        match self.kind {
            RelationKind::PointsTo => (self.foreign_key, self.key),
            RelationKind::ResolvesToMany | RelationKind::ManyVia => (self.key, self.foreign_key),
        }
    }
}

/// Everything the library knows about one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityMeta {
    /// The Rust type name (`Note`), for messages.
    pub rust_name: &'static str,
    /// The logical table name (`notes`), used in JSON forms.
    pub name: &'static str,
    /// The physical table name, by casing.
    pub table: &'static str,
    /// How logical names map to physical ones.
    pub casing: Casing,
    /// The fields, in declaration order.
    pub fields: &'static [FieldMeta],
    /// The named relations.
    pub relations: &'static [RelationMeta],
    /// Composite indexes (`#[entity(index(user_id, created_at))]`): the
    /// logical names of each index's fields, in order.
    pub indexes: &'static [&'static [&'static str]],
}

impl EntityMeta {
    /// The field with this logical name.
    pub fn field(&self, name: &str) -> Option<&'static FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The position of the field with this logical name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The relation with this name.
    pub fn relation(&self, name: &str) -> Option<&'static RelationMeta> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The managed field of the given role.
    pub fn managed(&self, which: Managed) -> Option<&'static FieldMeta> {
        self.fields.iter().find(|f| f.managed == Some(which))
    }
}
