#!/usr/bin/env bash
# The long differential run: the fast execution path against async-graphql's stock
# executor, on the sample and on a generated corpus, on SQLite and PostgreSQL.
#   QUERIES  generated queries per database and content (default 10000)
#   SEED     the generator's seed (default 1)
#   CORPUS   the generated corpus's size: tiny, small, medium (default small)
# PostgreSQL must answer at $BANTIN_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
export BANTIN_DIFF_QUERIES="${QUERIES:-10000}" BANTIN_DIFF_SEED="${SEED:-1}" BANTIN_DIFF_CORPUS="${CORPUS:-small}"
export BANTIN_REQUIRE_POSTGRES=1
cargo test --test api the_fast_path_answers_what_the_stock_executor_answers -- --nocapture --test-threads 1 2>&1 \
    | grep -E 'differential \(|test result|panicked|differ'
