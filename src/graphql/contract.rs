//! The schema as a contract: what a change of it breaks for the apps built on the
//! last release.
//!
//! Schema-driven clients (Apollo Kotlin and iOS, graphql-codegen) compile their
//! queries against `schema.graphql`; an app in users' hands keeps sending them for
//! years. [`breaking_changes`] compares the schema with the one of the last release
//! (`tests/contract/`) and lists what would break such an app: a type, field,
//! argument, input field, enum value, union member or interface taken away; an
//! output made nullable; an input made stricter (non-null, or a new required
//! argument or input field); a type of another kind or another base type. What was
//! marked `@deprecated` in the release may go: deprecating first is how a field is
//! retired. Additions never break.

use std::collections::HashMap;

use async_graphql::Positioned;
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, ServiceDocument, Type,
    TypeDefinition, TypeKind, TypeSystemDefinition,
};

/// A schema that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("the {which} schema does not parse: {message}")]
pub struct ContractError {
    which: &'static str,
    message: String,
}

/// The changes from `released` to `current` that break clients of `released`.
pub fn breaking_changes(released: &str, current: &str) -> Result<Vec<String>, ContractError> {
    let parse = |which, text: &str| {
        async_graphql::parser::parse_schema(text).map_err(|error| ContractError {
            which,
            message: error.to_string(),
        })
    };
    let (released, current) = (parse("released", released)?, parse("current", current)?);
    let (released, current) = (Types::of(&released), Types::of(&current));
    let mut broken = Vec::new();
    for (name, old) in &released.types {
        let Some(new) = current.types.get(name) else {
            broken.push(format!("type {name} was removed"));
            continue;
        };
        compare(name, old, new, &mut broken);
    }
    for (root, old) in &released.roots {
        if current.roots.get(root) != Some(old) {
            broken.push(format!("the {root} root is no longer {old}"));
        }
    }
    broken.sort();
    Ok(broken)
}

/// The types of a schema by name, and its roots.
struct Types<'d> {
    types: HashMap<&'d str, &'d TypeDefinition>,
    roots: HashMap<&'static str, String>,
}

impl<'d> Types<'d> {
    fn of(document: &'d ServiceDocument) -> Self {
        let mut types = HashMap::new();
        let mut roots = HashMap::new();
        for definition in &document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    types.insert(ty.node.name.node.as_str(), &ty.node);
                }
                TypeSystemDefinition::Schema(schema) => {
                    let schema = &schema.node;
                    for (root, name) in [
                        ("query", &schema.query),
                        ("mutation", &schema.mutation),
                        ("subscription", &schema.subscription),
                    ] {
                        if let Some(name) = name {
                            roots.insert(root, name.node.to_string());
                        }
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        Self { types, roots }
    }
}

/// Whether an element was `@deprecated` (and so may be removed).
fn deprecated(directives: &[Positioned<ConstDirective>]) -> bool {
    directives
        .iter()
        .any(|directive| directive.node.name.node == "deprecated")
}

fn compare(name: &str, old: &TypeDefinition, new: &TypeDefinition, broken: &mut Vec<String>) {
    match (&old.kind, &new.kind) {
        (TypeKind::Scalar, TypeKind::Scalar) => {}
        (TypeKind::Object(old), TypeKind::Object(new)) => {
            interfaces(name, &old.implements, &new.implements, broken);
            fields(name, &old.fields, &new.fields, broken);
        }
        (TypeKind::Interface(old), TypeKind::Interface(new)) => {
            interfaces(name, &old.implements, &new.implements, broken);
            fields(name, &old.fields, &new.fields, broken);
        }
        (TypeKind::Union(old), TypeKind::Union(new)) => {
            for member in &old.members {
                if !new.members.iter().any(|m| m.node == member.node) {
                    broken.push(format!("{} was removed from union {name}", member.node));
                }
            }
        }
        (TypeKind::Enum(old), TypeKind::Enum(new)) => {
            for value in &old.values {
                let value = &value.node;
                let kept = new
                    .values
                    .iter()
                    .any(|v| v.node.value.node == value.value.node);
                if !kept && !deprecated(&value.directives) {
                    broken.push(format!(
                        "enum value {name}.{} was removed without being deprecated first",
                        value.value.node
                    ));
                }
            }
        }
        (TypeKind::InputObject(old), TypeKind::InputObject(new)) => {
            inputs(&format!("input {name}"), &old.fields, &new.fields, broken);
        }
        _ => broken.push(format!("type {name} is of another kind")),
    }
}

fn interfaces(
    name: &str,
    old: &[Positioned<async_graphql::Name>],
    new: &[Positioned<async_graphql::Name>],
    broken: &mut Vec<String>,
) {
    for interface in old {
        if !new.iter().any(|n| n.node == interface.node) {
            broken.push(format!("{name} no longer implements {}", interface.node));
        }
    }
}

fn fields(
    owner: &str,
    old: &[Positioned<FieldDefinition>],
    new: &[Positioned<FieldDefinition>],
    broken: &mut Vec<String>,
) {
    for field in old {
        let field = &field.node;
        let name = field.name.node.as_str();
        let Some(now) = new.iter().find(|f| f.node.name.node == name) else {
            if !deprecated(&field.directives) {
                broken.push(format!(
                    "field {owner}.{name} was removed without being deprecated first"
                ));
            }
            continue;
        };
        let now = &now.node;
        if !output_fits(&field.ty.node, &now.ty.node) {
            broken.push(format!(
                "field {owner}.{name} changed type from {} to {}",
                field.ty.node, now.ty.node
            ));
        }
        inputs(
            &format!("field {owner}.{name}"),
            &field.arguments,
            &now.arguments,
            broken,
        );
    }
}

/// Arguments of a field, or fields of an input object.
fn inputs(
    owner: &str,
    old: &[Positioned<InputValueDefinition>],
    new: &[Positioned<InputValueDefinition>],
    broken: &mut Vec<String>,
) {
    for input in old {
        let input = &input.node;
        let name = input.name.node.as_str();
        match new.iter().find(|i| i.node.name.node == name) {
            None if !deprecated(&input.directives) => broken.push(format!(
                "{owner}: {name} was removed without being deprecated first"
            )),
            None => {}
            Some(now) if !input_fits(&input.ty.node, &now.node.ty.node) => broken.push(format!(
                "{owner}: {name} changed type from {} to {}",
                input.ty.node, now.node.ty.node
            )),
            Some(_) => {}
        }
    }
    for input in new {
        let input = &input.node;
        let added = !old.iter().any(|i| i.node.name.node == input.name.node);
        if added && !input.ty.node.nullable && input.default_value.is_none() {
            broken.push(format!(
                "{owner}: {} was added, required and without a default",
                input.name.node
            ));
        }
    }
}

/// Whether an output of type `new` gives what a client of `old` expects: the
/// same base type, and never null where `old` promised a value.
fn output_fits(old: &Type, new: &Type) -> bool {
    (new.nullable <= old.nullable) && same_base(&old.base, &new.base, output_fits)
}

/// Whether an input of type `new` takes every value `old` took: the same base
/// type, and null still taken where `old` took it.
fn input_fits(old: &Type, new: &Type) -> bool {
    (new.nullable >= old.nullable) && same_base(&old.base, &new.base, input_fits)
}

fn same_base(old: &BaseType, new: &BaseType, fits: fn(&Type, &Type) -> bool) -> bool {
    match (old, new) {
        (BaseType::Named(old), BaseType::Named(new)) => old == new,
        (BaseType::List(old), BaseType::List(new)) => fits(old, new),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASED: &str = r#"
        schema { query: Query }
        type Query {
            article(slug: String!): Article
            old: String @deprecated(reason: "use article")
            kinds: [Kind!]!
        }
        type Article { title: String! tags(first: Int): [String!]! }
        enum Kind { NEWS OPINION OBITUARY @deprecated }
        input Filter { kind: Kind }
    "#;

    fn changes(current: &str) -> Vec<String> {
        match breaking_changes(RELEASED, current) {
            Ok(changes) => changes,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn additions_and_retiring_what_was_deprecated_break_nothing() {
        let current = r#"
            schema { query: Query }
            type Query {
                article(slug: String!, language: String): Article
                kinds: [Kind!]!
                person(slug: String!): String
            }
            type Article { title: String! tags(first: Int, after: String): [String!]! lead: String }
            enum Kind { NEWS OPINION ANALYSIS }
            input Filter { kind: Kind tag: String }
            type Person { name: String! }
        "#;
        assert_eq!(changes(current), Vec::<String>::new());
    }

    #[test]
    fn removals_and_narrowings_are_caught() {
        let current = r#"
            schema { query: Query }
            type Query {
                article(slug: String!, language: String!): Article
                old: String
                kinds: [Kind]!
            }
            type Article { tags(first: Int!): [String!]! }
            enum Kind { NEWS }
            input Filter { kind: Kind! }
        "#;
        assert_eq!(
            changes(current),
            [
                "enum value Kind.OPINION was removed without being deprecated first",
                "field Article.tags: first changed type from Int to Int!",
                "field Article.title was removed without being deprecated first",
                "field Query.article: language was added, required and without a default",
                "field Query.kinds changed type from [Kind!]! to [Kind]!",
                "input Filter: kind changed type from Kind to Kind!",
            ]
        );
    }
}
