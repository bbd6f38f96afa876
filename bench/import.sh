#!/usr/bin/env bash
# Import benchmark: the medium corpus (200,000 articles, 292,000 records) into a
# fresh SQLite file and a fresh PostgreSQL database, then again onto itself;
# ROUNDS times each, reporting the median records/s and the peak memory.
#
#   bench/import.sh                # medium corpus, 3 rounds
#   SIZE=small ROUNDS=5 bench/import.sh
#   PY_LOADER=path/to/load_pg.py bench/import.sh   # also time a reference loader
#                                  # (CSV + COPY, run with --dsn on a fresh database)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${SIZE:-medium}"
SEED="${SEED:-42}"
ROUNDS="${ROUNDS:-3}"
PG="${BANTIN_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
WORK="${WORK:-target/bench}"
mkdir -p "$WORK"
# psql's notices ("database … does not exist, skipping", the reference loader's
# DROP TABLE IF EXISTS) are not news; warnings and errors still show.
export PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}"

cargo build --release --quiet
BIN=target/release/bantin
CORPUS="$WORK/corpus-$SIZE-$SEED.jsonl"
if [ ! -s "$CORPUS" ]; then
    echo "generating $CORPUS"
    "$BIN" generate --size "$SIZE" --seed "$SEED" --out "$CORPUS"
fi
RECORDS=$(($(wc -l < "$CORPUS") - 1))
echo "corpus: $CORPUS, $RECORDS records, $(du -h "$CORPUS" | cut -f1)"

# Runs an import; prints "seconds peak_kB".
timed_import() {
    local url="$1"
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" \
        env DATABASE_URL="$url" RUST_LOG=warn "$BIN" import "$CORPUS" > /dev/null
    cat "$WORK/time.txt"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
    rm -f "$WORK"/import.db*
    read -r s m < <(timed_import "sqlite://$WORK/import.db?mode=rwc")
    RESULTS[sqlite_first]+="$s "; RESULTS[sqlite_first_mem]+="$m "
    read -r s m < <(timed_import "sqlite://$WORK/import.db?mode=rwc")
    RESULTS[sqlite_again]+="$s "; RESULTS[sqlite_again_mem]+="$m "

    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bantin_import" -qc "CREATE DATABASE bantin_import" > /dev/null
    read -r s m < <(timed_import "$PG/bantin_import")
    RESULTS[pg_first]+="$s "; RESULTS[pg_first_mem]+="$m "
    read -r s m < <(timed_import "$PG/bantin_import")
    RESULTS[pg_again]+="$s "; RESULTS[pg_again_mem]+="$m "
done

if [ -n "${PY_LOADER:-}" ]; then
    for round in $(seq 1 "$ROUNDS"); do
        psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS bantin_pyload" -qc "CREATE DATABASE bantin_pyload" > /dev/null
        start=$(date +%s.%N)
        python3 "$PY_LOADER" "$CORPUS" --dsn "$PG/bantin_pyload" > /dev/null
        end=$(date +%s.%N)
        RESULTS[python]+="$(echo "$end - $start" | bc) "
    done
fi

printf '\n%-32s %10s %14s %12s\n' "import ($ROUNDS rounds, median)" "seconds" "records/s" "peak MB"
for run in sqlite_first sqlite_again pg_first pg_again python; do
    [ -n "${RESULTS[$run]:-}" ] || continue
    secs=$(echo "${RESULTS[$run]}" | tr ' ' '\n' | grep . | median)
    mem=$(echo "${RESULTS[${run}_mem]:-0}" | tr ' ' '\n' | grep . | median)
    printf '%-32s %10.1f %14.0f %12.0f\n' "$run" "$secs" "$(echo "$RECORDS / $secs" | bc -l)" "$(echo "$mem / 1024" | bc -l)"
done
