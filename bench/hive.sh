#!/usr/bin/env bash
# Registry hive reading: takedown's hive reader (every key, every value's name and
# data: crates/hive/examples/walk.rs) against libhivex's hivexml (the same reading,
# printed as XML to /dev/null) on the real hives of ../shared/corpus/hives, side by
# side in one hyperfine run; medians, and MB/s from the hives' sizes.
#
#   bench/hive.sh [RUNS]        (default 10)
#
# Installs libhivex-bin and hyperfine from Debian when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-10}
HIVES=$(cd "$ROOT/.." && pwd)/shared/corpus/hives
[ -f "$HIVES/SYSTEM" ] || { echo "needs $HIVES" >&2; exit 2; }
need_apt() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need_apt hivexml libhivex-bin
need_apt hyperfine hyperfine
cargo build --release --quiet -p takedown-hive --examples
WALK=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/walk
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for h in SYSTEM NTUSER.DAT; do
    "$WALK" "$HIVES/$h"
    hyperfine --runs "$RUNS" --warmup 2 --style basic --export-json "$OUT/$h.json" \
        -n takedown "$WALK $HIVES/$h" \
        -n hivexml "hivexml $HIVES/$h >/dev/null" >/dev/null
    python3 - "$OUT/$h.json" "$(stat -c %s "$HIVES/$h")" "$h" <<'PY'
import json, sys
runs = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]) / 1e6
t, x = runs["takedown"], runs["hivexml"]
print(f"{sys.argv[3]} ({size:.1f} MB): takedown {t*1e3:.1f} ms ({size/t:.0f} MB/s), "
      f"hivexml {x*1e3:.1f} ms ({size/x:.0f} MB/s): {x/t:.1f}x")
PY
done
