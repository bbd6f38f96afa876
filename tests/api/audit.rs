//! The GraphQL-over-HTTP audit of `graphql-http` (its `serverAudits`, pinned in
//! `tests/clients/package-lock.json`) against the real server, on both databases.
//! Every audit must pass: the MUSTs and SHOULDs, and the MAYs bantin does.
//!
//! It needs Node.js and `npm ci` in `tests/clients`; `.ci/run` installs both and sets
//! `BANTIN_REQUIRE_NODE=1`, under which a missing Node fails the test instead of
//! skipping it.

use crate::helpers::{Backend, TestApp};

/// One audit's result, as `tests/clients/audit.mjs` prints it.
#[derive(serde::Deserialize, Debug)]
struct Audit {
    id: String,
    name: String,
    status: String,
    reason: Option<String>,
}

async fn the_graphql_over_http_audit_passes(backend: Backend) {
    let Some(tools) = crate::helpers::client_tools("graphql-http", "the GraphQL-over-HTTP audit")
    else {
        return;
    };
    let runner = tools.join("audit.mjs");
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let output = tokio::process::Command::new("node")
        .arg(&runner)
        .arg(format!("{}/graphql", app.address))
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the audit failed to run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let audits: Vec<Audit> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("an audit's result"))
        .collect();
    // graphql-http 1.23 has 61 audits; fewer would mean the runner lost some.
    assert!(audits.len() >= 61, "only {} audits ran", audits.len());
    let failed: Vec<&Audit> = audits.iter().filter(|audit| audit.status != "ok").collect();
    assert!(
        failed.is_empty(),
        "{} of {} audits not ok: {:#?}",
        failed.len(),
        audits.len(),
        failed
            .iter()
            .map(|audit| format!(
                "{} {} ({}): {}",
                audit.id,
                audit.name,
                audit.status,
                audit.reason.as_deref().unwrap_or_default()
            ))
            .collect::<Vec<_>>()
    );
    app.finish().await;
}

#[tokio::test]
async fn the_graphql_over_http_audit_passes_on_sqlite() {
    the_graphql_over_http_audit_passes(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_graphql_over_http_audit_passes_on_postgres() {
    the_graphql_over_http_audit_passes(Backend::Postgres).await;
}
