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
//!
//! The order of a selection is worked out once, when the first value it applies to
//! is met, and shared by every value at the same place (the items of a list, and
//! the same field of each of them). An object already in order is left as it is;
//! one that is not is sorted in place, without hashing its keys again.

use std::cell::OnceCell;

use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// Orders the data of the response to `operation` of `document`.
pub fn restore(data: &mut Value, document: &ExecutableDocument, operation: &OperationDefinition) {
    let plan = Plan::new(&[&operation.selection_set.node], document);
    place(data, &plan, document);
}

/// The response keys of the selection sets that apply at one place of the
/// response (several when fields are merged), in order.
struct Plan<'d> {
    keys: Vec<Key<'d>>,
}

/// One response key: the selection sets of its value, and their plan once needed.
struct Key<'d> {
    name: &'d Name,
    sets: Vec<&'d SelectionSet>,
    plan: OnceCell<Plan<'d>>,
}

impl<'d> Plan<'d> {
    fn new(sets: &[&'d SelectionSet], document: &'d ExecutableDocument) -> Self {
        let mut plan = Self { keys: Vec::new() };
        let mut spreading = Vec::new();
        for set in sets {
            plan.collect(set, document, &mut spreading);
        }
        plan
    }

    /// Adds the response keys of `set`, in order, merging repeated ones. A fragment
    /// already being spread is not spread again (validation refuses such documents,
    /// and [`crate::graphql::guard`] before it; this keeps the walk finite anyway).
    fn collect(
        &mut self,
        set: &'d SelectionSet,
        document: &'d ExecutableDocument,
        spreading: &mut Vec<&'d Name>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = &field.node.response_key().node;
                    let subset = &field.node.selection_set.node;
                    match self.keys.iter_mut().find(|key| key.name == name) {
                        Some(key) => key.sets.push(subset),
                        None => self.keys.push(Key {
                            name,
                            sets: vec![subset],
                            plan: OnceCell::new(),
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if spreading.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = document.fragments.get(name) {
                        spreading.push(name);
                        self.collect(&fragment.node.selection_set.node, document, spreading);
                        spreading.pop();
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.collect(&fragment.node.selection_set.node, document, spreading);
                }
            }
        }
    }

    /// Where `name` goes; a key the selection does not name (there should be
    /// none) goes last.
    fn rank(&self, name: &Name) -> usize {
        self.keys
            .iter()
            .position(|key| same(key.name, name))
            .unwrap_or(usize::MAX)
    }
}

/// Whether two response keys are the same. The keys of a response are the
/// document's own names (shared, not copied), so their addresses mostly tell
/// before their texts are compared.
fn same(a: &Name, b: &Name) -> bool {
    std::ptr::eq(a.as_str(), b.as_str()) || a == b
}

/// Puts the fields of `value` (and of everything in it) in the order of `plan`.
fn place<'d>(value: &mut Value, plan: &Plan<'d>, document: &'d ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                place(item, plan, document);
            }
        }
        Value::Object(fields) => {
            if !fields.keys().map(|name| plan.rank(name)).is_sorted() {
                // A stable sort: keys the selection does not name keep their order.
                fields.sort_by_cached_key(|name, _| plan.rank(name));
            }
            for (name, field) in fields.iter_mut() {
                if let Value::List(_) | Value::Object(_) = field
                    && let Some(key) = plan.keys.iter().find(|key| same(key.name, name))
                {
                    let inner = key.plan.get_or_init(|| Plan::new(&key.sets, document));
                    place(field, inner, document);
                }
            }
        }
        _ => {}
    }
}
