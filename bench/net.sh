#!/usr/bin/env bash
# Capture analysis benchmark: `takedown net` against Suricata 7 (`suricata -r`) on one
# capture of at least 200 MB, built from the shared captures repeated with shifted
# timestamps (and shifted addresses, so that every copy is new connections: see
# crates/net/examples/repeat.rs). Suricata runs with one packet thread (`--runmode
# single`), `stream.midstream=true`, every output off, first with the 23 MS17-010 rules
# (ms17010.rules), then with all of ET Open (et-open-enabled.rules.gz). takedown reads
# the file on one thread as well (its analysis has no threads of its own).
#
#   bench/net.sh [RUNS]        (default 5; medians are reported)
#
# Reported: wall-clock medians, user+system CPU medians, MB/s and packets/s for each,
# and Suricata's time over takedown's (the ratio), both in wall-clock and in CPU time.
# Suricata's times include loading its rules; a row on a one-packet capture shows how
# much that is. Needs ../shared beside the repository and root (apt); adds Debian's
# bookworm-backports suite when it is missing and installs suricata from it, and
# hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
SHARED=$(cd "$ROOT/.." && pwd)/shared
PCAPS=$SHARED/corpus/pcaps
RULES=$SHARED/corpus/suricata
WORK=${BENCH_DIR:-/tmp/takedown-bench-net}
MIN_BYTES=${BENCH_BYTES:-200000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[ -d "$PCAPS" ] || { echo "needs $PCAPS" >&2; exit 2; }
[ -f "$RULES/ms17010.rules" ] || { echo "needs $RULES/ms17010.rules" >&2; exit 2; }

bench/net-peers.sh

cargo build --release --quiet -p takedown-cli -p takedown-net --bin takedown --example repeat
TD=$CARGO_TARGET_DIR/release/takedown
REPEAT=$CARGO_TARGET_DIR/release/examples/repeat

mkdir -p "$WORK/log"
BIG=$WORK/big.pcap
if [ ! -f "$BIG" ]; then
    "$REPEAT" "$BIG.part" "$MIN_BYTES" "$PCAPS"/*.pcap
    mv "$BIG.part" "$BIG"
fi
# The first packet of one shared capture alone: Suricata's start-up cost.
ONE=$WORK/one.pcap
python3 - "$PCAPS/eternalblue-failed-patched-win7.pcap" "$ONE" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
caplen = int.from_bytes(b[32:36], "little")
open(sys.argv[2], "wb").write(b[: 24 + 16 + caplen])
PY
ET=$WORK/et-open.rules
[ -f "$ET" ] || zcat "$RULES/et-open-enabled.rules.gz" >"$ET"

DB=$WORK/takedown.db
"$TD" --db "$DB" --output-format json net "$BIG" >"$WORK/takedown-big.json" || [ $? -eq 1 ]
PACKETS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["packets"])' "$WORK/takedown-big.json")
BYTES=$(stat -c %s "$BIG")
echo "capture: $BIG, $BYTES bytes, $PACKETS packets"

OFF="--set outputs.0.fast.enabled=no --set outputs.1.eve-log.enabled=no --set outputs.7.stats.enabled=no"
SURI="suricata --runmode single --set stream.midstream=true $OFF -l $WORK/log"
# Suricata must have read every packet: its last line says how many.
$SURI -S "$RULES/ms17010.rules" -r "$BIG" 2>&1 | grep -q "read 1 file, $PACKETS packets" ||
    { echo "suricata did not read $PACKETS packets from $BIG" >&2; exit 1; }

# Rounds, each running every command once: a burst of load from elsewhere on the
# machine then falls on every command alike. Round 0 warms the page cache and is dropped.
for round in $(seq 0 "$RUNS"); do
    hyperfine --style none --runs 1 --export-json "$WORK/round-$round.json" \
        -n "takedown net" "$TD --db $DB net $BIG" \
        -n "suricata, MS17-010 rules" "$SURI -S $RULES/ms17010.rules -r $BIG" \
        -n "suricata, ET Open" "$SURI -S $ET -r $BIG" \
        -n "suricata, MS17-010 rules, one packet (start-up)" "$SURI -S $RULES/ms17010.rules -r $ONE" \
        -n "suricata, ET Open, one packet (start-up)" "$SURI -S $ET -r $ONE" \
        -i >/dev/null
    [ "$round" = 0 ] || echo "round $round of $RUNS done"
done

python3 - "$WORK" "$RUNS" "$BYTES" "$PACKETS" <<'PY'
import json, statistics, sys
work, runs, size, packets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wall, cpu = {}, {}
for r in range(1, runs + 1):
    for res in json.load(open(f"{work}/round-{r}.json"))["results"]:
        wall.setdefault(res["command"], []).extend(res["times"])
        cpu.setdefault(res["command"], []).append(res["user"] + res["system"])
order = list(wall)
w = {c: statistics.median(wall[c]) for c in order}
c = {k: statistics.median(cpu[k]) for k in order}
ours = "takedown net"
print(f"\n{size / 1e6:,.0f} MB, {packets:,} packets; medians of {runs} rounds\n")
print("| command | wall s | CPU s | MB/s (wall) | packets/s (wall) | its wall time / takedown's | its CPU time / takedown's |")
print("|---|---|---|---|---|---|---|")
for k in order:
    if "one packet" in k:
        print(f"| {k} | {w[k]:.2f} | {c[k]:.2f} | | | | |")
        continue
    print(f"| {k} | {w[k]:.2f} | {c[k]:.2f} | {size / 1e6 / w[k]:,.0f} | {packets / w[k]:,.0f} "
          f"| {w[k] / w[ours]:.1f} | {c[k] / c[ours]:.1f} |")
PY
