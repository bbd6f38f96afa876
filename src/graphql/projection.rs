//! Which fields an operation selects on each object type, so the loaders may read
//! rows in part ([`entity::decode::Light`]) when nothing asks for the rest.
//!
//! The walk goes over the whole operation, fragments included, with the schema's
//! types: a field selected on an interface or a union counts for every object type
//! it may be. A field is counted whatever its directives say, so a `@skip` only
//! makes rows heavier; so the projection of a document holds for every request
//! with it, and is worked out once (`crate::graphql::documents::Parsed`). A
//! mutation, and a query that searches (the search reads the texts of the rows it
//! finds for its snippets), reads whole rows.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Context, Name, Positioned};

/// The root fields whose resolvers read rows beyond the fields selected on them.
const READS_WHOLE_ROWS: &[&str] = &["search"];

/// Arguments that make a resolver read fields of the rows it returns, as if they
/// were selected: (object type, field, argument, field read on the field's type).
/// `positions(at:)` keeps the positions held on a day, which reads their dates.
const ARGUMENTS_READ: &[(&str, &str, &str, &str)] = &[
    ("Person", "positions", "at", "heldOn"),
    ("Organization", "positions", "at", "heldOn"),
];

/// The fields selected on each object type.
#[derive(Debug, Default)]
pub struct Projection {
    selected: HashMap<String, HashSet<String>>,
    whole_rows: bool,
    /// Whether the operation only reads (a query), so rows read ahead of their
    /// lookup cannot go stale within it.
    reads_only: bool,
}

impl Projection {
    /// Whole rows and nothing read ahead: as if every field were selected by a
    /// mutation. What the stock executor runs with ([`crate::graphql::inline::Stock`]).
    pub fn whole() -> Self {
        Self {
            whole_rows: true,
            ..Self::default()
        }
    }

    /// The projection of the operation being run.
    pub fn of(ctx: &Context<'_>) -> Self {
        let env = &ctx.query_env;
        Self::walk(
            &ctx.schema_env.registry,
            &env.operation.node,
            &env.fragments,
        )
    }

    /// The projection of the one operation of `document`, as written (directives
    /// aside, as always), so that it holds for every request with the document;
    /// `None` for a document of several operations.
    pub fn of_document(registry: &Registry, document: &ExecutableDocument) -> Option<Self> {
        let operation = match &document.operations {
            DocumentOperations::Single(operation) => operation,
            DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                operations.values().next()?
            }
            DocumentOperations::Multiple(_) => return None,
        };
        Some(Self::walk(registry, &operation.node, &document.fragments))
    }

    fn walk(
        registry: &Registry,
        operation: &OperationDefinition,
        fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    ) -> Self {
        let reads_only = operation.ty == OperationType::Query;
        let mut projection = Self {
            whole_rows: !reads_only,
            reads_only,
            ..Self::default()
        };
        let walk = Walk {
            registry,
            fragments,
        };
        let root = walk.registry.query_type.clone();
        walk.selection_set(&mut projection, &operation.selection_set.node, &root, 0);
        if READS_WHOLE_ROWS
            .iter()
            .any(|field| projection.selects(&root, field))
        {
            projection.whole_rows = true;
        }
        projection
    }

    /// Whether every field selected on `object` is one of `fields` (`__typename`
    /// is always one); false when nothing is selected on it.
    pub fn reads_only(&self, object: &str, fields: &[&str]) -> bool {
        !self.whole_rows
            && self.selected.get(object).is_some_and(|selected| {
                selected
                    .iter()
                    .all(|field| field == "__typename" || fields.contains(&field.as_str()))
            })
    }

    /// Whether a query (not a mutation) selects `field` on `object`: rows it will
    /// look up may then be read ahead, along with others.
    pub fn reads_ahead(&self, object: &str, field: &str) -> bool {
        self.reads_only && self.selects(object, field)
    }

    fn selects(&self, object: &str, field: &str) -> bool {
        self.selected
            .get(object)
            .is_some_and(|selected| selected.contains(field))
    }

    fn add(&mut self, object: &str, field: &str) {
        self.selected
            .entry(object.to_owned())
            .or_default()
            .insert(field.to_owned());
    }
}

/// Whether the selection of the field `ctx` resolves selects the fields of `path`,
/// each under the one before, under any alias and through fragments: what
/// async-graphql's `Lookahead` tells, without the lists it allocates at each step
/// (a root field asks this of each relation its rows may read right after them).
pub fn shows(ctx: &Context<'_>, path: &[&str]) -> bool {
    selects_path(
        &ctx.item.node.selection_set.node,
        path,
        &ctx.query_env.fragments,
    )
}

fn selects_path(
    set: &SelectionSet,
    path: &[&str],
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    // Validation has refused fragments that spread themselves.
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => {
            field.node.name.node == *first
                && selects_path(&field.node.selection_set.node, rest, fragments)
        }
        Selection::FragmentSpread(spread) => fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|fragment| {
                selects_path(&fragment.node.selection_set.node, path, fragments)
            }),
        Selection::InlineFragment(fragment) => {
            selects_path(&fragment.node.selection_set.node, path, fragments)
        }
    })
}

/// Deeper than this the walk gives up and asks for whole rows (validation already
/// bounds the depth of a query; this only keeps a cycle of fragments finite).
const MAX_DEPTH: usize = 64;

struct Walk<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
}

impl Walk<'_> {
    fn selection_set(&self, into: &mut Projection, set: &SelectionSet, on: &str, depth: usize) {
        if depth > MAX_DEPTH {
            into.whole_rows = true;
            return;
        }
        let Some(parent) = self.registry.types.get(on) else {
            into.whole_rows = true;
            return;
        };
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name.starts_with("__") && name != "__typename" {
                        // Introspection reads the schema, not rows.
                        continue;
                    }
                    let objects = self.objects(parent);
                    for object in &objects {
                        into.add(object, name);
                    }
                    if field.node.selection_set.node.items.is_empty() {
                        continue;
                    }
                    let Some(meta) = parent.field_by_name(name) else {
                        into.whole_rows = true;
                        continue;
                    };
                    let ty = MetaTypeName::concrete_typename(&meta.ty);
                    for (_, _, _, read) in
                        ARGUMENTS_READ.iter().filter(|(object, on, argument, _)| {
                            *on == name
                                && objects.contains(object)
                                && field.node.get_argument(argument).is_some()
                        })
                    {
                        into.add(ty, read);
                    }
                    self.selection_set(into, &field.node.selection_set.node, ty, depth + 1);
                }
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.node.fragment_name.node) {
                        Some(fragment) => self.selection_set(
                            into,
                            &fragment.node.selection_set.node,
                            &fragment.node.type_condition.node.on.node,
                            depth + 1,
                        ),
                        None => into.whole_rows = true,
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(on, |condition| condition.node.on.node.as_str());
                    self.selection_set(into, &fragment.node.selection_set.node, on, depth + 1);
                }
            }
        }
    }

    /// The object types a value of `ty` may be.
    fn objects<'t>(&self, ty: &'t MetaType) -> Vec<&'t str> {
        match ty.possible_types() {
            Some(possible) => possible.iter().map(String::as_str).collect(),
            None => vec![ty.name()],
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::{DocumentOperations, Selection};

    use super::selects_path;

    /// A path of fields is found by name whatever the aliases, through named and
    /// inline fragments, and only where each field is under the one before.
    #[test]
    fn a_path_is_found_through_aliases_and_fragments() -> anyhow::Result<()> {
        let document = parse_query(
            "{ articles { all: nodes { title ...People } edges { ... on ArticleEdge { node { slug } } } } }
             fragment People on Article { mentioned: people { name } }",
        )?;
        let DocumentOperations::Single(operation) = &document.operations else {
            anyhow::bail!("one operation");
        };
        let Selection::Field(articles) = &operation.node.selection_set.node.items[0].node else {
            anyhow::bail!("a field");
        };
        let set = &articles.node.selection_set.node;
        let shows = |path: &[&str]| selects_path(set, path, &document.fragments);
        assert!(shows(&["nodes", "title"]));
        assert!(shows(&["nodes", "people", "name"]));
        assert!(shows(&["edges", "node", "slug"]));
        assert!(!shows(&["nodes", "slug"]));
        assert!(!shows(&["all"]));
        assert!(!shows(&["mentioned"]));
        assert!(!shows(&["people"]));
        assert!(!shows(&["nodes", "people", "positions"]));
        Ok(())
    }
}
