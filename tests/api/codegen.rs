//! graphql-codegen over `schema.graphql` and the example client's documents
//! (`examples/web/app.js`, marked `/* GraphQL */`): the TypeScript it generates
//! type-checks with `tsc --strict`, alone and used as an app uses it
//! (`tests/clients/typed.ts`). The packages are pinned in
//! `tests/clients/package-lock.json`; without them the test says so and skips, and
//! with `BANTIN_REQUIRE_NODE=1` (set by `.ci/run`) it fails instead.

use std::path::Path;
use std::process::Command;

#[test]
fn typescript_types_are_generated_from_the_schema_and_type_check() {
    let Some(dir) = crate::helpers::client_tools(".bin/graphql-codegen", "graphql-codegen") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let codegen = dir.join("node_modules/.bin/graphql-codegen");
    let generated = root.join("target/codegen/graphql.ts");
    let _ = std::fs::remove_file(&generated);
    let run = Command::new(&codegen)
        .args(["--config", "codegen.json"])
        .current_dir(&dir)
        .output()
        .expect("graphql-codegen runs");
    assert!(
        run.status.success(),
        "graphql-codegen failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let types = std::fs::read_to_string(&generated).expect("the generated types");
    for name in [
        "export type FrontPageQuery = ",
        "export type ArticlePageQuery = ",
        "export type TitlesOnTheDayQueryVariables = ",
        "export type SearchQuery = ",
        "export type Query = ",
    ] {
        assert!(types.contains(name), "no `{name}` in the generated types");
    }
    let check = Command::new(dir.join("node_modules/.bin/tsc"))
        .args(["-p", "tsconfig.json"])
        .current_dir(&dir)
        .output()
        .expect("tsc runs");
    assert!(
        check.status.success(),
        "the generated types do not type-check:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
