//! `schema.graphql` is what the code produces.

#[test]
fn the_committed_schema_matches_the_code() {
    let committed = include_str!("../../schema.graphql");
    let produced = bantin::graphql::schema::sdl();
    assert!(
        committed == produced,
        "schema.graphql is out of date; run `cargo run -- schema > schema.graphql`"
    );
}

/// The introspection query of graphql-js (every option on: descriptions, the
/// schema's description, `specifiedByURL`, repeatable directives, deprecated
/// arguments and input fields, nine levels of `ofType`), as GraphiQL, codegen and
/// graphql-inspector send it, is answered at the default limits, while a data
/// query nested deeper than the limit is still refused.
async fn standard_introspection_is_answered_at_default_limits(app: &crate::helpers::TestApp) {
    let query = include_str!("queries/introspection-graphql-js.graphql");
    let data = app.data(query, serde_json::json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(
        types.iter().any(|ty| ty["name"] == "Article"),
        "no Article among {} types",
        types.len()
    );
    let deep = "{ article(slug: \"x\") { people { positions { organization { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } }";
    assert_eq!(
        app.error_code(deep, serde_json::json!({})).await,
        "QUERY_TOO_COMPLEX"
    );
}

crate::on_both!(standard_introspection_is_answered_at_default_limits);
