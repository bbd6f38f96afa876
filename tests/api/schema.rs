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
