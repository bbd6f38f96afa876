//! Completing a response as the spec says, once the operation has run.
//!
//! async-graphql's executor departs from the spec's execution in three ways, each
//! made good here on the response it returns, for the fast path and the stock one
//! alike:
//!
//! - **Order.** It resolves the fields of an object concurrently and writes each
//!   into the response as it finishes, so a field waiting on a batched load lands
//!   after the fields that follow it in the query. The spec asks for the query's
//!   order ("Serialized Map Ordering"), and a stable order lets clients and caches
//!   compare responses byte for byte. [`complete`] puts each object's fields back
//!   in the order its selection sets give, fragments included.
//! - **Runtime types.** The fields of a fragment whose type condition does not
//!   apply to an object are not collected for it (6.3.2 "CollectFields"), so the
//!   order of an object's keys follows its own type: for `... on Person { name id }
//!   ... on Article { title id }` an article is `title, id`. Where a selection set
//!   on an interface or a union holds such fragments, [`type_sets`] adds to it a
//!   `__typename` under a response key no client can write ([`TYPE_KEY`]); the
//!   completion reads each object's type there and removes it. The same hidden
//!   field goes into a selection set all of whose selections carry `@skip` or
//!   `@include`: an object none of whose fields is collected is `{}` for the spec,
//!   where async-graphql answers `null` (as it does for an object whose fragments
//!   all are on other types).
//! - **Field errors.** It drops the key of a field whose resolver fails, and never
//!   makes a parent null for a non-null field. The spec (6.4.4 "Handling Field
//!   Errors") puts `null` in place, and a `null` where the type is non-null makes
//!   the nearest nullable parent `null`, up to `data` itself. [`complete`] reads
//!   each error's `path`, puts the `null` where the field was, and propagates it.
//!   One case cannot be made good after the fact: async-graphql drops a whole list
//!   when one item fails, so an item of a list of nullable scalars that fails takes
//!   the list with it (no field of bantin's schema has such items).
//!
//! The order of a selection is worked out once, when the first value it applies to
//! is met, and shared by every value at the same place (the items of a list, and
//! the same field of each of them), for each runtime type met there. An object
//! already in order is left as it is; one that is not is sorted in place, without
//! hashing its keys again.

use std::cell::OnceCell;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, PathSegment, Pos, Positioned, Response, Value};

/// The response key of the hidden `__typename`: not a GraphQL name, so no client's
/// alias can take it.
pub const TYPE_KEY: &str = "#type";

/// How deep [`type_sets`] looks into a document: deeper than any document the
/// limits let run ([`crate::graphql::guard`] refuses those before they do).
const MAX_TYPED_DEPTH: usize = 64;

/// Adds the hidden `__typename` ([`TYPE_KEY`]) to each selection set on an
/// interface or a union that holds a fragment on another type, and to each whose
/// every selection carries a directive, in the operations and the fragments of
/// `document`. Documents without such sets are untouched.
pub fn type_sets(document: &mut ExecutableDocument, registry: &Registry) {
    let conditions: Vec<(Name, Name)> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            (
                name.clone(),
                fragment.node.type_condition.node.on.node.clone(),
            )
        })
        .collect();
    let typing = Typing {
        registry,
        conditions: &conditions,
    };
    let operations: Vec<&mut Positioned<OperationDefinition>> = match &mut document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values_mut().collect(),
    };
    for operation in operations {
        let root = root_type(registry, &operation.node);
        typing.set(&mut operation.node.selection_set.node, root, 0);
    }
    for fragment in document.fragments.values_mut() {
        let on = fragment.node.type_condition.node.on.node.clone();
        typing.set(&mut fragment.node.selection_set.node, &on, 0);
    }
}

/// The walk of [`type_sets`].
struct Typing<'r> {
    registry: &'r Registry,
    /// Each fragment's type condition, by name.
    conditions: &'r [(Name, Name)],
}

impl Typing<'_> {
    fn set(&self, set: &mut SelectionSet, ty: &str, depth: usize) {
        if depth > MAX_TYPED_DEPTH {
            return;
        }
        let mut other_types = false;
        for selection in &mut set.items {
            match &mut selection.node {
                Selection::Field(field) => {
                    let field = &mut field.node;
                    if field.selection_set.node.items.is_empty() {
                        continue;
                    }
                    let inner = self
                        .registry
                        .types
                        .get(ty)
                        .and_then(|parent| parent.field_by_name(&field.name.node))
                        .map(|meta| MetaTypeName::concrete_typename(&meta.ty).to_owned());
                    if let Some(inner) = inner {
                        self.set(&mut field.selection_set.node, &inner, depth + 1);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &mut fragment.node;
                    let on = fragment
                        .type_condition
                        .as_ref()
                        .map_or_else(|| ty.to_owned(), |on| on.node.on.node.to_string());
                    other_types |= on != ty;
                    self.set(&mut fragment.selection_set.node, &on, depth + 1);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    other_types |= self
                        .conditions
                        .iter()
                        .any(|(fragment, on)| fragment == name && on.as_str() != ty);
                }
            }
        }
        let abstract_type = matches!(
            self.registry.types.get(ty),
            Some(MetaType::Interface { .. } | MetaType::Union { .. })
        );
        // Every selection may be skipped (`@skip`, `@include`): an object of none
        // is `{}`, which async-graphql answers `null`; the hidden field keeps it
        // an object.
        let all_directed = !set.items.is_empty()
            && set.items.iter().all(|selection| match &selection.node {
                Selection::Field(field) => !field.node.directives.is_empty(),
                Selection::InlineFragment(fragment) => !fragment.node.directives.is_empty(),
                Selection::FragmentSpread(spread) => !spread.node.directives.is_empty(),
            });
        if (abstract_type && other_types) || all_directed {
            set.items
                .insert(0, type_field(set.items.first().map(|s| s.pos)));
        }
    }
}

/// `#type: __typename`.
fn type_field(pos: Option<Pos>) -> Positioned<Selection> {
    let pos = pos.unwrap_or_default();
    let field = Field {
        alias: Some(Positioned::new(Name::new(TYPE_KEY), pos)),
        name: Positioned::new(Name::new("__typename"), pos),
        arguments: Vec::new(),
        directives: Vec::new(),
        selection_set: Positioned::new(SelectionSet::default(), pos),
    };
    Positioned::new(Selection::Field(Positioned::new(field, pos)), pos)
}

/// The name of the root type of `operation`.
fn root_type<'r>(registry: &'r Registry, operation: &OperationDefinition) -> &'r str {
    let root = match operation.ty {
        OperationType::Query => Some(&registry.query_type),
        OperationType::Mutation => registry.mutation_type.as_ref(),
        OperationType::Subscription => registry.subscription_type.as_ref(),
    };
    root.map_or("", String::as_str)
}

/// Completes the response to `operation` of `document` (see the module's comment):
/// failed fields `null` in place and propagated, the hidden types read and removed,
/// every object's keys in the order of its selection for its type.
pub fn complete(
    response: &mut Response,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    registry: &Registry,
) {
    let walk = Walk { document, registry };
    let root = Plans::new(
        vec![&operation.selection_set.node],
        root_type(registry, operation),
        &walk,
    );
    if response.errors.iter().any(|error| !error.path.is_empty()) {
        null_failures(response, &root, &walk);
    }
    if response.data != Value::Null {
        place(&mut response.data, &root, &walk);
    }
}

/// What the completion reads: the document and the schema's types.
struct Walk<'a> {
    document: &'a ExecutableDocument,
    registry: &'a Registry,
}

/// The plans of one place of the response: for its objects of each runtime type,
/// and for objects whose type is not told (their selection has no fragment on
/// another type, so every fragment in it applies).
struct Plans<'a> {
    sets: Vec<&'a SelectionSet>,
    /// The named type of the values at this place, as the schema declares it.
    ty: &'a str,
    untyped: OnceCell<Plan<'a>>,
    /// For an interface or a union: a plan for each of its possible types.
    typed: Vec<(&'a str, OnceCell<Plan<'a>>)>,
}

/// The response keys of the selection sets that apply to one type at one place of
/// the response, in order.
struct Plan<'a> {
    /// The type of the objects it applies to.
    ty: &'a str,
    keys: Vec<Key<'a>>,
    /// Whether its objects tell their type under [`TYPE_KEY`].
    typed: bool,
}

/// One response key: the field it answers, the selection sets of its value, and
/// their plans once needed.
struct Key<'a> {
    name: &'a Name,
    field: &'a Name,
    sets: Vec<&'a SelectionSet>,
    plans: OnceCell<Plans<'a>>,
}

impl<'a> Plans<'a> {
    fn new(sets: Vec<&'a SelectionSet>, ty: &'a str, walk: &Walk<'a>) -> Self {
        let typed = walk
            .registry
            .types
            .get(ty)
            .and_then(MetaType::possible_types)
            .map(|types| {
                types
                    .iter()
                    .map(|name| (name.as_str(), OnceCell::new()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            sets,
            ty,
            untyped: OnceCell::new(),
            typed,
        }
    }

    /// The plan for an object whose runtime type is `runtime` (when told).
    fn plan(&self, runtime: Option<&str>, walk: &Walk<'a>) -> &Plan<'a> {
        if let Some(runtime) = runtime
            && let Some((ty, plan)) = self.typed.iter().find(|(ty, _)| *ty == runtime)
        {
            return plan.get_or_init(|| Plan::new(&self.sets, ty, true, walk));
        }
        // Where the type is an interface or a union, or one the schema's types do
        // not hold (introspection's), every fragment is taken.
        let exact = self.typed.is_empty() && !self.ty.is_empty();
        self.untyped
            .get_or_init(|| Plan::new(&self.sets, self.ty, exact, walk))
    }

    /// The plan for `fields`, an object at this place.
    fn plan_of(
        &self,
        fields: &async_graphql::indexmap::IndexMap<Name, Value>,
        walk: &Walk<'a>,
    ) -> &Plan<'a> {
        let plan = self.plan(None, walk);
        if !plan.typed {
            return plan;
        }
        match fields.get(TYPE_KEY) {
            Some(Value::String(runtime)) => self.plan(Some(runtime), walk),
            _ => plan,
        }
    }
}

impl<'a> Plan<'a> {
    /// The plan of `sets` for objects of type `ty`; with `exact`, the fragments
    /// whose type condition does not apply to `ty` are left out (without, `ty` is an
    /// interface or a union and all are taken).
    fn new(sets: &[&'a SelectionSet], ty: &'a str, exact: bool, walk: &Walk<'a>) -> Self {
        let mut plan = Self {
            ty,
            keys: Vec::new(),
            typed: false,
        };
        let mut spreading = Vec::new();
        for set in sets {
            plan.collect(set, exact, walk, &mut spreading);
        }
        plan.typed = plan.keys.iter().any(|key| key.name.as_str() == TYPE_KEY);
        plan
    }

    /// Whether a fragment on `condition` applies to this plan's objects.
    fn applies(&self, condition: &str, exact: bool, walk: &Walk<'a>) -> bool {
        !exact
            || condition == self.ty
            || walk
                .registry
                .types
                .get(condition)
                .is_some_and(|on| on.is_possible_type(self.ty))
    }

    /// Adds the response keys of `set`, in order, merging repeated ones. A fragment
    /// already being spread is not spread again (validation refuses such documents,
    /// and [`crate::graphql::guard`] before it; this keeps the walk finite anyway).
    fn collect(
        &mut self,
        set: &'a SelectionSet,
        exact: bool,
        walk: &Walk<'a>,
        spreading: &mut Vec<&'a Name>,
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
                            field: &field.node.name.node,
                            sets: vec![subset],
                            plans: OnceCell::new(),
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if spreading.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = walk.document.fragments.get(name)
                        && self.applies(&fragment.node.type_condition.node.on.node, exact, walk)
                    {
                        spreading.push(name);
                        self.collect(&fragment.node.selection_set.node, exact, walk, spreading);
                        spreading.pop();
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .is_none_or(|on| self.applies(&on.node.on.node, exact, walk));
                    if applies {
                        self.collect(&fragment.node.selection_set.node, exact, walk, spreading);
                    }
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

    fn key(&self, name: &str) -> Option<&Key<'a>> {
        self.keys.iter().find(|key| key.name.as_str() == name)
    }

    /// The type of the field `key` answers on this plan's objects, as the schema
    /// writes it (`[Article!]!`), when the schema has it.
    fn field_type(&self, key: &Key<'a>, walk: &Walk<'a>) -> Option<&'a str> {
        walk.registry
            .types
            .get(self.ty)
            .and_then(|ty| ty.field_by_name(key.field))
            .map(|field| field.ty.as_str())
    }
}

impl<'a> Key<'a> {
    /// The plans of this key's values, on objects of `plan`.
    fn plans(&self, plan: &Plan<'a>, walk: &Walk<'a>) -> &Plans<'a> {
        self.plans.get_or_init(|| {
            let ty = plan
                .field_type(self, walk)
                .map_or("", MetaTypeName::concrete_typename);
            let ty = walk
                .registry
                .types
                .get_key_value(ty)
                .map_or("", |(name, _)| name.as_str());
            Plans::new(self.sets.clone(), ty, walk)
        })
    }
}

/// Whether two response keys are the same. The keys of a response are the
/// document's own names (shared, not copied), so their addresses mostly tell
/// before their texts are compared.
fn same(a: &Name, b: &Name) -> bool {
    std::ptr::eq(a.as_str(), b.as_str()) || a == b
}

/// Puts the fields of `value` (and of everything in it) in the order of its plan,
/// and takes out the hidden types.
fn place<'a>(value: &mut Value, plans: &Plans<'a>, walk: &Walk<'a>) {
    match value {
        Value::List(items) => {
            for item in items {
                place(item, plans, walk);
            }
        }
        Value::Object(fields) => {
            let plan = plans.plan_of(fields, walk);
            if plan.typed {
                fields.swap_remove(TYPE_KEY);
            }
            if !fields.keys().map(|name| plan.rank(name)).is_sorted() {
                // A stable sort: keys the selection does not name keep their order.
                fields.sort_by_cached_key(|name, _| plan.rank(name));
            }
            for (name, field) in fields.iter_mut() {
                if let Value::List(_) | Value::Object(_) = field
                    && let Some(key) = plan.keys.iter().find(|key| same(key.name, name))
                {
                    place(field, key.plans(plan, walk), walk);
                }
            }
        }
        _ => {}
    }
}

/// Puts `null` where each failed field was, and makes the nearest nullable place
/// above a failure `null` (6.4.4): first every failure's `null` is put in place
/// (an object all of whose fields failed is `null` in async-graphql's answer and
/// is made an object again to hold them), then the places to make `null` are
/// found for all of them, on the data as it stands, and only then made `null`, so
/// that one failure's propagation does not hide the path of another.
fn null_failures<'a>(response: &mut Response, root: &Plans<'a>, walk: &Walk<'a>) {
    let mut failures = Vec::new();
    for error in &response.errors {
        if error.path.is_empty() {
            continue;
        }
        let reached = put_null(&mut response.data, &error.path);
        failures.push(&error.path[..reached]);
    }
    let mut targets: Vec<Option<&[PathSegment]>> = Vec::new();
    for path in failures {
        let nullable = nullable_prefix(&response.data, path, root, walk);
        targets.push(nullable.map(|length| &path[..length]));
    }
    for target in targets {
        match target {
            None => response.data = Value::Null,
            Some(path) => {
                if let Some(place) = find_mut(&mut response.data, path) {
                    *place = Value::Null;
                }
            }
        }
    }
}

/// Puts `null` at the end of `path`, making objects of the `null`s above it that
/// async-graphql left for objects whose every field failed. Returns how many of
/// the path's segments lead to the place the failure was found at: all of them,
/// or fewer where async-graphql dropped a list with one of its items.
fn put_null(data: &mut Value, path: &[PathSegment]) -> usize {
    let mut place = data;
    for (depth, segment) in path.iter().enumerate() {
        match segment {
            PathSegment::Field(name) => {
                if *place == Value::Null {
                    *place = Value::Object(Default::default());
                }
                let Value::Object(fields) = place else {
                    return depth;
                };
                if !fields.contains_key(name.as_str()) {
                    fields.insert(Name::new(name), Value::Null);
                    return depth + 1;
                }
                match fields.get_mut(name.as_str()) {
                    Some(field) => place = field,
                    None => return depth,
                }
            }
            PathSegment::Index(index) => match place {
                Value::List(items) if *index < items.len() => place = &mut items[*index],
                _ => return depth,
            },
        }
    }
    path.len()
}

/// How many segments of `path` lead to the nearest place at or above its end
/// whose type is nullable; `None` when there is none, and `data` itself is to be
/// `null`.
fn nullable_prefix<'a>(
    data: &Value,
    path: &[PathSegment],
    root: &Plans<'a>,
    walk: &Walk<'a>,
) -> Option<usize> {
    let mut nearest = None;
    let mut place = data;
    let mut plans = root;
    let mut ty = "";
    for (depth, segment) in path.iter().enumerate() {
        match segment {
            PathSegment::Field(name) => {
                let Value::Object(fields) = place else {
                    break;
                };
                let plan = plans.plan_of(fields, walk);
                let (Some(key), Some(field)) = (plan.key(name), fields.get(name.as_str())) else {
                    break;
                };
                // A field the schema does not know (an introspection field) is
                // taken for nullable.
                ty = plan.field_type(key, walk).unwrap_or("");
                plans = key.plans(plan, walk);
                place = field;
            }
            PathSegment::Index(index) => {
                let Value::List(items) = place else {
                    break;
                };
                ty = item_type(ty);
                match items.get(*index) {
                    Some(item) => place = item,
                    None => break,
                }
            }
        }
        if !ty.ends_with('!') {
            nearest = Some(depth + 1);
        }
    }
    nearest
}

/// The type of the items of a list type: `[Article!]!` → `Article!`.
fn item_type(ty: &str) -> &str {
    ty.strip_suffix('!')
        .unwrap_or(ty)
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or("")
}

/// The place at the end of `path`, if the data has one.
fn find_mut<'v>(data: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let mut place = data;
    for segment in path {
        place = match (segment, place) {
            (PathSegment::Field(name), Value::Object(fields)) => fields.get_mut(name.as_str())?,
            (PathSegment::Index(index), Value::List(items)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(place)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_items_of_a_list_type() {
        assert_eq!(item_type("[Article!]!"), "Article!");
        assert_eq!(item_type("[Article]"), "Article");
        assert_eq!(item_type("[[Int!]]!"), "[Int!]");
        assert_eq!(item_type("Article!"), "");
    }
}
