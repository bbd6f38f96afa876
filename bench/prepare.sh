# Shared set-up of the benchmarks, sourced by run.sh and search.sh: installs wrk
# and PostgreSQL when missing, starts PostgreSQL, builds bantin, generates the corpus
# and imports it into PostgreSQL ($DSN) and SQLite ($SQLITE) unless already there,
# and lists the slugs the article and person pages ask for ($WORK/*-slugs.txt).
# Expects ROOT, WORK, SIZE, SEED, PG_ADMIN, DB, DSN to be set, and PORTS to the ports
# the caller's servers listen on (checked to be free first). Defines `cleanup`
# (stops the server in $PID) and `wait_for_index URL`.

# The benchmarks' server, started in the background; `cleanup` stops it.
PID=""
# Stops the server: TERM, up to 5 s to go, then KILL. (`wait` would return the
# server's signal status, which `set -e` takes for a failure.)
cleanup() {
    [ -n "$PID" ] || return 0
    kill "$PID" 2> /dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PID" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2> /dev/null || true
    PID=""
}

# Waits until bantin at URL has built its search index (it does so in the background
# on first start), so the build does not share the CPU with the load: until
# `/readyz` answers 200, then 3 s more for the merges that follow the last commit.
# (Not by searching: a search for common words maps megabytes of the index into the
# server, which would then count in every workload's RSS.)
wait_for_index() {  # url of /graphql
    local ready=${1%/graphql}/readyz
    for _ in $(seq 1 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$ready")" = 200 ]; then
            sleep 3
            return 0
        fi
        sleep 1
    done
    echo "the search index of $1 was not built in 10 minutes" >&2; exit 1
}

# Stops the run when something already listens on the port: the readiness check
# would find that server, and the run would measure it instead of its own.
need_free_port() {  # port
    if (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; then
        echo "port $1 is in use: stop what listens there, then run again" >&2
        exit 1
    fi
}

for port in ${PORTS:-}; do need_free_port "$port"; done

need() { command -v "$1" > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" > /dev/null; }; }
need wrk wrk
need psql postgresql
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_lsclusters --no-header | grep -q "^$version *main .*online" || pg_ctlcluster --skip-systemctl-redirect "$version" main start
PGLOG=$(pg_lsclusters --no-header | awk '$2=="main"{print $7; exit}')

# BANTIN_BIN: a bantin binary built already (another commit's, say) instead of this tree's.
if [ -n "${BANTIN_BIN:-}" ]; then
    BIN=$BANTIN_BIN
else
    echo "--- building bantin"
    cargo build --release --quiet
    BIN=target/release/bantin
fi

mkdir -p "$WORK"
CORPUS="$WORK/corpus-$SIZE-$SEED.jsonl"
[ -s "$CORPUS" ] || "$BIN" generate --size "$SIZE" --seed "$SEED" --out "$CORPUS"
expected=$(($(wc -l < "$CORPUS") - 1))
stored=$(psql "$DSN" -XAtc "SELECT (SELECT count(*) FROM article) + (SELECT count(*) FROM person) + (SELECT count(*) FROM organization) + (SELECT count(*) FROM position) + (SELECT count(*) FROM event)" 2>/dev/null || echo 0)
if [ "$stored" != "$expected" ]; then
    echo "--- importing $CORPUS into PostgreSQL ($DB)"
    psql "$PG_ADMIN/postgres" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
    DATABASE_URL="$DSN" RUST_LOG=warn "$BIN" import "$CORPUS"
    psql "$DSN" -qc "ANALYZE"
fi
SQLITE="$WORK/bench.db"
if [ ! -s "$SQLITE" ]; then
    echo "--- importing $CORPUS into SQLite"
    DATABASE_URL="sqlite://$SQLITE?mode=rwc" RUST_LOG=warn "$BIN" import "$CORPUS"
fi

# The slugs the article and person pages are asked for, in a fixed random order.
psql "$DSN" -XAtc "SELECT slug FROM article WHERE status='published' ORDER BY md5(id::text) LIMIT 1000" > "$WORK/article-slugs.txt"
psql "$DSN" -XAtc "SELECT slug FROM person ORDER BY md5(id::text) LIMIT 1000" > "$WORK/person-slugs.txt"

