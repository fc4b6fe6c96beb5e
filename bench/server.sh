#!/usr/bin/env bash
# Server benchmark.
#  1. TAXII paging: 10,000 STIX 2.1 indicators served by `takedown serve` and by
#     medallion (PyPI, memory backend, its own `medallion` command), both read with
#     the same OASIS taxii2-client paging 100 objects a request: objects/s, median of
#     RUNS (default 5), and the ratio.
#  2. Load: wrk for 60 s with 2 threads and 32 connections on takedown's TAXII
#     objects endpoint (first page of 100): requests/s, p50, p99, errors.
#
#   bench/server.sh [RUNS]
#
# Installs wrk from Debian and medallion + taxii2-client into a virtual environment
# under target/bench-tools when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
N=${BENCH_OBJECTS:-10000}
DURATION=${BENCH_DURATION:-60s}
TOOLS=$ROOT/target/bench-tools
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
VENV=$TOOLS/server-venv
[ -x "$VENV/bin/medallion" ] || {
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check medallion taxii2-client
}
cargo build --release --quiet -p takedown-cli
TD=$ROOT/target/release/takedown

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL USER PASSWORD
    for _ in $(seq 300); do curl -sf -o /dev/null -u "$2:$3" -H 'Accept: application/taxii+json;version=2.1' "$1" && return 0; sleep 0.1; done
    echo "nothing answers at $1" >&2; return 1
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

MD_PORT=$(free_port)
python3 "$ROOT/bench/taxii_objects.py" "$N" "$WORK/bundle.json" "$WORK/medallion-data.json" "http://127.0.0.1:$MD_PORT/bench/"

# takedown: the objects imported as TLP:CLEAR, a viewer token of another member org.
DB=$WORK/td.db
"$TD" --db "$DB" org add bench >/dev/null
"$TD" --db "$DB" org add reader >/dev/null
"$TD" --db "$DB" intel import --org bench --tlp clear "$WORK/bundle.json" >/dev/null
TOKEN=$("$TD" --db "$DB" token create --org reader --role viewer)
TD_PORT=$(free_port)
"$TD" --db "$DB" serve --listen "127.0.0.1:$TD_PORT" 2>"$WORK/td.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$TD_PORT/taxii2/" bench "$TOKEN"

cat >"$WORK/medallion.json" <<CONF
{"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend", "filename": "$WORK/medallion-data.json", "session_timeout": 3600},
 "users": {"bench": "bench"},
 "taxii": {"max_page_size": 100}}
CONF
"$VENV/bin/medallion" --port "$MD_PORT" --log-level ERROR "$WORK/medallion.json" 2>"$WORK/medallion.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$MD_PORT/taxii2/" bench bench

echo "== TAXII paging, $N objects, 100 a request, $RUNS runs each (alternating)"
: >"$WORK/td.rates"; : >"$WORK/md.rates"
for run in $(seq "$RUNS"); do
    read -r n s < <("$VENV/bin/python" "$ROOT/bench/taxii_fetch.py" "http://127.0.0.1:$TD_PORT/taxii2/" bench "$TOKEN" 100)
    echo "takedown   run $run: $n objects in $s s"
    awk -v n="$n" -v s="$s" 'BEGIN {print n/s}' >>"$WORK/td.rates"
    read -r n s < <("$VENV/bin/python" "$ROOT/bench/taxii_fetch.py" "http://127.0.0.1:$MD_PORT/taxii2/" bench bench 100)
    echo "medallion  run $run: $n objects in $s s"
    awk -v n="$n" -v s="$s" 'BEGIN {print n/s}' >>"$WORK/md.rates"
done
TD_RATE=$(median <"$WORK/td.rates")
MD_RATE=$(median <"$WORK/md.rates")
printf 'median objects/s: takedown %.0f, medallion %.0f, ratio %.1fx\n' "$TD_RATE" "$MD_RATE" \
    "$(awk -v a="$TD_RATE" -v b="$MD_RATE" 'BEGIN {print a/b}')"

echo "== wrk $DURATION, 2 threads, 32 connections: takedown TAXII objects, first page of 100"
AUTH=$(printf 'bench:%s' "$TOKEN" | base64 -w0)
COLL=$(curl -sf -u "bench:$TOKEN" -H 'Accept: application/taxii+json;version=2.1' \
    "http://127.0.0.1:$TD_PORT/taxii2/root/collections/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["collections"][0]["id"])')
wrk -t2 -c32 -d"$DURATION" --latency \
    -H "Authorization: Basic $AUTH" -H 'Accept: application/taxii+json;version=2.1' \
    "http://127.0.0.1:$TD_PORT/taxii2/root/collections/$COLL/objects/?limit=100"
