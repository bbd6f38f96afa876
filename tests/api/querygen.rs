//! Random GraphQL queries over bantin's schema, from a seed: selections under
//! aliases, named and inline fragments on interfaces and unions, `@skip` and
//! `@include` with variables, `__typename`, fields repeated and merged, and
//! arguments that fail (pages too large, unknown IDs, bad dates). The types come
//! from the schema's registry, so the generator follows the schema as it grows.

use std::fmt::Write;

use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use serde_json::{Value, json};

/// A small, fast, seeded generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 for 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Values that exist in the database under test, so that lookups find something.
#[derive(Default, Clone)]
pub struct Known {
    pub ids: Vec<String>,
    pub slugs: Vec<String>,
    pub codes: Vec<String>,
    pub words: Vec<String>,
}

/// One generated request.
pub struct Generated {
    pub query: String,
    pub variables: Value,
}

pub struct QueryGen<'a> {
    registry: &'a Registry,
    known: &'a Known,
    rng: Rng,
    fragments: Vec<String>,
    aliases: usize,
    uses_skip: bool,
    uses_include: bool,
    /// No directives for now (see [`QueryGen::field`]).
    quiet: bool,
}

/// Fields never generated: they need a token, or read what a reader cannot see.
const LEFT_OUT: &[&str] = &["revisions"];

impl<'a> QueryGen<'a> {
    pub fn new(registry: &'a Registry, known: &'a Known, seed: u64) -> Self {
        Self {
            registry,
            known,
            rng: Rng::new(seed),
            fragments: Vec::new(),
            aliases: 0,
            uses_skip: false,
            uses_include: false,
            quiet: false,
        }
    }

    /// The next query.
    pub fn query(&mut self) -> Generated {
        self.fragments.clear();
        self.aliases = 0;
        self.uses_skip = false;
        self.uses_include = false;
        let root = self.registry.query_type.clone();
        let width = 1 + self.rng.below(3);
        let body = self.set(&root, 0, width);
        let mut definitions = Vec::new();
        if self.uses_skip {
            definitions.push("$skip: Boolean!");
        }
        if self.uses_include {
            definitions.push("$include: Boolean = true");
        }
        let mut query = if definitions.is_empty() {
            if self.rng.chance(50) {
                body
            } else {
                format!("query Generated {body}")
            }
        } else {
            format!("query Generated({}) {body}", definitions.join(", "))
        };
        for fragment in &self.fragments {
            query.push(' ');
            query.push_str(fragment);
        }
        let mut variables = serde_json::Map::new();
        if self.uses_skip {
            variables.insert("skip".into(), json!(self.rng.chance(50)));
        }
        if self.uses_include && self.rng.chance(70) {
            variables.insert("include".into(), json!(self.rng.chance(50)));
        }
        Generated {
            query,
            variables: Value::Object(variables),
        }
    }

    fn ty(&self, name: &str) -> Option<&'a MetaType> {
        self.registry.types.get(name)
    }

    /// A selection set on the type `on`, of about `width` selections.
    fn set(&mut self, on: &str, depth: usize, width: usize) -> String {
        let Some(ty) = self.ty(on) else {
            return "{ __typename }".to_owned();
        };
        let mut out = String::from("{");
        match ty {
            MetaType::Object { fields, .. } | MetaType::Interface { fields, .. } => {
                let names: Vec<&String> = fields
                    .keys()
                    .filter(|name| !name.starts_with("__") && !LEFT_OUT.contains(&name.as_str()))
                    .collect();
                let mut chosen = 0;
                let mut picked: Vec<String> = Vec::new();
                for _ in 0..width.max(1) * 2 {
                    if chosen >= width.max(1) {
                        break;
                    }
                    let name = (*self.rng.pick(&names)).clone();
                    // A field picked twice would merge with itself: see `field`.
                    if picked.contains(&name) {
                        continue;
                    }
                    picked.push(name.clone());
                    if let Some(field) = self.field(ty, &name, depth) {
                        out.push(' ');
                        out.push_str(&field);
                        chosen += 1;
                    }
                }
                // The object is never empty. A field that fails or is skipped is left
                // out of it, and an object left with no field is `null` on both paths;
                // but where the same field is selected twice (repeated, or through a
                // fragment) async-graphql executes the two apart and merges their
                // values as they finish, so one's `null` can land first and the
                // other's fields be lost, where the spec executes the field once with
                // both selections (6.3.2, CollectFields; bantin's fast path merges
                // either way). `__typename` never fails.
                out.push_str(" __typename");
                if let MetaType::Interface { possible_types, .. } = ty
                    && depth < 6
                {
                    let possible: Vec<String> = possible_types.iter().cloned().collect();
                    self.fragments_on(&mut out, &possible, depth);
                }
                if depth < 6 && self.rng.chance(10) {
                    self.named_fragment(&mut out, on, depth);
                }
            }
            MetaType::Union { possible_types, .. } => {
                let possible: Vec<String> = possible_types.iter().cloned().collect();
                // Never empty: see above.
                out.push_str(" __typename");
                self.fragments_on(&mut out, &possible, depth);
            }
            _ => out.push_str(" __typename"),
        }
        out.push_str(" }");
        out
    }

    /// Inline fragments on some of `possible`.
    fn fragments_on(&mut self, out: &mut String, possible: &[String], depth: usize) {
        for _ in 0..1 + self.rng.below(2) {
            let on = self.rng.pick(possible).clone();
            let width = 1 + self.rng.below(2);
            let set = self.set(&on, depth + 1, width);
            let directive = self.directive();
            let _ = write!(out, " ... on {on}{directive} {set}");
        }
    }

    /// A named fragment on `on`, defined once and spread here.
    fn named_fragment(&mut self, out: &mut String, on: &str, depth: usize) {
        let name = format!("F{}", self.fragments.len());
        // Reserve the slot before the body, whose fragments come after it.
        self.fragments.push(String::new());
        let index = self.fragments.len() - 1;
        let width = 1 + self.rng.below(2);
        let set = self.set(on, depth + 1, width);
        self.fragments[index] = format!("fragment {name} on {on} {set}");
        let directive = self.directive();
        let _ = write!(out, " ...{name}{directive}");
    }

    fn directive(&mut self) -> &'static str {
        if self.quiet {
            return "";
        }
        match self.rng.below(12) {
            0 => {
                self.uses_skip = true;
                " @skip(if: $skip)"
            }
            1 => {
                self.uses_include = true;
                " @include(if: $include)"
            }
            2 => " @include(if: true)",
            3 => " @skip(if: true)",
            _ => "",
        }
    }

    /// A field of `parent` named `name`, with arguments, alias and selection; `None`
    /// when it cannot be made.
    fn field(&mut self, parent: &MetaType, name: &str, depth: usize) -> Option<String> {
        let meta = parent.field_by_name(name)?;
        let ty_name = MetaTypeName::concrete_typename(&meta.ty).to_owned();
        let ty = self.ty(&ty_name)?;
        let composite = matches!(
            ty,
            MetaType::Object { .. } | MetaType::Interface { .. } | MetaType::Union { .. }
        );
        if composite && depth >= 5 {
            return None;
        }
        let mut arguments = Vec::new();
        for (argument, input) in &meta.args {
            let required = input.ty.ends_with('!') && input.default_value.is_none();
            if required || self.rng.chance(30) {
                arguments.push(format!("{argument}: {}", self.value(argument, &input.ty)?));
            }
        }
        let mut out = String::new();
        let mut aliased = false;
        // Aliases always when there are arguments (two uses of one key with other
        // arguments would not merge); sometimes otherwise.
        if !arguments.is_empty() || self.rng.chance(15) {
            self.aliases += 1;
            aliased = true;
            let _ = write!(out, "a{}: ", self.aliases);
        }
        out.push_str(name);
        if !arguments.is_empty() {
            let _ = write!(out, "({})", arguments.join(", "));
        }
        out.push_str(self.directive());
        if composite {
            // The same field again without alias and arguments merges with it
            // (neither copy with directives; see `set` on merged fields).
            let repeat = !aliased && self.rng.chance(10);
            let quiet = self.quiet;
            self.quiet = quiet || repeat;
            let width = 1 + self.rng.below(3);
            let set = self.set(&ty_name, depth + 1, width);
            out.push(' ');
            out.push_str(&set);
            if repeat {
                let again = self.set(&ty_name, depth + 1, 1);
                let _ = write!(out, " {name} {again}");
            }
            self.quiet = quiet;
        } else if arguments.is_empty() && self.rng.chance(5) {
            let _ = write!(out, " {name}");
        }
        Some(out)
    }

    /// A value of the input type `ty` for `argument`; `None` when none can be made.
    fn value(&mut self, argument: &str, ty: &str) -> Option<String> {
        let ty = ty.strip_suffix('!').unwrap_or(ty);
        if let Some(inner) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let items: Option<Vec<String>> = (0..self.rng.below(4))
                .map(|_| self.value(argument, inner))
                .collect();
            return Some(format!("[{}]", items?.join(", ")));
        }
        fn quoted(text: impl AsRef<str>) -> String {
            serde_json::to_string(text.as_ref()).unwrap_or_default()
        }
        Some(match ty {
            "Int" if argument == "first" || argument == "last" => self
                .rng
                .pick(&["0", "1", "2", "3", "5", "20", "101", "-1"])
                .to_string(),
            "Int" => self.rng.pick(&["0", "1", "7", "30", "-3"]).to_string(),
            "Boolean" => self.rng.pick(&["true", "false"]).to_string(),
            "ID" => {
                if self.rng.chance(10) || self.known.ids.is_empty() {
                    quoted("zzz")
                } else {
                    quoted(self.rng.pick(&self.known.ids))
                }
            }
            "Date" => quoted(
                self.rng
                    .pick(&["2017-08-02", "2024-02-03", "1930-02-03", "2-3"]),
            ),
            "DateTime" => quoted(
                self.rng
                    .pick(&["2017-08-02T00:00:00Z", "2030-01-01T00:00:00Z"]),
            ),
            "String" => {
                let pool = match argument {
                    "slug" => &self.known.slugs,
                    "code" => &self.known.codes,
                    "after" | "before" => return Some(quoted(self.rng.pick(&["", "eA", "zzz"]))),
                    _ => &self.known.words,
                };
                if pool.is_empty() || self.rng.chance(10) {
                    quoted("khong-co")
                } else {
                    quoted(self.rng.pick(pool))
                }
            }
            other => match self.ty(other)? {
                MetaType::Enum { enum_values, .. } => {
                    let values: Vec<&String> = enum_values.keys().collect();
                    (*self.rng.pick(&values)).clone()
                }
                MetaType::InputObject { input_fields, .. } => {
                    let mut parts = Vec::new();
                    for (name, input) in input_fields {
                        let required = input.ty.ends_with('!') && input.default_value.is_none();
                        if required || self.rng.chance(20) {
                            parts.push(format!("{name}: {}", self.value(name, &input.ty)?));
                        }
                    }
                    format!("{{ {} }}", parts.join(", "))
                }
                _ => return None,
            },
        })
    }
}
