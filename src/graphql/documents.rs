//! Parsed queries, kept by their text.
//!
//! Clients send the same few query texts again and again (a page's query with new
//! variables). async-graphql's parser is a PEG parser that takes longer over an
//! article page's query than the rest of the request's own work; a parsed document
//! is kept here and each request gets a copy, which costs a fraction of a parse.
//! The handler also reads the document (to refuse mutations over GET, and to put
//! the response's fields in the query's order), so one parse serves both.
//!
//! With the document is kept whether it is valid, checked once (see
//! [`crate::graphql::schema::Schemas`]). The document kept is the one that runs:
//! the client's, with the hidden `__typename`s the completion of its responses
//! reads ([`crate::graphql::completion::type_sets`]).
//!
//! Memory is bounded by the length of the texts kept: when a new text would pass
//! [`BUDGET`], everything kept is dropped and the cache fills again with the texts
//! in use. A text that does not parse is not kept (async-graphql parses it again
//! and reports the error).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_graphql::Name;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::registry::Registry;
use tokio::sync::OnceCell;

use crate::graphql::projection::Projection;

/// Total length of the query texts kept, in bytes.
pub const BUDGET: usize = 256 * 1024;

/// Parsed documents by query text.
#[derive(Default)]
pub struct Documents {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    by_text: HashMap<Arc<str>, Arc<Parsed>, foldhash::fast::RandomState>,
    bytes: usize,
}

/// A parsed document, and what is known of it: whether it is valid, what it
/// selects of each type, how long its last response was.
pub struct Parsed {
    pub document: ExecutableDocument,
    valid: OnceCell<bool>,
    projection: OnceLock<Option<Arc<Projection>>>,
    body_bytes: AtomicUsize,
}

/// The room made for a response body when nothing better is known.
const FIRST_BODY_BYTES: usize = 1024;

impl Parsed {
    /// Whether the document is valid, as `check` says the first time it is asked
    /// (for a document of one operation; one of several may be valid where another
    /// is not, and such a document is never taken for valid).
    pub async fn valid<F: Future<Output = bool>>(&self, check: impl FnOnce() -> F) -> bool {
        let one_operation = match &self.document.operations {
            DocumentOperations::Single(_) => true,
            DocumentOperations::Multiple(operations) => operations.len() == 1,
        };
        one_operation && *self.valid.get_or_init(check).await
    }

    /// What the document's operation selects of each type (see
    /// [`Projection::of_document`]), worked out the first time it is asked.
    pub fn projection(&self, registry: &Registry) -> Option<Arc<Projection>> {
        self.projection
            .get_or_init(|| Projection::of_document(registry, &self.document).map(Arc::new))
            .clone()
    }

    /// The room to make for the body of a response to this document: the length of
    /// the last one and an eighth more, so that a response a little longer than the
    /// last is still written without growing its buffer.
    pub fn body_bytes(&self) -> usize {
        let last = self.body_bytes.load(Ordering::Relaxed);
        if last == 0 {
            FIRST_BODY_BYTES
        } else {
            last + last / 8
        }
    }

    /// Notes the length of a response's body.
    pub fn wrote_body(&self, bytes: usize) {
        self.body_bytes.store(bytes, Ordering::Relaxed);
    }
}

impl Documents {
    /// The parsed document of `query`, or `None` when it does not parse.
    pub fn get(&self, query: &str, registry: &Registry) -> Option<Arc<Parsed>> {
        if let Some(document) = self.lock().by_text.get(query) {
            return Some(document.clone());
        }
        let mut parsed = async_graphql::parser::parse_query(query).ok()?;
        rename_draft_fields(&mut parsed);
        crate::graphql::completion::type_sets(&mut parsed, registry);
        let document = Arc::new(Parsed {
            document: parsed,
            valid: OnceCell::new(),
            projection: OnceLock::new(),
            body_bytes: AtomicUsize::new(0),
        });
        if query.len() <= BUDGET {
            let mut kept = self.lock();
            if kept.bytes + query.len() > BUDGET {
                kept.by_text.clear();
                kept.bytes = 0;
            }
            if kept
                .by_text
                .insert(Arc::from(query), document.clone())
                .is_none()
            {
                kept.bytes += query.len();
            }
        }
        Some(document)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Gives the fields that a draft of the spec named differently their final name,
/// under the draft's as their response key: `specifiedByUrl` of `__Type`, which
/// graphql-js 15's introspection query asks (`specifiedByUrl: true`), is the
/// spec's `specifiedByURL`. No type of the schema has a field of that name.
fn rename_draft_fields(document: &mut ExecutableDocument) {
    let mut sets: Vec<&mut SelectionSet> = match &mut document.operations {
        DocumentOperations::Single(operation) => vec![&mut operation.node.selection_set.node],
        DocumentOperations::Multiple(operations) => operations
            .values_mut()
            .map(|operation| &mut operation.node.selection_set.node)
            .collect(),
    };
    sets.extend(
        document
            .fragments
            .values_mut()
            .map(|fragment| &mut fragment.node.selection_set.node),
    );
    // A stack instead of recursion; every set is met once.
    while let Some(SelectionSet { items }) = sets.pop() {
        for selection in items.iter_mut() {
            match &mut selection.node {
                Selection::Field(field) => {
                    let field = &mut field.node;
                    if field.name.node == "specifiedByUrl" {
                        field.alias.get_or_insert_with(|| field.name.clone());
                        field.name.node = Name::new("specifiedByURL");
                    }
                    sets.push(&mut field.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    sets.push(&mut fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Documents {
        /// `get` with no types: no selection set is typed.
        fn get_untyped(&self, query: &str) -> Option<Arc<Parsed>> {
            self.get(query, &Registry::default())
        }
    }

    #[test]
    fn a_text_is_parsed_once() {
        let documents = Documents::default();
        let first = documents.get_untyped("{ articles { totalCount } }");
        let again = documents.get_untyped("{ articles { totalCount } }");
        assert!(matches!((&first, &again), (Some(a), Some(b)) if Arc::ptr_eq(a, b)));
        assert_eq!(documents.lock().by_text.len(), 1);
    }

    #[tokio::test]
    async fn a_document_is_checked_once() {
        let documents = Documents::default();
        let checks = std::sync::atomic::AtomicUsize::new(0);
        let check = || async {
            checks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            true
        };
        for _ in 0..3 {
            let Some(parsed) = documents.get_untyped("query A { articles { totalCount } }") else {
                panic!("the document parses");
            };
            assert!(parsed.valid(check).await);
        }
        assert_eq!(checks.load(std::sync::atomic::Ordering::SeqCst), 1);
        // One of several operations is never taken for valid.
        let Some(several) = documents.get_untyped("query A { a } query B { b }") else {
            panic!("the document parses");
        };
        assert!(!several.valid(check).await);
    }

    #[test]
    fn the_room_for_a_body_follows_the_last_one() {
        let documents = Documents::default();
        let Some(parsed) = documents.get_untyped("{ articles { totalCount } }") else {
            panic!("the document parses");
        };
        assert_eq!(parsed.body_bytes(), FIRST_BODY_BYTES);
        parsed.wrote_body(32_000);
        assert_eq!(parsed.body_bytes(), 36_000);
        parsed.wrote_body(100);
        assert_eq!(parsed.body_bytes(), 112);
    }

    #[test]
    fn a_text_that_does_not_parse_is_not_kept() {
        let documents = Documents::default();
        assert!(documents.get_untyped("{ articles {").is_none());
        assert!(documents.lock().by_text.is_empty());
    }

    #[test]
    fn the_texts_kept_stay_within_the_budget() {
        let documents = Documents::default();
        let padding = " ".repeat(BUDGET / 4);
        for n in 0..10 {
            assert!(
                documents
                    .get_untyped(&format!("{{ a{n} }}{padding}"))
                    .is_some()
            );
            let kept = documents.lock();
            assert!(kept.bytes <= BUDGET, "{} bytes kept", kept.bytes);
            assert_eq!(
                kept.bytes,
                kept.by_text.keys().map(|k| k.len()).sum::<usize>()
            );
        }
        let kept = documents.lock().by_text.len();
        assert!((1..10).contains(&kept), "{kept} texts kept");
    }
}
