#!/usr/bin/env bash
# Search benchmark on the medium corpus (200,000 articles), on PostgreSQL and SQLite:
# the time to rebuild the whole index (`bantin reindex`), then search through the
# GraphQL API with ranking and snippets: two-word queries that match most articles,
# the same as phrases, and a search-as-you-type prefix. Reports medians over rounds.
#
#   bench/search.sh                       # knobs: ROUNDS DURATION CONCS SIZE SEED
set -euo pipefail

# The load comes from one address, and the peers limit no rate: neither does bantin here.
export BANTIN_RATE_PER_ADDRESS=0 BANTIN_RATE_PER_TOKEN=0
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-10}; CONCS=${CONCS:-"1 16"}
SIZE=${SIZE:-medium}; SEED=${SEED:-42}
PG_ADMIN=${BANTIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=bantin_bench
DSN="$PG_ADMIN/$DB"
WORK=target/bench
OUT=$WORK/results/search-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
PORTS="5410 5411"
# shellcheck source=bench/prepare.sh
. bench/prepare.sh
need /usr/bin/time time

# The queries, JSON-escaped, one a line: what gql.lua puts in place of __SLUG__.
printf '%s\n' 'hoi nghi ' 'kinh te ' 'hội nghị ' 'kinh tế ' > "$WORK/search-words.txt"
printf '%s\n' '\"hoi nghi\"' '\"kinh te\"' '\"hội nghị\"' '\"kinh tế\"' > "$WORK/search-phrases.txt"
printf '%s\n' 'hoi ng' 'kinh t' 'thong tin doi ng' 'phat tr' > "$WORK/search-prefixes.txt"
cat > "$WORK/search-body.json" <<'JSON'
{"query":"query Search($q: String!) { search(query: $q, first: 20) { edges { score snippet node { __typename ... on Article { title slug publishedAt } ... on Person { name slug } ... on Organization { name slug } ... on Event { name slug } ... on Document { code title } } } } }","variables":{"q":"__SLUG__"}}
JSON

trap cleanup EXIT INT TERM

for round in $(seq 1 "$ROUNDS"); do
    for backend in pg sqlite; do
        case $backend in
            pg) url="$DSN?sslmode=disable" ;;
            sqlite) url="sqlite://$SQLITE" ;;
        esac
        index="$WORK/index-$backend"
        /usr/bin/time -f "%e %M" -o "$OUT/.time" env DATABASE_URL="$url" RUST_LOG=warn "$BIN" reindex --index-dir "$index"
        read -r seconds kb < "$OUT/.time"
        echo "{\"round\":$round,\"server\":\"bantin-$backend\",\"query\":\"rebuild\",\"seconds\":$seconds,\"peak_mb\":$((kb / 1024))}" >> "$OUT/results.jsonl"
        echo "== round $round: bantin-$backend: rebuilt the index in $seconds s (peak $((kb / 1024)) MB)"
        port=5410; [ "$backend" = sqlite ] && port=5411
        DATABASE_URL="$url" BANTIN_LISTEN=127.0.0.1:$port BANTIN_INDEX_DIR="$index" RUST_LOG=warn "$BIN" serve --no-sample > "$OUT/bantin-$backend.log" 2>&1 &
        PID=$!
        wait_for_index "http://127.0.0.1:$port/graphql"
        for workload in words phrases prefixes; do
            wrk -t1 -c4 -d3s -s bench/gql.lua "http://127.0.0.1:$port/graphql" -- "$WORK/search-body.json" "$WORK/search-$workload.txt" > /dev/null 2>&1
            for c in $CONCS; do
                file="$OUT/wrk-$backend-$workload-c$c-r$round.txt"
                wrk -t1 -c"$c" -d"${DURATION}s" --timeout 10s -s bench/gql.lua "http://127.0.0.1:$port/graphql" -- "$WORK/search-body.json" "$WORK/search-$workload.txt" > "$file" 2>&1
                rss=$(ps -o rss= -p "$PID" | tr -d ' ')
                python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(round=int(sys.argv[2]), server=sys.argv[3], query=sys.argv[4], conc=int(sys.argv[5]), rss_mb=round(int(sys.argv[6])/1024,1)); print(json.dumps(r))' \
                    "$(grep '^RESULT ' "$file" | sed 's/^RESULT //')" "$round" "bantin-$backend" "$workload" "$c" "$rss" >> "$OUT/results.jsonl"
                tail -n 1 "$OUT/results.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("   %s c=%d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d, RSS %s MB" % (r["query"], r["conc"], r["rps"], r["p50_ms"], r["p99_ms"], r["http_errors"] + r["gql_errors"] + r["socket_errors"] + r["timeouts"], r["rss_mb"]))'
            done
        done
        cleanup
    done
done
python3 - "$OUT/results.jsonl" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| server | workload | c | req/s | p50 ms | p99 ms | errors | RSS MB |")
print("|---|---|---|---|---|---|---|---|")
keys = sorted({(r["server"], r["query"], r.get("conc", 0)) for r in rows})
for server, query, conc in keys:
    group = [r for r in rows if (r["server"], r["query"], r.get("conc", 0)) == (server, query, conc)]
    med = lambda k: statistics.median(r[k] for r in group)
    if query == "rebuild":
        print(f"| {server} | rebuild the index | - | {med('seconds'):.1f} s | | | | peak {med('peak_mb'):.0f} |")
    else:
        errors = sum(r["http_errors"] + r["gql_errors"] + r["socket_errors"] + r["timeouts"] for r in group)
        print(f"| {server} | {query} | {conc} | {med('rps'):.0f} | {med('p50_ms'):.2f} | {med('p99_ms'):.2f} | {errors} | {med('rss_mb'):.0f} |")
PY
