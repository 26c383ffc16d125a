//! Stage 2: the checked intermediate representation of one entity. Codegen
//! reads only this, never `syn::Attribute`.

use heck::{ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, Type};

use super::attr::{self, Casing, JunctionAttr, RelationAttr, RelationKind};
use crate::errors::Errors;

/// One entity, ready to expand.
pub struct Entity<'a> {
    pub ident: &'a Ident,
    pub vis: &'a syn::Visibility,
    /// Path of the facade crate in generated code (`::trombase`).
    pub krate: Path,
    /// Logical table name (used in JSON).
    pub name: String,
    /// Physical table name.
    pub table: String,
    pub casing: Casing,
    pub fields: Vec<Field<'a>>,
    pub relations: Vec<Relation>,
    /// Composite indexes: the logical names of each one's fields.
    pub indexes: Vec<Vec<String>>,
    /// Permitter per action (read, create, update, delete); `None` denies.
    pub permits: [Option<Path>; 4],
}

/// One field.
pub struct Field<'a> {
    pub ident: &'a Ident,
    pub vis: &'a syn::Visibility,
    pub ty: &'a Type,
    /// Logical name (`userId`).
    pub name: String,
    /// Physical column name.
    pub column: String,
    pub immutable: bool,
    pub unique: bool,
    pub managed: Option<Managed>,
    /// The typed reference constant (`USER_ID`).
    pub const_ident: Ident,
}

/// The columns the library manages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Managed {
    Id,
    CreatedAt,
    UpdatedAt,
}

impl Managed {
    const ALL: [(Managed, &'static str, &'static str); 3] = [
        (Managed::Id, "id", "DbId"),
        (Managed::CreatedAt, "created_at", "DateTime<Utc>"),
        (Managed::UpdatedAt, "updated_at", "DateTime<Utc>"),
    ];
}

/// One relation.
pub struct Relation {
    pub name: Ident,
    pub kind: RelationKind,
    pub target: Path,
    /// The referencing field (on this entity for points-to, on the target
    /// for resolves-to-many).
    pub foreign_key: Ident,
    /// The referenced field (on the target for points-to, on this entity for
    /// resolves-to-many).
    pub key: Ident,
    /// The junction of a many-via relation.
    pub junction: Option<JunctionAttr>,
    /// The typed reference constant (`AUTHOR`).
    pub const_ident: Ident,
}

impl<'a> Entity<'a> {
    /// Builds and checks the IR, recording every problem in `errors`.
    pub fn new(input: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let (entity_attrs, relation_attrs, permit_attrs) = attr::struct_attrs(&input.attrs, errors);
        if !input.generics.params.is_empty() {
            errors.at(&input.generics, "an entity cannot have generic parameters");
        }
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                _ => None,
            },
            _ => None,
        };
        let Some(named) = named else {
            errors.at(&input.ident, "#[derive(Entity)] needs a struct with named fields");
            return None;
        };
        // The entity's own attribute wins over the crate's default.
        let casing = match entity_attrs.casing {
            Some(casing) => casing,
            None => super::crate_casing::crate_default()
                .unwrap_or_else(|message| {
                    errors.at(&input.ident, message);
                    None
                })
                .unwrap_or(Casing::Snake),
        };
        let name = entity_attrs
            .table
            .as_ref()
            .map_or_else(|| input.ident.to_string().to_snake_case(), |t| t.value());
        check_identifier(&name, attr::span_of(&entity_attrs.table, input.ident.span()), "table", errors);
        if let Some(sql_table) = &entity_attrs.sql_table {
            check_identifier(&sql_table.value(), sql_table.span(), "sql_table", errors);
        }

        let fields: Vec<Field> = named.named.iter().map(|f| field(f, casing, errors)).collect();
        check_fields(input, &fields, errors);
        let relations = relations(relation_attrs, &fields, errors);
        let indexes = entity_attrs
            .indexes
            .iter()
            .map(|index| {
                index
                    .iter()
                    .filter_map(|ident| match fields.iter().find(|f| f.ident == ident) {
                        Some(field) => Some(field.name.clone()),
                        None => {
                            errors.at(
                                ident,
                                format!("index names `{ident}`, which is not a field of this struct"),
                            );
                            None
                        }
                    })
                    .collect()
            })
            .collect();

        let mut permits = permit_attrs.actions;
        for slot in &mut permits {
            if slot.is_none() {
                slot.clone_from(&permit_attrs.all);
            }
        }
        Some(Entity {
            ident: &input.ident,
            vis: &input.vis,
            krate: entity_attrs.krate.unwrap_or_else(|| syn::parse_quote!(::trombase)),
            table: entity_attrs.sql_table.as_ref().map_or_else(|| physical(&name, casing), LitStr::value),
            name,
            casing,
            fields,
            relations,
            indexes,
            permits,
        })
    }
}

fn field<'a>(field: &'a syn::Field, casing: Casing, errors: &mut Errors) -> Field<'a> {
    let attrs = attr::field_attrs(&field.attrs, errors);
    let ident = field.ident.as_ref().expect("named fields have idents");
    let rust_name = ident.to_string();
    let rust_name = rust_name.strip_prefix("r#").unwrap_or(&rust_name);
    let managed = Managed::ALL.iter().find(|(_, n, _)| *n == rust_name).map(|(m, _, _)| *m);
    if let (Some(_), Some(name)) = (managed, &attrs.name) {
        errors.at(name, "managed fields (`id`, `created_at`, `updated_at`) keep their names");
    }
    if let Some(name) = &attrs.name {
        check_identifier(&name.value(), name.span(), "field", errors);
    }
    check_type(&field.ty, errors);
    let name = attrs.name.as_ref().map_or_else(|| rust_name.to_lower_camel_case(), |n| n.value());
    let column = match (casing, &attrs.name) {
        (Casing::Camel, _) => name.clone(),
        (Casing::Snake, None) => rust_name.to_owned(),
        (Casing::Snake, Some(_)) => name.to_snake_case(),
    };
    Field {
        ident,
        vis: &field.vis,
        ty: &field.ty,
        name,
        column,
        immutable: attrs.immutable,
        unique: attrs.unique,
        managed,
        const_ident: Ident::new(&rust_name.to_shouty_snake_case(), ident.span()),
    }
}

fn check_fields(input: &DeriveInput, fields: &[Field], errors: &mut Errors) {
    for (managed, rust_name, ty) in Managed::ALL {
        if !fields.iter().any(|f| f.managed == Some(managed)) {
            errors.at(
                &input.ident,
                format!("entity `{}` needs the managed field `{rust_name}: {ty}`", input.ident),
            );
        }
    }
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].iter().any(|f| f.name == field.name || f.column == field.column) {
            errors.at(field.ident, format!("two fields map to the name `{}`", field.name));
        }
    }
}

fn relations(attrs: Vec<RelationAttr>, fields: &[Field], errors: &mut Errors) -> Vec<Relation> {
    let mut relations: Vec<Relation> = Vec::new();
    for attr in attrs {
        let local = match attr.kind {
            RelationKind::PointsTo => &attr.foreign_key,
            RelationKind::ResolvesToMany | RelationKind::ManyVia => &attr.key,
        };
        if !fields.iter().any(|f| f.ident == local) {
            errors.at(
                local,
                format!("relation `{}` names `{local}`, which is not a field of this struct", attr.name),
            );
        }
        let const_ident = Ident::new(&attr.name.to_string().to_shouty_snake_case(), attr.name.span());
        if relations.iter().any(|r| r.name == attr.name) {
            errors.at(&attr.name, format!("duplicate relation `{}`", attr.name));
        } else if fields.iter().any(|f| f.const_ident == const_ident) {
            errors.at(&attr.name, format!("relation `{}` has the name of a field", attr.name));
        }
        relations.push(Relation {
            name: attr.name,
            kind: attr.kind,
            target: attr.target,
            foreign_key: attr.foreign_key,
            key: attr.key,
            junction: attr.junction,
            const_ident,
        });
    }
    relations
}

/// Types that are certainly not field types get one clear error here; any
/// other type is checked by the compiler against `FieldType` (so aliases of
/// supported types work).
fn check_type(ty: &Type, errors: &mut Errors) {
    const UNSUPPORTED: &[&str] = &[
        "u8",
        "u16",
        "u32",
        "u64",
        "u128",
        "usize",
        "i8",
        "i128",
        "isize",
        "f32",
        "char",
        "str",
        "Vec",
        "HashMap",
        "BTreeMap",
        "HashSet",
        "Box",
        "Rc",
        "Arc",
        "Cow",
        "NaiveDateTime",
    ];
    let unsupported = match ty {
        Type::Path(path) => {
            match path.path.segments.last() {
                Some(last) if last.ident == "Option" => match &last.arguments {
                    syn::PathArguments::AngleBracketed(args) => {
                        if let Some(syn::GenericArgument::Type(inner)) = args.args.first() {
                            if matches!(inner, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
                            {
                                errors.at(ty, "`Option<Option<T>>` is not a field type: a column is either nullable or not");
                                return;
                            }
                            return check_type(inner, errors);
                        }
                        false
                    }
                    _ => false,
                },
                Some(last) => UNSUPPORTED.iter().any(|name| last.ident == name),
                None => false,
            }
        }
        Type::Reference(_) | Type::Array(_) | Type::Slice(_) | Type::Tuple(_) | Type::Ptr(_) => true,
        _ => false,
    };
    if unsupported {
        errors.at(
            ty,
            format!(
                "`{}` is not a supported field type; use String, i16, i32, i64, f64, bool, \
                 DateTime<Utc>, serde_json::Value, Json<T>, DbId, or Option<T> of these",
                quote::ToTokens::to_token_stream(ty).to_string().replace(' ', "")
            ),
        );
    }
}

/// The physical form of a logical name.
pub fn physical(name: &str, casing: Casing) -> String {
    match casing {
        Casing::Snake => name.to_snake_case(),
        Casing::Camel => name.to_lower_camel_case(),
    }
}

fn check_identifier(name: &str, span: Span, what: &str, errors: &mut Errors) {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if !valid {
        errors.at_span(
            span,
            format!("{what} name `{name}` must be an ASCII identifier (letters, digits, `_`) of at most 63 characters"),
        );
    }
}
