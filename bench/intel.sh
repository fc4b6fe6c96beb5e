#!/usr/bin/env bash
# Import of MITRE ATT&CK Enterprise (24,771 STIX 2.0 objects) into a fresh store,
# and its export as STIX 2.1: median of N runs (default 5) of the release build.
# Usage: bench/intel.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
BUNDLE=../shared/corpus/stix/mitre-attack-enterprise-v18.1-stix20.json.gz
[ -f "$BUNDLE" ] || { echo "needs $BUNDLE" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/takedown
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
imports=(); exports=()
for _ in $(seq "$RUNS"); do
    rm -f "$WORK"/t.db*
    imports+=("$(seconds "$BIN" --db "$WORK/t.db" intel import "$BUNDLE")")
    exports+=("$(seconds "$BIN" --db "$WORK/t.db" intel export --format stix21 -o "$WORK/out.json")")
done
printf 'import (fresh store): median %.3f s of %s runs: %s\n' "$(printf '%s\n' "${imports[@]}" | median)" "$RUNS" "${imports[*]}"
printf 'export:               median %.3f s of %s runs: %s\n' "$(printf '%s\n' "${exports[@]}" | median)" "$RUNS" "${exports[*]}"
