//! Bounds on a client's document, checked before anything else walks it.
//!
//! async-graphql's validation expands every fragment spread where it stands (its
//! complexity and depth visitors do), so a document of a few hundred bytes whose
//! fragments spread each other two at a time costs 2^n steps before it is refused,
//! and one whose fragment spreads itself never ends. [`check`] runs first, on the
//! parsed document, and costs what the document's text costs: each fragment is
//! summed up once ([`Summary`]) and a spread adds its fragment's sums, so nothing
//! is ever expanded. A fragment that spreads itself, directly or not, is refused
//! here (the spec's "Fragment spreads must not form cycles", 5.5.2.2), and so is a
//! document whose spreads would expand to more selections than
//! [`DocumentLimits::max_selections`], however they nest.
//!
//! The same pass measures what the operation asks of the server, with the values
//! of its variables: its depth (the data's and, apart, the introspection's), and
//! its cost ([`cost`]), where a field that reads the database counts at least one
//! whatever its page size and counts and searches weigh what they cost. The limits
//! of a document's shape (aliases, root fields, directives) are counted here too.
//! Every refusal is a [`Refusal`], with its own code and the figures that broke
//! the limit.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::{ConstValue, Value};

/// The limits [`check`] holds a document to.
#[derive(Clone, Debug)]
pub struct DocumentLimits {
    /// Deepest nesting of data fields.
    pub max_depth: usize,
    /// Deepest nesting under `__schema` or `__type`, counted apart from the data's:
    /// introspection reads no rows, and the standard introspection queries of
    /// GraphQL tools nest deeper than any page of content.
    pub max_introspection_depth: usize,
    /// Highest cost (see [`cost`]).
    pub max_cost: u64,
    /// Most selections the document's fragment spreads may expand to.
    pub max_selections: u64,
    /// Most aliases in the document.
    pub max_aliases: usize,
    /// Most fields at the root of the operation (fragments expanded).
    pub max_root_fields: usize,
    /// Most directives in the document.
    pub max_directives: usize,
    /// Whether `__schema` and `__type` are answered.
    pub introspection: bool,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_introspection_depth: 16,
            max_cost: 20_000,
            max_selections: 5_000,
            max_aliases: 64,
            max_root_fields: 32,
            max_directives: 64,
            introspection: true,
        }
    }
}

/// Why a document is refused before it runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A fragment spreads itself, directly or through others (spec 5.5.2.2).
    #[error("fragment \"{0}\" spreads itself")]
    FragmentCycle(String),
    /// Fragment spreads nested deeper than [`MAX_SPREAD_CHAIN`].
    #[error("fragment spreads are nested more than {limit} deep")]
    SpreadChain { limit: usize },
    /// The document's spreads expand to too many selections.
    #[error("the query expands to more than {limit} selections")]
    TooManySelections { limit: u64 },
    /// The data is nested too deep.
    #[error("the query is nested {depth} deep, deeper than the limit of {limit}")]
    TooDeep { depth: usize, limit: usize },
    /// The introspection is nested too deep.
    #[error("the introspection is nested {depth} deep, deeper than the limit of {limit}")]
    IntrospectionTooDeep { depth: usize, limit: usize },
    /// Introspection lists nested in lists past [`MAX_INTROSPECTION_LISTS`].
    #[error(
        "the introspection nests {lists} lists of the schema's members, more than the limit of {limit}"
    )]
    IntrospectionTooWide { lists: usize, limit: usize },
    /// The operation costs too much.
    #[error("the query costs {cost}, more than the limit of {limit}")]
    TooCostly { cost: u64, limit: u64 },
    /// Too many aliases.
    #[error("the query has {count} aliases, more than the limit of {limit}")]
    TooManyAliases { count: usize, limit: usize },
    /// Too many root fields.
    #[error("the query has {count} root fields, more than the limit of {limit}")]
    TooManyRootFields { count: usize, limit: usize },
    /// Too many directives.
    #[error("the query has {count} directives, more than the limit of {limit}")]
    TooManyDirectives { count: usize, limit: usize },
    /// Introspection asked of a server where it is turned off.
    #[error("introspection is turned off on this server")]
    IntrospectionOff,
}

impl Refusal {
    /// The `extensions.code` of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FragmentCycle(_) => "BAD_USER_INPUT",
            Self::SpreadChain { .. }
            | Self::TooManySelections { .. }
            | Self::TooDeep { .. }
            | Self::IntrospectionTooDeep { .. }
            | Self::IntrospectionTooWide { .. }
            | Self::TooCostly { .. } => "QUERY_TOO_COMPLEX",
            Self::TooManyAliases { .. } => "TOO_MANY_ALIASES",
            Self::TooManyRootFields { .. } => "TOO_MANY_ROOT_FIELDS",
            Self::TooManyDirectives { .. } => "TOO_MANY_DIRECTIVES",
            Self::IntrospectionOff => "FORBIDDEN",
        }
    }

    /// The figures of the refusal, for `extensions`: what was measured and the limit.
    pub fn figures(&self) -> Vec<(&'static str, u64)> {
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        match *self {
            Self::FragmentCycle(_) | Self::IntrospectionOff => Vec::new(),
            Self::SpreadChain { limit } => vec![("limit", wide(limit))],
            Self::TooManySelections { limit } => vec![("limit", limit)],
            Self::TooDeep { depth, limit } | Self::IntrospectionTooDeep { depth, limit } => {
                vec![("depth", wide(depth)), ("limit", wide(limit))]
            }
            Self::TooCostly { cost, limit } => vec![("cost", cost), ("limit", limit)],
            Self::IntrospectionTooWide { lists, limit } => {
                vec![("lists", wide(lists)), ("limit", wide(limit))]
            }
            Self::TooManyAliases { count, limit }
            | Self::TooManyRootFields { count, limit }
            | Self::TooManyDirectives { count, limit } => {
                vec![("count", wide(count)), ("limit", wide(limit))]
            }
        }
    }
}

/// The introspection fields that list the schema's members, and how deep they may
/// nest in one another. Each lists tens to hundreds of items, and the schema's
/// types lead to one another (a field's type has fields, whose types have fields):
/// `types { fields { type { fields { type { fields … } } } } }` answers millions of
/// objects within the depth limit. The standard introspection queries nest three
/// (`types { fields { args } }`).
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "args",
    "directives",
];
pub const MAX_INTROSPECTION_LISTS: usize = 3;

/// Deepest chain of fragments spreading fragments. It bounds the recursion of the
/// walk (the parser bounds the nesting within one definition to 64).
pub const MAX_SPREAD_CHAIN: usize = 32;

/// What a count or a search costs, instead of one. The counts of a page's items
/// are one batched statement, but its work grows with the owners' rows: the counts
/// of the people of a page of 100 articles took a second on the medium corpus, so a
/// count weighs for each item of the pages above it, like any field. A search is
/// ranked in the index, in memory.
const WEIGHTS: &[(&str, u64)] = &[("totalCount", COUNT_WEIGHT), ("search", 500)];

/// What a `totalCount` costs.
const COUNT_WEIGHT: u64 = 500;

/// What a count of a root connection costs instead: it counts a whole table (what a
/// filter keeps of it), where a nested count reads only its owners' rows, through
/// an index.
const ROOT_COUNT_WEIGHT: u64 = 5_000;

/// The page size of a connection asked for without `first` or `last`.
const DEFAULT_PAGE: u64 = 20;

/// The fields of a connection whose cost is counted once for each item of a page.
const PAGE_ITEMS: &[&str] = &["edges", "nodes"];

/// How many times the parts of a selection set count.
#[derive(Clone, Copy, Debug)]
enum Times {
    /// Each part, this many times (the items of `nodes(ids:)`).
    All(u64),
    /// A connection's: its items (and fragments, which may hold them) once for
    /// each item of the page, the rest once.
    Items(u64),
}

impl Times {
    fn of(self, field: &str) -> u64 {
        match self {
            Self::All(times) => times,
            Self::Items(page) if PAGE_ITEMS.contains(&field) => page,
            Self::Items(_) => 1,
        }
    }

    /// For a fragment, which may hold the items or the rest: the larger count.
    fn all(self) -> u64 {
        match self {
            Self::All(times) => times,
            Self::Items(page) => page.max(1),
        }
    }
}

/// What one selection set (with everything it spreads) asks for.
#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    /// Selections, fragments expanded.
    selections: u64,
    /// The cost (see [`check`]), which grows with the items of the pages above.
    cost: u64,
    /// What the counts of root connections add, once: each counts a whole table.
    flat: u64,
    /// Deepest nesting of data fields.
    depth: usize,
    /// Deepest nesting under an introspection field.
    introspection_depth: usize,
    /// Deepest nesting of introspection lists ([`INTROSPECTION_LISTS`]).
    introspection_lists: usize,
    /// Fields at the top of the set, fragments expanded.
    top_fields: usize,
    /// `totalCount` fields at the top of the set, fragments expanded.
    top_counts: u64,
    /// Longest chain of fragments spreading fragments.
    spreads: usize,
}

/// Checks `document` against `limits`, the operation named `operation_name`
/// (or the only one) with `variables`: see the module's comment.
///
/// The cost of a field is one, plus its selection's; a field whose type is a
/// connection counts the cost of its `edges` and `nodes` once for each item of the
/// page it asks for (`first` or `last`, 20 when neither is given: none when it asks
/// for none, so a page of nothing still costs the field); `nodes(ids:)` counts its
/// selection once for each id; `totalCount` weighs 500 (5,000 on a root
/// connection, where it counts a whole table) and `search` 500.
pub fn check(
    registry: &Registry,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    limits: &DocumentLimits,
) -> Result<(), Refusal> {
    count_shape(document, limits)?;
    let mut walk = Walk {
        registry,
        document,
        variables,
        defaults: None,
        limits,
        summaries: HashMap::new(),
        chain: Vec::new(),
    };
    let operations: Vec<&OperationDefinition> = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => vec![&operation.node],
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| &operation.node)
            .into_iter()
            .collect(),
        (DocumentOperations::Multiple(operations), None) => operations
            .values()
            .map(|operation| &operation.node)
            .collect(),
    };
    for operation in operations {
        walk.defaults = Some(operation);
        let root = match operation.ty {
            OperationType::Query => Some(&registry.query_type),
            OperationType::Mutation => registry.mutation_type.as_ref(),
            OperationType::Subscription => registry.subscription_type.as_ref(),
        };
        let root = root.and_then(|name| registry.types.get(name));
        let summary = walk.set(&operation.selection_set.node, root, false, Times::All(1))?;
        if summary.top_fields > limits.max_root_fields {
            return Err(Refusal::TooManyRootFields {
                count: summary.top_fields,
                limit: limits.max_root_fields,
            });
        }
        if summary.depth > limits.max_depth {
            return Err(Refusal::TooDeep {
                depth: summary.depth,
                limit: limits.max_depth,
            });
        }
        if summary.introspection_depth > limits.max_introspection_depth {
            return Err(Refusal::IntrospectionTooDeep {
                depth: summary.introspection_depth,
                limit: limits.max_introspection_depth,
            });
        }
        let cost = summary.cost.saturating_add(summary.flat);
        if cost > limits.max_cost {
            return Err(Refusal::TooCostly {
                cost,
                limit: limits.max_cost,
            });
        }
    }
    // Every fragment is summed up, used or not (validation walks each of them),
    // in the document's order, so that a refusal names the same fragment each time.
    if !document.fragments.is_empty() {
        let mut fragments: Vec<_> = document.fragments.iter().collect();
        fragments.sort_by_key(|(_, fragment)| (fragment.pos.line, fragment.pos.column));
        for (name, fragment) in fragments {
            let on = fragment.node.type_condition.node.on.node.as_str();
            walk.fragment(name, on.starts_with("__"))?;
        }
    }
    Ok(())
}

/// Counts the aliases and directives written in the document (each definition
/// once: what its spreads would repeat is bounded by the selections' limit).
fn count_shape(document: &ExecutableDocument, limits: &DocumentLimits) -> Result<(), Refusal> {
    let mut aliases = 0;
    let mut directives = 0;
    let mut sets: Vec<&SelectionSet> = Vec::new();
    for (_, operation) in document.operations.iter() {
        directives += operation.node.directives.len();
        sets.push(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        directives += fragment.node.directives.len();
        sets.push(&fragment.node.selection_set.node);
    }
    // A stack instead of recursion; every set is met once.
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    // The hidden `__typename` the completion adds is not the client's.
                    aliases += usize::from(field.node.alias.as_ref().is_some_and(|alias| {
                        alias.node.as_str() != crate::graphql::completion::TYPE_KEY
                    }));
                    directives += field.node.directives.len();
                    sets.push(&field.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => directives += spread.node.directives.len(),
                Selection::InlineFragment(fragment) => {
                    directives += fragment.node.directives.len();
                    sets.push(&fragment.node.selection_set.node);
                }
            }
        }
    }
    if aliases > limits.max_aliases {
        return Err(Refusal::TooManyAliases {
            count: aliases,
            limit: limits.max_aliases,
        });
    }
    if directives > limits.max_directives {
        return Err(Refusal::TooManyDirectives {
            count: directives,
            limit: limits.max_directives,
        });
    }
    Ok(())
}

struct Walk<'a> {
    registry: &'a Registry,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// The operation whose variables' defaults apply.
    defaults: Option<&'a OperationDefinition>,
    limits: &'a DocumentLimits,
    /// Each fragment's summary, in and out of introspection, once summed up.
    summaries: HashMap<(&'a Name, bool), Summary>,
    /// The fragments being summed up, innermost last.
    chain: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// The summary of the fragment `name` (none for an unknown one, which
    /// validation reports).
    fn fragment(&mut self, name: &'a Name, introspection: bool) -> Result<Summary, Refusal> {
        if let Some(summary) = self.summaries.get(&(name, introspection)) {
            return Ok(*summary);
        }
        if self.chain.contains(&name) {
            return Err(Refusal::FragmentCycle(name.to_string()));
        }
        if self.chain.len() >= MAX_SPREAD_CHAIN {
            return Err(Refusal::SpreadChain {
                limit: MAX_SPREAD_CHAIN,
            });
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Summary::default());
        };
        let on = self
            .registry
            .types
            .get(fragment.node.type_condition.node.on.node.as_str());
        self.chain.push(name);
        let summary = self.set(
            &fragment.node.selection_set.node,
            on,
            introspection,
            Times::All(1),
        );
        self.chain.pop();
        let mut summary = summary?;
        summary.spreads += 1;
        if summary.spreads > MAX_SPREAD_CHAIN {
            return Err(Refusal::SpreadChain {
                limit: MAX_SPREAD_CHAIN,
            });
        }
        self.summaries.insert((name, introspection), summary);
        Ok(summary)
    }

    /// The summary of `set`, selected on `parent` (`None` where the type is not
    /// known: validation will say why), each part's cost counted `times`.
    fn set(
        &mut self,
        set: &'a SelectionSet,
        parent: Option<&'a MetaType>,
        introspection: bool,
        times: Times,
    ) -> Result<Summary, Refusal> {
        let mut summary = Summary::default();
        for selection in &set.items {
            let (mut part, times) = match &selection.node {
                Selection::Field(field) => {
                    let mut part = self.field(&field.node, parent, introspection)?;
                    part.top_fields = 1;
                    part.top_counts = u64::from(field.node.name.node == "totalCount");
                    (part, times.of(field.node.name.node.as_str()))
                }
                Selection::FragmentSpread(spread) => (
                    self.fragment(&spread.node.fragment_name.node, introspection)?,
                    times.all(),
                ),
                Selection::InlineFragment(fragment) => {
                    let on = match &fragment.node.type_condition {
                        Some(condition) => self.registry.types.get(condition.node.on.node.as_str()),
                        None => parent,
                    };
                    let part =
                        self.set(&fragment.node.selection_set.node, on, introspection, times)?;
                    (part, 1)
                }
            };
            part.cost = part.cost.saturating_mul(times);
            summary.selections = summary
                .selections
                .saturating_add(part.selections)
                .saturating_add(1);
            summary.cost = summary.cost.saturating_add(part.cost);
            summary.flat = summary.flat.saturating_add(part.flat);
            summary.depth = summary.depth.max(part.depth);
            summary.introspection_depth = summary.introspection_depth.max(part.introspection_depth);
            summary.introspection_lists = summary.introspection_lists.max(part.introspection_lists);
            summary.top_fields = summary.top_fields.saturating_add(part.top_fields);
            summary.top_counts = summary.top_counts.saturating_add(part.top_counts);
            summary.spreads = summary.spreads.max(part.spreads);
            if summary.selections > self.limits.max_selections {
                return Err(Refusal::TooManySelections {
                    limit: self.limits.max_selections,
                });
            }
        }
        Ok(summary)
    }

    /// The summary of one field selected on `parent`: its own depth and cost
    /// included, its selections not counting itself.
    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a MetaType>,
        introspection: bool,
    ) -> Result<Summary, Refusal> {
        let name = field.name.node.as_str();
        let set = &field.selection_set.node;
        if name == "__typename" {
            return Ok(Summary::default());
        }
        if introspection || name.starts_with("__") {
            if !self.limits.introspection {
                return Err(Refusal::IntrospectionOff);
            }
            // Introspection reads the schema, in memory: its own depth, no cost.
            let inner = self.set(set, None, true, Times::All(1))?;
            let lists =
                inner.introspection_lists + usize::from(INTROSPECTION_LISTS.contains(&name));
            if lists > MAX_INTROSPECTION_LISTS {
                return Err(Refusal::IntrospectionTooWide {
                    lists,
                    limit: MAX_INTROSPECTION_LISTS,
                });
            }
            return Ok(Summary {
                introspection_depth: inner.introspection_depth + 1,
                introspection_lists: lists,
                cost: 1,
                top_fields: 0,
                top_counts: 0,
                ..inner
            });
        }
        let meta = parent.and_then(|parent| parent.field_by_name(name));
        let ty = meta
            .map(|meta| MetaTypeName::concrete_typename(&meta.ty))
            .and_then(|ty| self.registry.types.get(ty));
        let weight = WEIGHTS
            .iter()
            .find(|(weighed, _)| *weighed == name)
            .map(|(_, weight)| *weight);
        let times = if ty.is_some_and(|ty| ty.name().ends_with("Connection")) {
            Times::Items(self.page(field))
        } else if field.get_argument("ids").is_some() {
            Times::All(self.list_length(field, "ids"))
        } else {
            Times::All(1)
        };
        let inner = self.set(set, ty, false, times)?;
        // The counts of a root connection count a whole table.
        let is_root = parent.is_some_and(|parent| parent.name() == self.registry.query_type);
        let root_counts = if is_root && matches!(times, Times::Items(_)) {
            inner
                .top_counts
                .saturating_mul(ROOT_COUNT_WEIGHT - COUNT_WEIGHT)
        } else {
            0
        };
        Ok(Summary {
            selections: inner.selections,
            cost: inner.cost.saturating_add(weight.unwrap_or(1)),
            flat: inner.flat.saturating_add(root_counts),
            depth: inner.depth + 1,
            introspection_depth: inner.introspection_depth,
            introspection_lists: 0,
            top_fields: 0,
            top_counts: 0,
            spreads: inner.spreads,
        })
    }

    /// The page size a connection field asks for.
    fn page(&self, field: &Field) -> u64 {
        let asked = ["first", "last"]
            .iter()
            .find_map(|argument| field.get_argument(argument))
            .and_then(|value| self.int(value));
        match asked {
            Some(size) => u64::try_from(size).unwrap_or(0),
            None => DEFAULT_PAGE,
        }
    }

    /// How many items a list argument holds.
    fn list_length(&self, field: &Field, argument: &str) -> u64 {
        let length = match field.get_argument(argument).map(|value| &value.node) {
            Some(Value::List(items)) => items.len(),
            Some(Value::Variable(name)) => match self.variable(name) {
                Some(ConstValue::List(items)) => items.len(),
                _ => 1,
            },
            _ => 1,
        };
        u64::try_from(length).unwrap_or(u64::MAX)
    }

    /// An integer argument's value, from the document or the variables.
    fn int(&self, value: &Positioned<Value>) -> Option<i64> {
        match &value.node {
            Value::Number(number) => number.as_i64(),
            Value::Variable(name) => match self.variable(name)? {
                ConstValue::Number(number) => number.as_i64(),
                _ => None,
            },
            _ => None,
        }
    }

    /// A variable's value as sent, or its default.
    fn variable(&self, name: &Name) -> Option<&'a ConstValue> {
        if let Some(value) = self.variables.get(name) {
            return Some(value);
        }
        self.defaults?
            .variable_definitions
            .iter()
            .find(|definition| definition.node.name.node == *name)
            .and_then(|definition| definition.node.default_value.as_ref())
            .map(|value| &value.node)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Variables;
    use async_graphql::parser::parse_query;

    use super::{DocumentLimits, Refusal, check};
    use crate::graphql::schema::registry;

    fn checked(query: &str, variables: serde_json::Value) -> Result<(), Refusal> {
        let document = parse_query(query).map_err(|error| {
            Refusal::FragmentCycle(format!("the test's query does not parse: {error}"))
        })?;
        check(
            &registry(),
            &document,
            None,
            &Variables::from_json(variables),
            &DocumentLimits::default(),
        )
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_refused() {
        assert_eq!(
            checked(
                "{ __typename ...A } fragment A on Query { __typename ...A }",
                serde_json::Value::Null
            ),
            Err(Refusal::FragmentCycle("A".to_owned()))
        );
        let refused = checked(
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            serde_json::Value::Null,
        );
        assert!(
            matches!(&refused, Err(Refusal::FragmentCycle(name)) if name == "A" || name == "B"),
            "{refused:?}"
        );
    }

    /// Forty fragments, each spreading the next twice: 2^40 selections expanded,
    /// refused after summing up forty.
    #[test]
    fn a_fan_out_of_spreads_is_refused_without_expanding_it() {
        let mut query = String::from("{ ...F0 }");
        for n in 0..30 {
            query.push_str(&format!(
                " fragment F{n} on Query {{ __typename ...F{m} ...F{m} }}",
                m = n + 1
            ));
        }
        query.push_str(" fragment F30 on Query { __typename }");
        let started = std::time::Instant::now();
        assert_eq!(
            checked(&query, serde_json::Value::Null),
            Err(Refusal::TooManySelections { limit: 5_000 })
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }

    #[test]
    fn a_chain_of_spreads_is_bounded() {
        let mut query = String::from("{ ...F0 }");
        for n in 0..40 {
            query.push_str(&format!(" fragment F{n} on Query {{ ...F{} }}", n + 1));
        }
        query.push_str(" fragment F40 on Query { __typename }");
        assert_eq!(
            checked(&query, serde_json::Value::Null),
            Err(Refusal::SpreadChain { limit: 32 })
        );
    }

    /// `first: 0` no longer makes a connection free, and a count weighs its cost
    /// for each owner it counts for, a whole table's count more.
    #[test]
    fn an_empty_page_still_costs_its_field_and_counts_weigh_their_cost() {
        let limits = DocumentLimits {
            max_cost: 0,
            ..DocumentLimits::default()
        };
        let cost = |query: &str| {
            let Ok(document) = parse_query(query) else {
                panic!("{query} does not parse");
            };
            match check(&registry(), &document, None, &Variables::default(), &limits) {
                Err(Refusal::TooCostly { cost, .. }) => cost,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            cost("{ articles(first: 0) { pageInfo { hasNextPage } } }"),
            3
        );
        assert_eq!(
            cost(
                "{ people(first: 100) { nodes { articles(first: 0) { pageInfo { hasNextPage } } } } }"
            ),
            1 + 100 * (1 + 3)
        );
        assert_eq!(
            cost(
                "{ articles(first: 100) { nodes { people { articles(first: 0) { totalCount } } } } }"
            ),
            1 + 100 * (1 + 1 + (1 + 500))
        );
        // A root connection's count counts a whole table, through a fragment too.
        assert_eq!(
            cost(
                "{ a: articles(first: 0) { ...C } } fragment C on ArticleConnection { totalCount }"
            ),
            1 + 5_000
        );
        let counts = "{ a: articles(first: 0) { totalCount } b: articles(first: 0) { totalCount } \
             c: articles(first: 0) { totalCount } d: articles(first: 0) { totalCount } }";
        assert_eq!(
            checked(counts, serde_json::Value::Null),
            Err(Refusal::TooCostly {
                cost: 4 * 5_001,
                limit: 20_000
            })
        );
    }

    /// Page sizes are read from the variables, or their defaults.
    #[test]
    fn the_cost_follows_the_variables() {
        let query = "query ($n: Int = 100) { articles(first: 100) { nodes { people { articles(first: $n) { nodes { title } } } } } }";
        let cost = |n: u64| 1 + 100 * (1 + (1 + (1 + n * (1 + 1))));
        assert_eq!(
            checked(query, serde_json::Value::Null),
            Err(Refusal::TooCostly {
                cost: cost(100),
                limit: 20_000
            })
        );
        assert_eq!(checked(query, serde_json::json!({ "n": 5 })), Ok(()));
        assert_eq!(
            checked(query, serde_json::json!({ "n": 99 })),
            Err(Refusal::TooCostly {
                cost: cost(99),
                limit: 20_000
            })
        );
    }

    #[test]
    fn the_shape_of_a_document_is_bounded() {
        let aliases: Vec<String> = (0..65).map(|n| format!("a{n}: __typename")).collect();
        assert_eq!(
            checked(
                &format!("{{ {} }}", aliases.join(" ")),
                serde_json::Value::Null
            ),
            Err(Refusal::TooManyAliases {
                count: 65,
                limit: 64
            })
        );
        let roots = "{ ...R } fragment R on Query { ".to_owned()
            + &"articles { totalCount } ".repeat(33)
            + "}";
        assert_eq!(
            checked(&roots, serde_json::Value::Null),
            Err(Refusal::TooManyRootFields {
                count: 33,
                limit: 32
            })
        );
        let directives = "{ ".to_owned() + &"__typename @skip(if: false) ".repeat(65) + "}";
        assert_eq!(
            checked(&directives, serde_json::Value::Null),
            Err(Refusal::TooManyDirectives {
                count: 65,
                limit: 64
            })
        );
    }

    /// The data's depth and the introspection's are counted apart.
    #[test]
    fn introspection_has_its_own_depth() {
        let deep = "{ article(slug: \"x\") { people { positions { organization { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } }";
        assert_eq!(
            checked(deep, serde_json::Value::Null),
            Err(Refusal::TooDeep {
                depth: 13,
                limit: 12
            })
        );
        let types = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }";
        assert_eq!(checked(types, serde_json::Value::Null), Ok(()));
        // The schema's types lead to one another: lists nested in lists are bounded.
        let members =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(
            checked(members, serde_json::Value::Null),
            Err(Refusal::IntrospectionTooWide { lists: 4, limit: 3 })
        );
    }
}
