//! Responses keep the order of the query's fields.
//!
//! async-graphql resolves the fields of an object concurrently and writes each
//! into the response as it finishes, so a field waiting on a batched load lands
//! after the fields that follow it in the query. The spec asks for the query's
//! order ("Serialized Map Ordering"), and a stable order lets clients and caches
//! compare responses byte for byte. Once the operation has run, [`restore`] puts
//! each object's fields back in the order the selection sets give (fragments
//! included). It runs after execution rather than as an async-graphql extension:
//! an installed extension wraps the resolution of every field, which cost a third
//! more CPU on a front page.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// Orders the data of the response to `operation` of `document`.
pub fn restore(data: &mut Value, document: &ExecutableDocument, operation: &OperationDefinition) {
    order(data, &[&operation.selection_set.node], document);
}

/// Puts the fields of `value` (and of everything in it) in the order of `sets`,
/// the selection sets that apply to it (several when fields are merged).
fn order(value: &mut Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                order(item, sets, document);
            }
        }
        Value::Object(fields) => {
            let mut wanted: IndexMap<&Name, Vec<&SelectionSet>> = IndexMap::new();
            for set in sets {
                collect(set, document, &mut wanted);
            }
            let mut unordered = std::mem::take(fields);
            for (key, subsets) in wanted {
                if let Some(mut field) = unordered.shift_remove(key) {
                    order(&mut field, &subsets, document);
                    fields.insert(key.clone(), field);
                }
            }
            // Anything the selection does not name (there should be nothing) stays.
            fields.extend(unordered);
        }
        _ => {}
    }
}

/// The response keys a selection set yields, in order, with their sub-selections.
fn collect<'d>(
    set: &'d SelectionSet,
    document: &'d ExecutableDocument,
    wanted: &mut IndexMap<&'d Name, Vec<&'d SelectionSet>>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => wanted
                .entry(&field.node.response_key().node)
                .or_default()
                .push(&field.node.selection_set.node),
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, document, wanted);
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, document, wanted);
            }
        }
    }
}
