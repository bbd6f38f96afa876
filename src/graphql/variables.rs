//! The values of an operation's variables, checked before it runs.
//!
//! The spec coerces variables before execution (6.1.2 "Coercing Variable Values"),
//! and a variable that cannot be coerced is a request error: nothing runs, and the
//! response has no `data`. async-graphql reads a variable only when a field's
//! argument does, so a missing or mistyped one became the error of that field
//! (with code `INTERNAL`), and not at all where no field read it. [`check`] holds
//! every variable of the operation to its declared type first, with the schema's
//! own tests of each scalar, so that both executors answer the same request error
//! with `BAD_USER_INPUT`.
//!
//! The walk follows the value the client sent, which the JSON parser has already
//! bounded in depth (128 levels), and the declared type, which the document bounds.

use async_graphql::Variables;
use async_graphql::parser::types::{BaseType, OperationDefinition, Type};
use async_graphql::registry::{MetaType, Registry};
use async_graphql_value::ConstValue;

/// A variable whose value does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// A variable of a non-null type without a default was not sent.
    #[error("variable \"${name}\" of required type \"{ty}\" was not provided")]
    Missing { name: String, ty: String },
    /// A value that is not one of its type.
    #[error("variable \"${name}\" got an invalid value{at}: {reason}")]
    Invalid {
        name: String,
        /// Where in the value, when not at its top (` at "ids[2]"`).
        at: String,
        reason: String,
    },
}

/// Checks `variables` against the declarations of `operation`.
pub fn check(
    registry: &Registry,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Result<(), VariableError> {
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = definition.name.node.as_str();
        let ty = &definition.var_type.node;
        match variables.get(name) {
            None if !ty.nullable && definition.default_value.is_none() => {
                return Err(VariableError::Missing {
                    name: name.to_owned(),
                    ty: ty.to_string(),
                });
            }
            None => {}
            Some(value) => {
                let mut at = Vec::new();
                if let Err(reason) = fits(registry, ty, value, &mut at) {
                    return Err(VariableError::Invalid {
                        name: name.to_owned(),
                        at: if at.is_empty() {
                            String::new()
                        } else {
                            format!(" at \"{name}{}\"", at.concat())
                        },
                        reason,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Whether `value` is one of type `ty` (input coercion, 3.x "Input Coercion"); the
/// reason when not, with `at` the place in the value.
fn fits(
    registry: &Registry,
    ty: &Type,
    value: &ConstValue,
    at: &mut Vec<String>,
) -> Result<(), String> {
    if *value == ConstValue::Null {
        return if ty.nullable {
            Ok(())
        } else {
            Err(format!("expected a value of type \"{ty}\", found null"))
        };
    }
    match &ty.base {
        BaseType::List(item) => match value {
            ConstValue::List(items) => {
                for (index, value) in items.iter().enumerate() {
                    at.push(format!("[{index}]"));
                    fits(registry, item, value, at)?;
                    at.pop();
                }
                Ok(())
            }
            // A single value stands for a list of one.
            value => fits(registry, item, value, at),
        },
        BaseType::Named(name) => fits_named(registry, name, value, at),
    }
}

/// Whether `value` (not null) is one of the named type `name`.
fn fits_named(
    registry: &Registry,
    name: &str,
    value: &ConstValue,
    at: &mut Vec<String>,
) -> Result<(), String> {
    let expected = || format!("expected a value of type \"{name}\"");
    // A type the schema does not have is validation's to report.
    let Some(meta) = registry.types.get(name) else {
        return Ok(());
    };
    match meta {
        // async-graphql's test of `Int` takes any integer; the spec's Int is 32 bits.
        MetaType::Scalar { .. } if name == "Int" => match value {
            ConstValue::Number(number)
                if number.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) =>
            {
                Ok(())
            }
            _ => Err(format!("{} (a 32-bit integer)", expected())),
        },
        MetaType::Scalar {
            is_valid: Some(is_valid),
            ..
        } => {
            if is_valid(value) {
                Ok(())
            } else {
                Err(expected())
            }
        }
        MetaType::Enum { enum_values, .. } => match value {
            ConstValue::Enum(item) if enum_values.contains_key(item.as_str()) => Ok(()),
            ConstValue::String(item) if enum_values.contains_key(item.as_str()) => Ok(()),
            _ => Err(format!(
                "expected one of the values of \"{name}\": {}",
                enum_values
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        MetaType::InputObject {
            input_fields,
            oneof,
            ..
        } => {
            let ConstValue::Object(fields) = value else {
                return Err(expected());
            };
            if let Some(unknown) = fields
                .keys()
                .find(|field| !input_fields.contains_key(field.as_str()))
            {
                return Err(format!("\"{name}\" has no field \"{unknown}\""));
            }
            if *oneof
                && (fields.len() != 1 || fields.values().any(|value| *value == ConstValue::Null))
            {
                return Err(format!(
                    "\"{name}\" takes exactly one of its fields, not null"
                ));
            }
            for field in input_fields.values() {
                let Some(field_type) = Type::new(&field.ty) else {
                    continue;
                };
                match fields.get(field.name.as_str()) {
                    Some(value) => {
                        at.push(format!(".{}", field.name));
                        fits(registry, &field_type, value, at)?;
                        at.pop();
                    }
                    None if !field_type.nullable && field.default_value.is_none() => {
                        return Err(format!(
                            "field \"{}\" of type \"{}\" is required",
                            field.name, field.ty
                        ));
                    }
                    None => {}
                }
            }
            Ok(())
        }
        // A scalar that takes any value; an output type is validation's to report.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        crate::graphql::schema::registry()
    }

    fn operation(text: &str) -> OperationDefinition {
        let Ok(document) = async_graphql::parser::parse_query(text) else {
            panic!("{text} does not parse");
        };
        match document.operations {
            async_graphql::parser::types::DocumentOperations::Single(operation) => operation.node,
            async_graphql::parser::types::DocumentOperations::Multiple(operations) => {
                let Some(operation) = operations.into_values().next() else {
                    panic!("{text} has no operation");
                };
                operation.node
            }
        }
    }

    fn checked(text: &str, variables: serde_json::Value) -> Result<(), VariableError> {
        check(
            &registry(),
            &operation(text),
            &Variables::from_json(variables),
        )
    }

    #[test]
    fn a_required_variable_must_be_sent() {
        let query = "query ($slug: String!) { article(slug: $slug) { id } }";
        assert_eq!(
            checked(query, serde_json::json!({})),
            Err(VariableError::Missing {
                name: "slug".into(),
                ty: "String!".into()
            })
        );
        assert!(checked(query, serde_json::json!({ "slug": null })).is_err());
        assert!(checked(query, serde_json::json!({ "slug": "x" })).is_ok());
        // A default stands in for a value not sent; a nullable one may be left out.
        let defaulted = "query ($slug: String! = \"x\", $n: Int) { article(slug: $slug) { id } }";
        assert!(checked(defaulted, serde_json::json!({})).is_ok());
    }

    #[test]
    fn values_are_held_to_their_types() {
        let query = "query ($first: Int, $ids: [ID!]) { nodes(ids: $ids) { id } articles(first: $first) { totalCount } }";
        assert!(checked(query, serde_json::json!({ "first": 3, "ids": ["a", 1] })).is_ok());
        assert!(checked(query, serde_json::json!({ "first": "three" })).is_err());
        assert!(checked(query, serde_json::json!({ "first": 3_000_000_000_u64 })).is_err());
        // One value stands for a list of one; a null item of a non-null list does not.
        assert!(checked(query, serde_json::json!({ "ids": "a" })).is_ok());
        let error = checked(query, serde_json::json!({ "ids": ["a", null] }));
        assert!(
            matches!(&error, Err(VariableError::Invalid { at, .. }) if at == " at \"ids[1]\""),
            "{error:?}"
        );
    }
}
