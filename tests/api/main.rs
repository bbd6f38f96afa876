//! Integration tests: the real app over HTTP, on a real SQLite file and, when one
//! is reachable (always in CI), a real PostgreSQL server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod binary;
mod browser;
mod bundles;
mod codegen;
mod differential;
mod edge;
mod editing;
mod fuzz;
mod helpers;
mod http;
mod n_plus_one;
mod operations;
mod pagination;
mod querygen;
mod sample;
mod schema;
mod search;
mod spec;
mod text;
