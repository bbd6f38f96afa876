#!/usr/bin/env bash
# The long fuzz run against the real server, on SQLite and PostgreSQL: generated and
# mutated documents, variable sets, hostile documents and raw bodies.
#   CASES  requests per database (default 100000)
#   SEED   the generator's seed (default 1)
# PostgreSQL must answer at $BANTIN_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
export BANTIN_FUZZ_CASES="${CASES:-100000}" BANTIN_FUZZ_SEED="${SEED:-1}" BANTIN_REQUIRE_POSTGRES=1
cargo test --test api no_request_takes_the_server_down -- --nocapture --test-threads 1 2>&1 \
    | grep -E 'fuzz \(|test result|panicked|case [0-9]'
