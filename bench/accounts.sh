#!/usr/bin/env bash
# Accounts ranking speed on synthetic R-MAT graphs from a fixed RNG seed (Graph500
# parameters, average degree about 16): CSR build time, nanoseconds per adjacency entry
# and iteration of each method (ours and the baselines, all in our code) as wall time x
# threads and as processor time (which leaves out time other processes held the cores),
# graph bytes per edge and per account, peak memory (/usr/bin/time -v). Each size runs
# RUNS times (default 3); every run's lines are printed, take the medians.
# Usage: [METHODS=LIST] bench/accounts.sh [RUNS] [EDGES...]   (default: 3 10000000 100000000)
# METHODS (comma-separated, default sybilrank,sybilscar,triad) picks the methods timed.
# The billion-edge run is manual, on a quiet machine with 24 GiB, see BENCHMARKS.md:
#   METHODS=sybilrank,sybilscar bench/accounts.sh 1 1000000000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000000 100000000)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p takedown-accounts --example bench
BIN=$CARGO_TARGET_DIR/release/examples/bench
for m in "${SIZES[@]}"; do
    for run in $(seq "$RUNS"); do
        echo "== $m edges, run $run"
        /usr/bin/time -v "$BIN" "$m" --methods "${METHODS:-sybilrank,sybilscar,triad}" 2>"${TMPDIR:-/tmp}/accounts-bench.time"
        grep -E 'Maximum resident|Elapsed' "${TMPDIR:-/tmp}/accounts-bench.time"
    done
done
