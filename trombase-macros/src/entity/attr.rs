//! Stage 1: the `#[entity]`, `#[field]`, `#[relation]` and `#[permit]`
//! attributes, parsed into plain structs. Unknown and duplicate keys are
//! errors at their span.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Path, Token};

use crate::errors::Errors;

/// How logical names map to physical ones.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Casing {
    Snake,
    Camel,
}

/// `#[entity(table = "...", sql_table = "...", casing = "snake" | "camel", crate = "...",
/// index(field, ...), ...)]`.
#[derive(Default)]
pub struct EntityAttrs {
    pub table: Option<LitStr>,
    pub sql_table: Option<LitStr>,
    pub casing: Option<Casing>,
    pub krate: Option<Path>,
    /// Composite indexes, each its fields in order.
    pub indexes: Vec<Vec<Ident>>,
}

/// `#[field(immutable, unique, name = "...")]`.
#[derive(Default)]
pub struct FieldAttrs {
    pub immutable: bool,
    pub unique: bool,
    pub name: Option<LitStr>,
}

/// Which way a relation goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RelationKind {
    PointsTo,
    ResolvesToMany,
    ManyVia,
}

/// `name = points_to(Target, fk -> key)`, `name = resolves_to_many(Target, fk -> key)`,
/// or `name = many_via(Junction, owner_fk -> key, target_fk -> Target.target_key)`.
/// For many-via, `key` is this entity's field and `foreign_key` the target's.
pub struct RelationAttr {
    pub name: Ident,
    pub kind: RelationKind,
    pub target: Path,
    pub foreign_key: Ident,
    pub key: Ident,
    pub junction: Option<JunctionAttr>,
}

/// The junction of `many_via`: its type and its fields referencing the
/// owner and the target.
pub struct JunctionAttr {
    pub path: Path,
    pub owner_field: Ident,
    pub target_field: Ident,
}

/// The four actions a permitter can be named for.
pub const ACTIONS: [&str; 4] = ["read", "create", "update", "delete"];

/// `#[permit(read = f, create = f, update = f, delete = f, all = f)]`; an
/// action named explicitly wins over `all`.
#[derive(Default)]
pub struct PermitAttrs {
    pub actions: [Option<Path>; 4],
    pub all: Option<Path>,
}

/// Parses every attribute on the struct itself.
pub fn struct_attrs(
    attrs: &[Attribute],
    errors: &mut Errors,
) -> (EntityAttrs, Vec<RelationAttr>, PermitAttrs) {
    let mut entity = EntityAttrs::default();
    let mut relations = Vec::new();
    let mut permits = PermitAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("entity") {
            let result = attr.parse_nested_meta(|meta| entity_key(&mut entity, meta));
            errors.ok(result);
        } else if attr.path().is_ident("relation") {
            let parsed = attr.parse_args_with(Punctuated::<RelationAttr, Token![,]>::parse_terminated);
            relations.extend(errors.ok(parsed).into_iter().flatten());
        } else if attr.path().is_ident("permit") {
            let result = attr.parse_nested_meta(|meta| permit_key(&mut permits, meta));
            errors.ok(result);
        } else if attr.path().is_ident("field") {
            errors.at(attr, "`#[field(...)]` belongs on a field, not on the struct");
        }
    }
    (entity, relations, permits)
}

/// Parses the `#[field]` attributes of one field.
pub fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut field = FieldAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("field") {
            let result = attr.parse_nested_meta(|meta| field_key(&mut field, meta));
            errors.ok(result);
        } else if ["entity", "relation", "permit"].iter().any(|n| attr.path().is_ident(n)) {
            errors.at(attr, "this attribute belongs on the struct, not on a field");
        }
    }
    field
}

fn entity_key(entity: &mut EntityAttrs, meta: ParseNestedMeta) -> syn::Result<()> {
    if meta.path.is_ident("table") {
        set_once(&meta, &mut entity.table, meta.value()?.parse()?)
    } else if meta.path.is_ident("sql_table") {
        set_once(&meta, &mut entity.sql_table, meta.value()?.parse()?)
    } else if meta.path.is_ident("casing") {
        let lit: LitStr = meta.value()?.parse()?;
        let casing = match lit.value().as_str() {
            "snake" => Casing::Snake,
            "camel" => Casing::Camel,
            _ => return Err(syn::Error::new(lit.span(), "casing must be \"snake\" or \"camel\"")),
        };
        set_once(&meta, &mut entity.casing, casing)
    } else if meta.path.is_ident("crate") {
        let lit: LitStr = meta.value()?.parse()?;
        set_once(&meta, &mut entity.krate, lit.parse()?)
    } else if meta.path.is_ident("index") {
        let mut fields = Vec::new();
        meta.parse_nested_meta(|field| {
            let ident =
                field.path.get_ident().cloned().ok_or_else(|| field.error("expected a field name"))?;
            fields.push(ident);
            Ok(())
        })?;
        if fields.is_empty() {
            return Err(meta.error("an index needs at least one field: `index(user_id, created_at)`"));
        }
        entity.indexes.push(fields);
        Ok(())
    } else {
        Err(unknown(&meta, "entity", "`table`, `sql_table`, `casing`, `crate`, `index`"))
    }
}

fn field_key(field: &mut FieldAttrs, meta: ParseNestedMeta) -> syn::Result<()> {
    if meta.path.is_ident("immutable") {
        set_flag(&meta, &mut field.immutable)
    } else if meta.path.is_ident("unique") {
        set_flag(&meta, &mut field.unique)
    } else if meta.path.is_ident("name") {
        set_once(&meta, &mut field.name, meta.value()?.parse()?)
    } else {
        Err(unknown(&meta, "field", "`immutable`, `unique`, `name`"))
    }
}

fn permit_key(permits: &mut PermitAttrs, meta: ParseNestedMeta) -> syn::Result<()> {
    let slot = if meta.path.is_ident("all") {
        &mut permits.all
    } else if let Some(i) = ACTIONS.iter().position(|a| meta.path.is_ident(a)) {
        &mut permits.actions[i]
    } else {
        return Err(unknown(&meta, "permit", "`read`, `create`, `update`, `delete`, `all`"));
    };
    set_once(&meta, slot, meta.value()?.parse()?)
}

impl Parse for RelationAttr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let kind_ident: Ident = input.parse()?;
        let kind = match kind_ident.to_string().as_str() {
            "points_to" => RelationKind::PointsTo,
            "resolves_to_many" => RelationKind::ResolvesToMany,
            "many_via" => RelationKind::ManyVia,
            _ => {
                return Err(syn::Error::new(
                    kind_ident.span(),
                    "unknown relation kind: expected `points_to`, `resolves_to_many` or `many_via`",
                ))
            }
        };
        let args;
        syn::parenthesized!(args in input);
        if kind == RelationKind::ManyVia {
            return many_via(name, &args);
        }
        let target: Path = args.parse()?;
        args.parse::<Token![,]>()?;
        let foreign_key: Ident = args.parse()?;
        args.parse::<Token![->]>()?;
        let key: Ident = args.parse()?;
        if !args.is_empty() {
            return Err(args.error("expected `)` after `foreign_key -> key`"));
        }
        Ok(RelationAttr { name, kind, target, foreign_key, key, junction: None })
    }
}

/// The arguments of `many_via(Junction, owner_fk -> key, target_fk -> Target.target_key)`.
fn many_via(name: Ident, args: ParseStream) -> syn::Result<RelationAttr> {
    let path: Path = args.parse()?;
    args.parse::<Token![,]>()?;
    let owner_field: Ident = args.parse()?;
    args.parse::<Token![->]>()?;
    let key: Ident = args.parse()?;
    args.parse::<Token![,]>()?;
    let target_field: Ident = args.parse()?;
    args.parse::<Token![->]>()?;
    let target: Path = args.parse()?;
    if !args.peek(Token![.]) {
        return Err(args.error("expected `.` and the target's key, as in `tag_id -> Tag.id`"));
    }
    args.parse::<Token![.]>()?;
    let foreign_key: Ident = args.parse()?;
    if !args.is_empty() {
        return Err(args.error("expected `)` after `target_fk -> Target.key`"));
    }
    Ok(RelationAttr {
        name,
        kind: RelationKind::ManyVia,
        target,
        foreign_key,
        key,
        junction: Some(JunctionAttr { path, owner_field, target_field }),
    })
}

fn set_once<T>(meta: &ParseNestedMeta, slot: &mut Option<T>, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("duplicate attribute `{}`", path_name(&meta.path))));
    }
    *slot = Some(value);
    Ok(())
}

fn set_flag(meta: &ParseNestedMeta, flag: &mut bool) -> syn::Result<()> {
    if *flag {
        return Err(meta.error(format!("duplicate attribute `{}`", path_name(&meta.path))));
    }
    *flag = true;
    Ok(())
}

fn unknown(meta: &ParseNestedMeta, attr: &str, expected: &str) -> syn::Error {
    meta.error(format!(
        "unknown attribute `{}` in #[{attr}(...)]; expected one of {expected}",
        path_name(&meta.path)
    ))
}

fn path_name(path: &Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// The span to blame for an absent attribute value.
pub fn span_of(lit: &Option<LitStr>, fallback: Span) -> Span {
    lit.as_ref().map_or(fallback, LitStr::span)
}
