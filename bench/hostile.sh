#!/usr/bin/env bash
# The article page on PostgreSQL under load with hostile requests mixed in: 64
# connections for 60 s, every 100th request one of bench/hostile bodies (a fragment
# that spreads itself, fan-outs of spreads, alias floods, empty pages that count,
# nesting past the limits, malformed and batched bodies). Prints the good requests'
# errors (there must be none), the hostile ones refused, and the server's RSS over
# the run.
#   DURATION (60)  CONNS (64)  EVERY (100)  SIZE (medium)  SEED (42)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-60}; CONNS=${CONNS:-64}; EVERY=${EVERY:-100}
SIZE=${SIZE:-medium}; SEED=${SEED:-42}
PG_ADMIN=${BANTIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=bantin_bench
DSN="$PG_ADMIN/$DB"
WORK=target/bench
OUT=$WORK/hostile/$(date -u +%Y%m%dT%H%M%SZ)
PORTS="5402"
mkdir -p "$OUT"
# shellcheck source=bench/prepare.sh
. bench/prepare.sh
trap cleanup EXIT INT TERM

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
page = open("bench/queries/bantin/q2.graphql").read()
open(f"{out}/page.json", "w").write(json.dumps({"query": page, "operationName": "ArticlePage", "variables": {"slug": "__SLUG__"}}))
def fan(n):
    q = "{ ...F0 }" + "".join(f" fragment F{i} on QueryRoot {{ __typename ...F{i+1} ...F{i+1} }}" for i in range(n))
    return q + f" fragment F{n} on QueryRoot {{ __typename }}"
bodies = [
    {"query": "{ __typename ...A } fragment A on QueryRoot { __typename ...A }"},
    {"query": fan(24)},
    {"query": fan(40)},
    {"query": "{ " + " ".join(f"a{i}: articles(first: 0) {{ totalCount }}" for i in range(1000)) + " }"},
    {"query": "{ articles(first: 100) { nodes { people { articles(first: 0) { totalCount } } } } }"},
    {"query": "{a" * 5000 + "}" * 5000},
    {"query": "query ($v: [ID!]!) { nodes(ids: $v) { id } }", "variables": {"v": "__DEEP__"}},
    {"query": "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"},
]
with open(f"{out}/hostile.jsonl", "w") as f:
    for body in bodies:
        line = json.dumps(body)
        line = line.replace('"__DEEP__"', "[" * 3000 + "]" * 3000)
        f.write(line + "\n")
    f.write('[{"query":"{ __typename }"}]\n')
    f.write('{"query": \n')
PY

DATABASE_URL="$DSN?sslmode=disable" BANTIN_LISTEN=127.0.0.1:5402 BANTIN_INDEX_DIR="$WORK/index-pg" \
    BANTIN_RATE_PER_ADDRESS=0 BANTIN_RATE_PER_TOKEN=0 RUST_LOG=warn "$BIN" serve --no-sample > "$OUT/server.log" 2>&1 &
PID=$!
wait_for_index http://127.0.0.1:5402/graphql

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status"; }
echo "--- warm-up (10 s)"
wrk -t2 -c"$CONNS" -d10s --timeout 5s -s bench/hostile.lua http://127.0.0.1:5402/graphql -- "$OUT/page.json" "$WORK/article-slugs.txt" "$OUT/hostile.jsonl" "$EVERY" > /dev/null
echo "--- $DURATION s at $CONNS connections, every ${EVERY}th request hostile"
: > "$OUT/rss.txt"
( while kill -0 "$PID" 2> /dev/null; do rss >> "$OUT/rss.txt"; sleep 5; done ) &
SAMPLER=$!
wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency -s bench/hostile.lua http://127.0.0.1:5402/graphql -- "$OUT/page.json" "$WORK/article-slugs.txt" "$OUT/hostile.jsonl" "$EVERY" | tee "$OUT/wrk.txt" | grep RESULT
kill "$SAMPLER" 2> /dev/null || true
echo "RSS MB every 5 s: $(tr '\n' ' ' < "$OUT/rss.txt")"
echo "results in $OUT"
