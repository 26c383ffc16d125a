//! Stage 3: code generation from the checked IR.
//!
//! Generated code names the facade crate by absolute path and reaches
//! internals only through its `__private` module.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::{Casing, RelationKind, ACTIONS};
use super::ir::{Entity, Field, Managed, Relation};

/// Everything `#[derive(Entity)]` emits for one struct.
pub fn entity(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let krate = &entity.krate;
    let new_ident = format_ident!("New{}", ident);
    let parts = parts_impl(entity);
    let meta = meta_const(entity);
    let decode = decoders(entity);
    let permit = permit_fn(entity);
    let consts = reference_consts(entity);
    let checks = type_checks(entity);
    let new_row = new_row(entity);
    let serialize = serialize_impl(entity);
    quote! {
        #new_row

        #[allow(non_upper_case_globals, clippy::all)]
        const _: () = {
            use #krate::__private as __tb;

            #parts

            impl #krate::Entity for #ident {
                type New = #new_ident;
                #meta
                #decode
                #permit
            }

            #serialize

            #consts

            #checks
        };
    }
}

/// The entity's own name and fields, in a const that depends on no other
/// entity (so relations between two entities never form a const cycle).
fn parts_impl(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let (name, table) = (&entity.name, &entity.table);
    let fields = entity.fields.iter().map(field_meta);
    quote! {
        impl __tb::EntityParts for #ident {
            const NAME: &'static str = #name;
            const TABLE: &'static str = #table;
            const FIELDS: &'static [__tb::FieldMeta] = &[#(#fields),*];
        }
    }
}

fn field_meta(field: &Field) -> TokenStream {
    let ty = field.ty;
    let rust_name = field.ident.to_string();
    let (name, column, immutable, unique) = (&field.name, &field.column, field.immutable, field.unique);
    let managed = match field.managed {
        None => quote!(::core::option::Option::None),
        Some(Managed::Id) => quote!(::core::option::Option::Some(__tb::Managed::Id)),
        Some(Managed::CreatedAt) => quote!(::core::option::Option::Some(__tb::Managed::CreatedAt)),
        Some(Managed::UpdatedAt) => quote!(::core::option::Option::Some(__tb::Managed::UpdatedAt)),
    };
    let kind = quote_spanned!(ty.span()=> <#ty as __tb::FieldType>::KIND);
    let nullable = quote_spanned!(ty.span()=> <#ty as __tb::FieldType>::NULLABLE);
    quote! {
        __tb::FieldMeta {
            rust_name: #rust_name,
            name: #name,
            column: #column,
            kind: #kind,
            nullable: #nullable,
            immutable: #immutable,
            unique: #unique,
            managed: #managed,
        }
    }
}

fn meta_const(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let rust_name = ident.to_string();
    let casing = match entity.casing {
        Casing::Snake => quote!(__tb::Casing::Snake),
        Casing::Camel => quote!(__tb::Casing::Camel),
    };
    let relations = entity.relations.iter().map(|r| relation_meta(ident, r));
    let indexes = entity.indexes.iter().map(|index| quote!(&[#(#index),*]));
    quote! {
        const META: &'static __tb::EntityMeta = &__tb::EntityMeta {
            rust_name: #rust_name,
            name: <#ident as __tb::EntityParts>::NAME,
            table: <#ident as __tb::EntityParts>::TABLE,
            casing: #casing,
            fields: <#ident as __tb::EntityParts>::FIELDS,
            relations: &[#(#relations),*],
            indexes: &[#(#indexes),*],
        };
    }
}

/// One foreign key a relation stands on, for the check that its two sides
/// hold the same kind of value.
struct KeyPair {
    /// The referencing field's reference (`Note::USER_ID`) and how the user
    /// wrote it (`user_id`, `NoteTag.tag_id`).
    foreign_key: (TokenStream, String),
    /// The referenced field's reference and how the user wrote it.
    key: (TokenStream, String),
    /// Where the user named each side, in the `#[relation(...)]` attribute.
    spans: (proc_macro2::Span, proc_macro2::Span),
}

/// The foreign keys a relation stands on: one, two for a many-via relation
/// (its junction references both sides).
fn relation_keys(owner: &syn::Ident, relation: &Relation) -> Vec<KeyPair> {
    let target = &relation.target;
    let target_name = path_text(target);
    let (fk, key) = (&relation.foreign_key, &relation.key);
    let (fk_const, key_const) = (const_for(fk), const_for(key));
    match (&relation.kind, &relation.junction) {
        (RelationKind::ManyVia, Some(j)) => {
            let junction = &j.path;
            let junction_name = path_text(junction);
            let (to_owner, to_target) = (const_for(&j.owner_field), const_for(&j.target_field));
            vec![
                KeyPair {
                    foreign_key: (quote!(#junction::#to_owner), format!("{junction_name}.{}", j.owner_field)),
                    key: (quote!(#owner::#key_const), key.to_string()),
                    spans: (j.owner_field.span(), key.span()),
                },
                KeyPair {
                    foreign_key: (
                        quote!(#junction::#to_target),
                        format!("{junction_name}.{}", j.target_field),
                    ),
                    key: (quote!(#target::#fk_const), format!("{target_name}.{fk}")),
                    spans: (j.target_field.span(), fk.span()),
                },
            ]
        }
        (RelationKind::PointsTo, _) => vec![KeyPair {
            foreign_key: (quote!(#owner::#fk_const), fk.to_string()),
            key: (quote!(#target::#key_const), format!("{target_name}.{key}")),
            spans: (fk.span(), key.span()),
        }],
        _ => vec![KeyPair {
            foreign_key: (quote!(#target::#fk_const), format!("{target_name}.{fk}")),
            key: (quote!(#owner::#key_const), key.to_string()),
            spans: (fk.span(), key.span()),
        }],
    }
}

/// A path as the user wrote it, without the spaces of its token form.
fn path_text(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path).to_string().replace(' ', "")
}

fn relation_meta(owner: &syn::Ident, relation: &Relation) -> TokenStream {
    let name = relation.name.to_string();
    let target = &relation.target;
    let fk = const_for(&relation.foreign_key);
    let key = const_for(&relation.key);
    let (kind, fk, key, junction) = match (&relation.kind, &relation.junction) {
        (RelationKind::ManyVia, Some(j)) => {
            let (path, to_owner, to_target) =
                (&j.path, const_for(&j.owner_field), const_for(&j.target_field));
            let junction = quote! {
                ::core::option::Option::Some(__tb::JunctionMeta {
                    entity: <#path as __tb::EntityParts>::NAME,
                    table: <#path as __tb::EntityParts>::TABLE,
                    owner_field: __tb::field_meta(#path::#to_owner),
                    target_field: __tb::field_meta(#path::#to_target),
                })
            };
            (quote!(__tb::RelationKind::ManyVia), quote!(#target::#fk), quote!(#owner::#key), junction)
        }
        (RelationKind::PointsTo, _) => (
            quote!(__tb::RelationKind::PointsTo),
            quote!(#owner::#fk),
            quote!(#target::#key),
            quote!(::core::option::Option::None),
        ),
        _ => (
            quote!(__tb::RelationKind::ResolvesToMany),
            quote!(#target::#fk),
            quote!(#owner::#key),
            quote!(::core::option::Option::None),
        ),
    };
    quote! {
        __tb::RelationMeta {
            name: #name,
            kind: #kind,
            target: <#target as __tb::EntityParts>::NAME,
            foreign_key: __tb::field_name(#fk),
            key: __tb::field_name(#key),
            junction: #junction,
        }
    }
}

fn decoders(entity: &Entity) -> TokenStream {
    let name = &entity.name;
    let from_row = entity.fields.iter().enumerate().map(|(i, f)| {
        let (ident, ty, logical) = (f.ident, f.ty, &f.name);
        quote_spanned!(ty.span()=> #ident: __tb::get::<#ty>(row, first + #i, #name, #logical)?)
    });
    let from_json = entity.fields.iter().map(|f| {
        let (ident, ty, logical) = (f.ident, f.ty, &f.name);
        quote_spanned!(ty.span()=> #ident: __tb::get_json::<#ty>(object, #logical)?)
    });
    let from_values = entity.fields.iter().map(|f| {
        let (ident, ty, logical) = (f.ident, f.ty, &f.name);
        quote_spanned!(ty.span()=> #ident: __tb::take_value::<#ty>(&mut values, #logical)?)
    });
    let values = entity.fields.iter().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        quote_spanned!(ty.span()=> <#ty as __tb::FieldType>::to_value(&self.#ident))
    });
    let into_values = entity.fields.iter().map(|f| {
        let (ident, ty) = (f.ident, f.ty);
        quote_spanned!(ty.span()=> <#ty as __tb::FieldType>::into_value(self.#ident))
    });
    quote! {
        fn from_row_at(row: &__tb::Row, first: usize) -> __tb::Result<Self> {
            ::core::result::Result::Ok(Self { #(#from_row),* })
        }

        fn from_json(object: &__tb::JsonMap) -> __tb::Result<Self> {
            ::core::result::Result::Ok(Self { #(#from_json),* })
        }

        fn values(&self) -> ::std::vec::Vec<__tb::Value> {
            ::std::vec![#(#values),*]
        }

        fn into_values(self) -> ::std::vec::Vec<__tb::Value> {
            let mut out = ::std::vec::Vec::new();
            self.into_values_in(&mut out);
            out
        }

        fn into_values_in(self, out: &mut ::std::vec::Vec<__tb::Value>) {
            out.clear();
            out.extend([#(#into_values),*]);
        }

        fn from_values(mut values: ::std::vec::Vec<__tb::Value>) -> __tb::Result<Self> {
            Self::from_values_in(&mut values)
        }

        fn from_values_in(values: &mut ::std::vec::Vec<__tb::Value>) -> __tb::Result<Self> {
            let mut values = values.drain(..);
            ::core::result::Result::Ok(Self { #(#from_values),* })
        }
    }
}

/// `serde::Serialize`: the JSON shape of the JSON API, keyed by logical
/// names (what `Entity::to_json` builds), so handlers return rows as they are.
fn serialize_impl(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let len = entity.fields.len();
    let entries = entity.fields.iter().map(|f| {
        let (field, logical) = (f.ident, &f.name);
        quote!(__tb::serialize_field(&mut map, #logical, &self.#field)?;)
    });
    quote! {
        impl __tb::serde::Serialize for #ident {
            fn serialize<S: __tb::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use __tb::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(::core::option::Option::Some(#len))?;
                #(#entries)*
                map.end()
            }
        }
    }
}

/// `NewNote`: the entity without its managed timestamps, for inserts.
fn new_row(entity: &Entity) -> TokenStream {
    let (ident, vis, krate) = (entity.ident, entity.vis, &entity.krate);
    let new_ident = format_ident!("New{}", ident);
    let insertable: Vec<&Field> = entity
        .fields
        .iter()
        .filter(|f| !matches!(f.managed, Some(Managed::CreatedAt | Managed::UpdatedAt)))
        .collect();
    let decls = insertable.iter().map(|f| {
        let (field, ty, fvis) = (f.ident, f.ty, f.vis);
        let doc = format!("`{ident}::{field}`.");
        quote!(#[doc = #doc] #fvis #field: #ty)
    });
    let values = entity.fields.iter().map(|f| match f.managed {
        Some(Managed::CreatedAt | Managed::UpdatedAt) => quote!(__tb::Value::Null),
        _ => {
            let (field, ty) = (f.ident, f.ty);
            quote!(<#ty as __tb::FieldType>::into_value(self.#field))
        }
    });
    let doc = format!(
        "A new [`{ident}`] to insert: every field but the managed timestamps, which the library sets."
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #vis struct #new_ident {
            #(#decls),*
        }

        const _: () = {
            use #krate::__private as __tb;
            impl __tb::NewRow for #new_ident {
                type Entity = #ident;
                fn into_values(self) -> ::std::vec::Vec<__tb::Value> {
                    ::std::vec![#(#values),*]
                }
            }
        };
    }
}

fn permit_fn(entity: &Entity) -> TokenStream {
    let arms = entity.permits.iter().zip(ACTIONS).filter_map(|(path, action)| {
        let path = path.as_ref()?;
        let variant = format_ident!("{}", capitalize(action));
        Some(quote_spanned! {path.span()=>
            __tb::Action::#variant => #path(session, sql, op).await,
        })
    });
    let fallback =
        entity.permits.iter().any(Option::is_none).then(|| quote!(_ => __tb::Permit::undeclared(),));
    let declared =
        entity.permits.iter().zip(ACTIONS).filter(|(path, _)| path.is_some()).map(|(_, action)| {
            let variant = format_ident!("{}", capitalize(action));
            quote!(__tb::Action::#variant)
        });
    quote! {
        const DECLARED_ACTIONS: &'static [__tb::Action] = &[#(#declared),*];

        fn permit<'a>(
            session: &'a __tb::Session,
            sql: &'a __tb::Sql<'a>,
            op: &'a __tb::Operation<'a, Self>,
        ) -> impl ::core::future::Future<Output = __tb::Permit<Self>> + ::core::marker::Send + 'a {
            async move {
                match op.action() {
                    #(#arms)*
                    #fallback
                }
            }
        }
    }
}

fn reference_consts(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let fields = entity.fields.iter().enumerate().map(|(i, f)| {
        let (konst, ty) = (&f.const_ident, f.ty);
        let (access, what) = match (f.managed, f.immutable) {
            (Some(_), _) => {
                (quote!(__tb::access::Managed), "; managed by the library, an update cannot set it")
            }
            (None, true) => (quote!(__tb::access::Immutable), "; immutable, an update cannot set it"),
            (None, false) => (quote!(__tb::access::Settable), ""),
        };
        let doc = format!("The field `{}` (`{}`), for typed queries and mutations{what}.", f.ident, f.name);
        quote_spanned! {ty.span()=>
            #[doc = #doc]
            pub const #konst: __tb::Field<#ident, #ty, #access> = __tb::Field::__new(#i);
        }
    });
    let relations = entity.relations.iter().enumerate().map(|(i, r)| {
        let (konst, target) = (&r.const_ident, &r.target);
        let (card, what) = match r.kind {
            RelationKind::PointsTo => (quote!(__tb::One), "points-to"),
            RelationKind::ResolvesToMany => (quote!(__tb::Many), "resolves-to-many"),
            RelationKind::ManyVia => (quote!(__tb::Many), "many-to-many"),
        };
        let doc = format!("The {what} relation `{}`, for embedding in reads.", r.name);
        quote_spanned! {target.span()=>
            #[doc = #doc]
            pub const #konst: __tb::Relation<#ident, #target, #card> = __tb::Relation::__new(#i);
        }
    });
    quote! {
        // Unused references are fine: they are there for the caller to pick from.
        #[allow(dead_code)]
        impl #ident {
            #(#fields)*
            #(#relations)*
        }
    }
}

/// Checks the compiler does for us: managed fields have their types, and
/// the two sides of each relation hold the same kind of value.
fn type_checks(entity: &Entity) -> TokenStream {
    let ident = entity.ident;
    let managed = entity.fields.iter().filter_map(|f| {
        let (field, ty) = (f.ident, f.ty);
        let expected = match f.managed? {
            Managed::Id => quote!(__tb::DbId),
            Managed::CreatedAt | Managed::UpdatedAt => quote!(__tb::Timestamp),
        };
        Some(quote_spanned!(ty.span()=> let _: fn(&#ident) -> &#expected = |e: &#ident| &e.#field;))
    });
    let relations = entity.relations.iter().flat_map(|r| relation_key_checks(ident, r));
    quote! {
        const _: fn() = || {
            #(#managed)*
        };

        #(#relations)*
    }
}

/// For each foreign key of a relation, a trait saying in the user's words
/// which two fields differ, implemented for the pairs of types that may
/// reference each other (the same type; a nullable foreign key to a non-null
/// key), and a use of it on the two fields. A mismatch is reported on the
/// fields' names in the `#[relation(...)]` attribute.
fn relation_key_checks(owner: &syn::Ident, relation: &Relation) -> Vec<TokenStream> {
    relation_keys(owner, relation)
        .into_iter()
        .enumerate()
        .map(|(i, pair)| {
            let check = format_ident!("__RelationKeys{}{}", heck::ToUpperCamelCase::to_upper_camel_case(relation.name.to_string().as_str()), i);
            let message = format!(
                "relation `{}`: `{}` is of type `{{Self}}` but `{}` is of type `{{K}}`; the keys of a relation must have the same type",
                relation.name, pair.foreign_key.1, pair.key.1
            );
            let label = format!("`{}` cannot reference `{}`", pair.foreign_key.1, pair.key.1);
            let note = "a foreign key has the type of the key it references, or `Option` of it for an optional relation";
            let ((fk, _), (key, _), (fk_span, key_span)) = (pair.foreign_key, pair.key, pair.spans);
            let head = quote_spanned!(fk_span=> __tb::key_types);
            let args = quote_spanned!(key_span=> (#fk, #key));
            let call = quote_spanned!(fk_span=> relation_keys_match(#head #args));
            quote! {
                #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
                trait #check<K> {}
                #[allow(unknown_or_malformed_diagnostic_attributes)]
                #[diagnostic::do_not_recommend]
                impl<T: __tb::NotNullFieldType> #check<T> for T {}
                #[allow(unknown_or_malformed_diagnostic_attributes)]
                #[diagnostic::do_not_recommend]
                impl<T: __tb::NotNullFieldType> #check<T> for ::core::option::Option<T> {}
                const _: fn() = || {
                    fn relation_keys_match<F: #check<K>, K>(_: __tb::KeyTypes<F, K>) {}
                    #call;
                };
            }
        })
        .collect()
}

fn const_for(field: &syn::Ident) -> syn::Ident {
    let name = field.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    syn::Ident::new(&heck::ToShoutySnakeCase::to_shouty_snake_case(name), field.span())
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
}
