#!/usr/bin/env bash
# The instructions bantin executes for one request, counted by valgrind's callgrind
# (its whole process, every thread): the same for the same binary and data whatever
# else the machine is doing, so two builds can be compared where requests a second
# swing by a third between runs. Uses the suite's PostgreSQL data (prepared as
# bench/run.sh prepares it).
#
#   bench/instructions.sh                             # Q1 and Q2, 50 requests each
#   QUERIES="q1 q2 q3" bench/instructions.sh          # and the person page
#   N=100 QUERIES=q1 OTHER=/tmp/other-bantin bench/instructions.sh
#   OUT=/tmp/q1 bench/instructions.sh                 # keep callgrind's files there,
#                                                     # for callgrind_annotate
#
# The requests go one after another over one connection, after 10 left uncounted.
# The count includes what the server does in the background meanwhile (the search
# indexer looks for changes every 250 ms: a few thousand instructions a request).
set -euo pipefail

# The load comes from one address, and the peers limit no rate: neither does bantin here.
export BANTIN_RATE_PER_ADDRESS=0 BANTIN_RATE_PER_TOKEN=0
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${N:-50}; QUERIES=${QUERIES:-"q1 q2"}
SIZE=${SIZE:-medium}; SEED=${SEED:-42}
PG_ADMIN=${BANTIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=bantin_bench
DSN="$PG_ADMIN/$DB"
WORK=target/bench
PORT=5402
URL=http://127.0.0.1:$PORT/graphql
PORTS=$PORT
# shellcheck source=bench/prepare.sh
. bench/prepare.sh
# Another build to count, in place of the one just built.
BIN=${OTHER:-$BIN}
command -v valgrind > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind > /dev/null; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
trap cleanup EXIT INT TERM

bodies() {  # query -> one body file a request, in $OUT/bodies-<query>/
    local dir="$OUT/bodies-$1"
    mkdir -p "$dir"
    python3 - "$1" "$dir" "$N" "$WORK" <<'PY'
import json, sys
q, out, n, work = sys.argv[1], sys.argv[2], int(sys.argv[3]) + 10, sys.argv[4]
# Each query's operation, and the variable its slugs go into (from prepare.sh's lists).
ops = {"q1": ("FrontPage", None, None), "q2": ("ArticlePage", "slug", "article-slugs.txt"),
       "q3": ("PersonPage", "slug", "person-slugs.txt")}
op, var, slugs = ops[q]
text = open(f"bench/queries/bantin/{q}.graphql").read()
names = [line.strip() for line in open(f"{work}/{slugs}")] if slugs else []
for i in range(n):
    body = {"query": text, "operationName": op}
    if var:
        body["variables"] = {var: names[i % len(names)]}
    open(f"{out}/{i:05}.json", "w").write(json.dumps(body))
PY
}

# The server's search index, built once by a server run normally (under callgrind
# the build would take most of an hour).
INDEX="$WORK/index-instructions"
DATABASE_URL="$DSN?sslmode=disable" BANTIN_LISTEN=127.0.0.1:$PORT BANTIN_INDEX_DIR="$INDEX" RUST_LOG=warn "$BIN" serve --no-sample > "$OUT/server.log" 2>&1 &
PID=$!
wait_for_index "$URL"
cleanup

DATABASE_URL="$DSN?sslmode=disable" BANTIN_LISTEN=127.0.0.1:$PORT BANTIN_INDEX_DIR="$INDEX" RUST_LOG=warn \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
    "$BIN" serve --no-sample > "$OUT/valgrind.log" 2>&1 &
PID=$!
for _ in $(seq 1 240); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data '{"query":"{ __typename }"}' "$URL" || true)
    [ "$code" = 200 ] && break
    kill -0 "$PID" 2> /dev/null || { echo "the server stopped: $OUT/valgrind.log" >&2; exit 1; }
    sleep 1
done
callgrind_control -i on "$PID" > /dev/null 2>&1

for q in $QUERIES; do
    bodies "$q"
    files=("$OUT/bodies-$q"/*.json)
    send() {  # first last: the requests of those files, over one connection
        local args=() i
        for i in $(seq "$1" "$2"); do
            [ "$i" -gt "$1" ] && args+=(--next)
            args+=(-s -o /dev/null -H 'Content-Type: application/json' --data-binary "@${files[$i]}" "$URL")
        done
        curl "${args[@]}"
    }
    send 0 9
    callgrind_control -z "$PID" > /dev/null 2>&1
    send 10 $((N + 9))
    callgrind_control -d "$q" "$PID" > /dev/null 2>&1
    sleep 1
    file=$(ls -t "$OUT"/callgrind.out.* | head -n 1)
    mv "$file" "$OUT/$q.callgrind"
    total=$(awk '/^totals:/ {print $2}' "$OUT/$q.callgrind")
    echo "$q: $((total / N)) instructions a request ($N requests; callgrind_annotate $OUT/$q.callgrind)"
done
