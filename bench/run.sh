#!/usr/bin/env bash
# The benchmark suite: bantin (PostgreSQL and SQLite), PostGraphile and a
# hand-written axum + sqlx "physical limit" over the same PostgreSQL data, in one
# run, repeated. Installs what it needs (wrk, PostgreSQL, PostGraphile from npm),
# builds bantin and the baseline, generates and imports the medium corpus once.
#
#   bench/run.sh                         # everything, 2 rounds
#   ROUNDS=3 DURATION=20 bench/run.sh    # knobs: ROUNDS WARMUP DURATION CONCS SIZE WORKLOADS
#   bench/run.sh bantin-pg baseline      # only some servers
#
# bantin's own workloads add "mixed": the article page with every 10th request a
# write (createDocument, with an editor token made for the run; documents are
# searchable, so each write also goes through the search outbox and the indexer).
#
# The servers of a round run side by side and take turns workload by workload (the
# order reversed every other round), so the servers compared are measured seconds
# apart, each run once the previous one has quietened down.
#
# Prints a table (requests/s, p50, p99, errors, RSS, SQL statements a request) with
# the ratios bantin / PostGraphile and bantin / baseline; keeps everything it measured
# in target/bench/results/<time>/. bantin talks to PostgreSQL without TLS here, as the
# other servers do (on loopback TLS only costs CPU).
set -euo pipefail

# The load comes from one address, and the peers limit no rate: neither does bantin here.
export BANTIN_RATE_PER_ADDRESS=0 BANTIN_RATE_PER_TOKEN=0
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-2}; WARMUP=${WARMUP:-5}; DURATION=${DURATION:-15}; CONCS=${CONCS:-"16 64"}
SIZE=${SIZE:-medium}; SEED=${SEED:-42}
PG_ADMIN=${BANTIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=bantin_bench
DSN="$PG_ADMIN/$DB"
WORK=target/bench
OUT=$WORK/results/$(date -u +%Y%m%dT%H%M%SZ)
SERVERS=${*:-"bantin-pg postgraphile baseline bantin-sqlite"}
mkdir -p "$OUT" "$WORK/bodies"

need() { command -v "$1" > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" > /dev/null; }; }
need node nodejs
need npm npm
PORTS="5400 5401 5200 5100"
# shellcheck source=bench/prepare.sh
. bench/prepare.sh
echo "--- building the baseline"
(cd bench/baseline && CARGO_TARGET_DIR="$ROOT/target/bench-baseline" cargo build --release --quiet)
if [ ! -x "$WORK/postgraphile/node_modules/.bin/postgraphile" ]; then
    echo "--- installing PostGraphile"
    mkdir -p "$WORK/postgraphile"
    cp bench/postgraphile/package.json bench/postgraphile/package-lock.json "$WORK/postgraphile/"
    (cd "$WORK/postgraphile" && npm ci --silent --no-audit --no-fund)
fi

echo "--- request bodies"
# The cursor after row 19,980: the 1,000th page of 20 (cursor format: see src/graphql/connection.rs).
deep=$(psql "$DSN" -XAtc "SELECT id || ' ' || (extract(epoch FROM published_at) * 1000000)::bigint FROM article WHERE status='published' AND published_at <= now() AND deleted_at IS NULL ORDER BY published_at DESC, id DESC OFFSET 19979 LIMIT 1")
python3 - "$WORK/bodies" "$deep" <<'PY'
import base64, json, sys
out, deep = sys.argv[1], sys.argv[2].split()
cursor = base64.urlsafe_b64encode(f"published_at_desc|{deep[0]}|t{deep[1]}".encode()).decode().rstrip("=")
def body(server, q, op, variables=None):
    b = {"query": open(f"bench/queries/{server}/{q}.graphql").read(), "operationName": op}
    if variables is not None:
        b["variables"] = variables
    return json.dumps(b)
for server in ("bantin", "postgraphile", "baseline"):
    open(f"{out}/{server}-q1.json", "w").write(body(server, "q1", "FrontPage"))
    open(f"{out}/{server}-q2.json", "w").write(body(server, "q2", "ArticlePage", {"slug": "__SLUG__"}))
open(f"{out}/bantin-q3.json", "w").write(body("bantin", "q3", "PersonPage", {"slug": "__SLUG__"}))
open(f"{out}/bantin-q4first.json", "w").write(body("bantin", "q4", "DeepPage", {"after": None}))
open(f"{out}/bantin-q4deep.json", "w").write(body("bantin", "q4", "DeepPage", {"after": cursor}))
open(f"{out}/bantin-write.json", "w").write(body("bantin", "write", "AddDocument", {"code": "__N__/TB-BENCH", "title": "Thông báo thử tải __N__"}))
PY

# Servers side by side, taking turns (see the top): on a shared machine the speed
# drifts by a third over minutes, which measuring one server's workloads after
# another's would put into the ratios. A server waiting for its turn is idle.
declare -A PIDS URLS KINDS TOKENS STATEMENTS
stop_all() {
    for server in "${!PIDS[@]}"; do PID=${PIDS[$server]}; cleanup; done
    PIDS=()
}
trap stop_all EXIT INT TERM

start() {  # server -> PIDS, URLS, KINDS, TOKENS of it
    local URL KIND DATABASE=""
    case "$1" in
        bantin-pg) URL=http://127.0.0.1:5400/graphql; KIND=bantin; DATABASE="$DSN?sslmode=disable"
            DATABASE_URL="$DSN?sslmode=disable" BANTIN_LISTEN=127.0.0.1:5400 BANTIN_INDEX_DIR="$WORK/index-pg" RUST_LOG=warn "$BIN" serve --no-sample > "$OUT/$1.log" 2>&1 & ;;
        bantin-sqlite) URL=http://127.0.0.1:5401/graphql; KIND=bantin; DATABASE="sqlite://$SQLITE"
            DATABASE_URL="sqlite://$SQLITE" BANTIN_LISTEN=127.0.0.1:5401 BANTIN_INDEX_DIR="$WORK/index-sqlite" RUST_LOG=warn "$BIN" serve --no-sample > "$OUT/$1.log" 2>&1 & ;;
        postgraphile) URL=http://127.0.0.1:5200/graphql; KIND=postgraphile
            DATABASE_URL="$DSN" PORT=5200 bench/postgraphile/run.sh > "$OUT/$1.log" 2>&1 & ;;
        baseline) URL=http://127.0.0.1:5100/graphql; KIND=baseline
            DATABASE_URL="$DSN" BIND=127.0.0.1:5100 POOL=16 target/bench-baseline/release/bench-baseline > "$OUT/$1.log" 2>&1 & ;;
    esac
    PIDS[$1]=$!; URLS[$1]=$URL; KINDS[$1]=$KIND
    if [ "$KIND" = bantin ]; then
        TOKENS[$1]=$(DATABASE_URL="$DATABASE" RUST_LOG=warn "$BIN" token create --role editor --name "bench-$(date +%s%N)")
    fi
    for _ in $(seq 1 240); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/bodies/$KIND-q1.json" "$URL" || true)
        [ "$code" = 200 ] && break
        sleep 0.5
    done
    [ "$code" = 200 ] || { echo "$1 did not come up" >&2; exit 1; }
    kill -0 "${PIDS[$1]}" 2> /dev/null || { echo "$1 exited: see $OUT/$1.log" >&2; exit 1; }
    if [ "$KIND" = bantin ]; then wait_for_index "$URL"; fi
}

sql_count() {  # url body -> statements PostgreSQL received for one request
    local one="$OUT/.one.json"
    sed "s/__SLUG__/$(head -1 "$3")/" "$2" > "$one"
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @"$one" "$1"
    runuser -u postgres -- psql -Xq -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" > /dev/null
    sleep 1; local off; off=$(stat -c %s "$PGLOG")
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @"$one" "$1"
    sleep 1
    runuser -u postgres -- psql -Xq -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" > /dev/null
    # The search indexer's outbox polls are not the request's.
    tail -c +"$((off + 1))" "$PGLOG" | grep -E "@$DB LOG:  (statement|execute [^:]*):" | grep -vc search_outbox || true
}

# Waits (up to 10 s) until the two cores are mostly idle: a server goes on
# answering the requests wrk gave up on when its run ended (PostGraphile, queued
# seconds deep at 64 connections, keeps itself and PostgreSQL busy for half a
# second), which would otherwise fall into the next server's run.
settle() {
    local user nice system idle iowait irq softirq steal busy total
    read -r _ user nice system idle iowait irq softirq steal _ < /proc/stat
    for _ in $(seq 1 20); do
        busy=$((user + nice + system + irq + softirq + steal)); total=$((busy + idle + iowait))
        sleep 0.5
        read -r _ user nice system idle iowait irq softirq steal _ < /proc/stat
        busy=$((user + nice + system + irq + softirq + steal - busy))
        total=$((user + nice + system + irq + softirq + steal + idle + iowait - total))
        [ $((busy * 100)) -lt $((total * 15)) ] && return 0
    done
}

runs() {  # server workload -> whether the server runs the workload
    local all="q1 q2"
    [ "${KINDS[$1]}" = bantin ] && all="q1 q2 q3 q4first q4deep mixed"
    case " $all " in *" $2 "*) ;; *) return 1;; esac
    # WORKLOADS picks some of them (the peers run only Q1 and Q2).
    [ -z "${WORKLOADS:-}" ] || case " $WORKLOADS " in *" $2 "*) ;; *) return 1;; esac
}

for round in $(seq 1 "$ROUNDS"); do
    order=$SERVERS
    [ $((round % 2)) = 0 ] && order=$(echo "$SERVERS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for server in $order; do start "$server"; done
    echo "== round $round: $order"
    for q in q1 q2 q3 q4first q4deep mixed; do
        first=yes
        for c in $CONCS; do
            for server in $order; do
                runs "$server" "$q" || continue
                URL=${URLS[$server]}; KIND=${KINDS[$server]}; PID=${PIDS[$server]}
                body="$WORK/bodies/$KIND-$q.json"; slugs=()
                case $q in
                    q2) slugs=("$WORK/article-slugs.txt");;
                    q3) slugs=("$WORK/person-slugs.txt");;
                    mixed) body="$WORK/bodies/bantin-q2.json"
                        slugs=("$WORK/article-slugs.txt" "$WORK/bodies/bantin-write.json" "${TOKENS[$server]}" 10);;
                esac
                if [ $first = yes ]; then
                    statements=-
                    if [ "$server" != bantin-sqlite ] && [ "$q" != mixed ]; then statements=$(sql_count "$URL" "$body" "${slugs[0]:-/dev/null}"); fi
                    STATEMENTS[$server]=$statements
                    wrk -t2 -c16 -d"${WARMUP}s" --timeout 10s -s bench/gql.lua "$URL" -- "$body" "${slugs[@]}" > /dev/null 2>&1
                fi
                settle
                wrk -t2 -c"$c" -d"${DURATION}s" --timeout 10s -s bench/gql.lua "$URL" -- "$body" "${slugs[@]}" > "$OUT/wrk-$server-$q-c$c-r$round.txt" 2>&1
                rss=$(ps -o rss= -p "$PID" | tr -d ' ')
                result=$(grep '^RESULT ' "$OUT/wrk-$server-$q-c$c-r$round.txt" | sed 's/^RESULT //')
                line=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(round=int(sys.argv[2]), server=sys.argv[3], query=sys.argv[4], conc=int(sys.argv[5]), statements=sys.argv[6], rss_mb=round(int(sys.argv[7])/1024,1)); print(json.dumps(r))' \
                    "$result" "$round" "$server" "$q" "$c" "${STATEMENTS[$server]}" "$rss")
                echo "$line" >> "$OUT/results.jsonl"
                echo "   $q c=$c $server: $(echo "$line" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.0f req/s, p50 %.1f ms, p99 %.1f ms, errors %d, RSS %s MB, SQL %s" % (r["rps"], r["p50_ms"], r["p99_ms"], r["http_errors"] + r["gql_errors"] + r["socket_errors"] + r["timeouts"], r["rss_mb"], r["statements"]))')"
            done
            first=no
        done
    done
    stop_all; sleep 1
done
{ echo "host: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"; psql "$DSN" -XAtc "select version()"; } > "$OUT/env.txt"
python3 bench/summarize.py "$OUT/results.jsonl" | tee "$OUT/summary.md"
