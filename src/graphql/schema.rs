//! Building the executable schema, and its SDL.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::registry::Registry;
use async_graphql::{
    EmptySubscription, OutputType, Request, Response, SDLExportOptions, Schema, ValidationMode,
};
use sea_orm::DatabaseConnection;

use crate::config::Limits;
use crate::graphql::guard::DocumentLimits;
use crate::graphql::inline::Stock;
use crate::graphql::mutation::MutationRoot;
use crate::graphql::query::QueryRoot;
use crate::search::Search;

/// The schema type of bantin.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema, built twice with its limits.
///
/// async-graphql validates every request against every rule of the spec, a fifth
/// of an article page's instructions, although clients send the same few
/// documents again and again. A document is validated once (the rules that look
/// only at the document; see [`Schemas::check`]) and kept as valid with its parsed
/// form (`crate::graphql::documents`); a valid document then runs on `fast`,
/// which checks only what may change with the variables (complexity and depth,
/// which depend on page sizes) and leaves the values of variables to the
/// arguments that read them, as it does for values written in the document:
/// a variable of the wrong type is the error of the field that reads it. Any other
/// document runs on `strict`, which reports what is wrong with it.
pub struct Schemas {
    /// For documents found valid: checks limits only.
    pub fast: AppSchema,
    /// Checks every rule; for documents not yet found valid, and for checking.
    pub strict: AppSchema,
    /// The types of the schema, for walks over a document before it runs.
    pub registry: Registry,
    /// The limits of a document, checked before anything else walks it
    /// ([`crate::graphql::guard`]; depth and cost are checked there, not by
    /// async-graphql, whose walk expands every fragment spread).
    pub limits: DocumentLimits,
}

/// Built with its limits, ready to execute. `fast` installs no extension: an
/// extension wraps the resolution of every field, which objects resolved in place
/// (`crate::graphql::inline`) do not go through, and it cost a third more CPU on
/// a front page (`crate::graphql::order` keeps the field order without one).
/// `strict` has one, which stops a check after validation.
pub fn build_schema(db: DatabaseConnection, limits: &Limits, search: &Search) -> Schemas {
    let build = |mode: ValidationMode| {
        let builder = Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
            .data(db.clone())
            .data(search.index.clone())
            .data(search.indexer.clone())
            .limit_recursive_depth(64)
            .limit_directives(32)
            .validation_mode(mode);
        if limits.introspection {
            builder
        } else {
            builder.disable_introspection().disable_suggestions()
        }
    };
    Schemas {
        fast: build(ValidationMode::Fast).finish(),
        strict: build(ValidationMode::Strict)
            .extension(OnlyCheck)
            .data(Stock)
            .finish(),
        registry: registry(),
        limits: limits.document(),
    }
}

/// The types of the schema's roots and all they reach.
pub fn registry() -> Registry {
    let mut registry = Registry::default();
    QueryRoot::create_type_info(&mut registry);
    MutationRoot::create_type_info(&mut registry);
    registry.query_type = QueryRoot::type_name().into_owned();
    registry.mutation_type = Some(MutationRoot::type_name().into_owned());
    registry
}

impl Schemas {
    /// Whether `document` (the parsed `query`) passes every validation rule that
    /// looks at the document alone: validated as a request without variables
    /// (where a rule would read one, it has none to judge), and not executed.
    pub async fn check(&self, query: &str, document: &ExecutableDocument) -> bool {
        let mut request = Request::new(query).data(Checking);
        request.set_parsed_query(document.clone());
        self.strict.execute(request).await.errors.is_empty()
    }
}

/// Marks a request made by [`Schemas::check`].
struct Checking;

/// Ends a check once its document is validated (a document that is not valid
/// never reaches execution).
struct OnlyCheck;

impl ExtensionFactory for OnlyCheck {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OnlyCheck)
    }
}

#[async_trait::async_trait]
impl Extension for OnlyCheck {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<Checking>().is_some() {
            return Response::default();
        }
        next.run(ctx, operation_name).await
    }
}

/// The SDL of the schema, sorted so that diffs are stable: what `schema.graphql` holds.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), EmptySubscription)
        .finish()
        .sdl_with_options(
            SDLExportOptions::new()
                .sorted_fields()
                .sorted_arguments()
                .sorted_enum_items(),
        )
}
