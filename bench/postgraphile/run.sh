#!/usr/bin/env bash
# PostGraphile v4 over bantin's tables, as the benchmark runs it (installed by run.sh
# into target/bench/postgraphile). Env: DATABASE_URL, PORT (default 5200), POOL (16).
set -euo pipefail
cd "$(dirname "$0")/../../target/bench/postgraphile"
export NODE_ENV=production
exec node node_modules/postgraphile/cli.js \
  --connection "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bantin_bench}" \
  --schema public \
  --host 127.0.0.1 --port "${PORT:-5200}" \
  --simple-collections both \
  --append-plugins @graphile-contrib/pg-simplify-inflector \
  --disable-graphiql \
  --disable-query-log \
  --disable-default-mutations \
  --legacy-relations omit \
  --no-setof-functions-contain-nulls \
  --dynamic-json \
  --max-pool-size "${POOL:-16}" "$@"
