#!/usr/bin/env bash
# Host sweep benchmark: takedown sweep (YARA + hashes + names + artefacts) against
# the YARA-X CLI (`yr scan`) and classic `yara -r`, all with the full signature-base
# rule set and two threads, on one tree of at least 20,000 files (files from
# /usr/share plus files planted from the WannaCry and Lazarus rules), warm cache.
# Compiled rules are compared with compiled rules, sources with sources. takedown
# also looks inside zip archives (the peers do not); `--no-archives` shows the same
# job without that.
#
#   bench/sweep.sh [RUNS]        (default 5; medians are reported)
#
# Needs ../shared beside the repository. Installs yara and hyperfine from Debian
# and yara-x-cli 1.22.1 with cargo when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
SHARED=$(cd "$ROOT/.." && pwd)/shared
RULES=$SHARED/corpus/signature-base/yara
IOCS=$SHARED/corpus/signature-base/iocs
WORK=${BENCH_DIR:-/tmp/takedown-bench-sweep}
FILES=${BENCH_FILES:-20000}
[ -d "$RULES" ] || { echo "needs $RULES" >&2; exit 2; }

need_apt() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need_apt yara yara
need_apt hyperfine hyperfine
YR=${YR:-$(command -v yr || true)}
if [ -z "$YR" ]; then
    cargo install yara-x-cli --version 1.22.1 --locked --root "$ROOT/target/bench-tools"
    YR=$ROOT/target/bench-tools/bin/yr
fi

# One build for both, so that both see the same features (a separate build of the
# sweep crate alone would compile yara-x a second time).
cargo build --release --quiet -p takedown-cli -p takedown-sweep --bins --examples
TD=$ROOT/target/release/takedown
PLANT=$ROOT/target/release/examples/plant

mkdir -p "$WORK"
TREE=$WORK/tree
if [ ! -d "$TREE" ]; then
    echo "building the tree: $FILES files from /usr/share, plus planted files"
    rm -rf "$TREE.part"
    mkdir -p "$TREE.part/usr-share"
    # sed reads to the end, so the pipeline never dies of SIGPIPE under pipefail.
    (cd /usr/share && find . -type f -size -64M | LC_ALL=C sort | sed -n "1,${FILES}p") > "$WORK/files.txt"
    tar -C /usr/share -cf - -T "$WORK/files.txt" | tar -C "$TREE.part/usr-share" -xf -
    "$PLANT" rules "$TREE.part/planted" "$RULES"/crime_wannacry.yar "$RULES"/apt_lazarus_*.yar
    "$PLANT" host "$TREE.part/planted-host"
    mv "$TREE.part" "$TREE"
fi
NFILES=$(find "$TREE" -type f | wc -l)
NBYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $NFILES files, $NBYTES bytes"

# takedown's store: signature-base's IOC files and rules, and the built-in pack.
DB=$WORK/takedown.db
[ -f "$DB" ] || "$TD" --db "$DB" intel import "$IOCS" "$RULES" >/dev/null
CACHE=$WORK/takedown-cache

# The peers get the same rules with the five Loki externals defined (as empty
# strings, as takedown declares them), one namespace per rule file.
YR_DEFS="-d 'filename=\"\"' -d 'filepath=\"\"' -d 'extension=\"\"' -d 'filetype=\"\"' -d 'owner=\"\"'"
YARA_DEFS='-d filename= -d filepath= -d extension= -d filetype= -d owner='
eval "$YR" compile -w --relaxed-re-syntax --path-as-namespace $YR_DEFS -o "$WORK/rules.yarx" "$RULES" >/dev/null
yarac -w $YARA_DEFS "$RULES"/*.yar "$WORK/rules.yarac"

# Rounds, each running every command once, rather than all runs of one command and
# then the next: on a shared machine a burst of load then falls on every command
# alike, and the ratios stay fair. The first round warms the cache and is not kept.
for round in $(seq 0 "$RUNS"); do
    hyperfine --style none --ignore-failure --runs 1 --export-json "$WORK/round-$round.json" \
        --prepare "rm -rf $CACHE" --prepare "rm -rf $CACHE" --prepare "true" --prepare "true" --prepare "true" --prepare "true" --prepare "true" --prepare "true" \
        -n "takedown sweep (sources)" "$TD --db $DB sweep --threads 2 $TREE" \
        -n "takedown sweep --no-archives (sources)" "$TD --db $DB sweep --threads 2 --no-archives $TREE" \
        -n "takedown sweep (compiled)" "$TD --db $DB sweep --threads 2 $TREE" \
        -n "takedown sweep --no-archives (compiled)" "$TD --db $DB sweep --threads 2 --no-archives $TREE" \
        -n "yr scan (sources)" "$YR scan -w --relaxed-re-syntax --path-as-namespace $YR_DEFS -p 2 -r $RULES $TREE" \
        -n "yr scan (compiled)" "$YR scan -C -w -p 2 -r $WORK/rules.yarx $TREE" \
        -n "yara -r -p 2 (sources)" "yara -w -r -p 2 $YARA_DEFS $RULES/*.yar $TREE" \
        -n "yara -r -p 2 (compiled)" "yara -C -w -r -p 2 $WORK/rules.yarac $TREE"
    [ "$round" = 0 ] || echo "round $round of $RUNS done"
done
python3 - "$WORK" "$RUNS" > "$WORK/sweep.json" <<'PY'
import json, sys
work, runs = sys.argv[1], int(sys.argv[2])
times, cpu = {}, {}
for r in range(1, runs + 1):
    for res in json.load(open(f"{work}/round-{r}.json"))["results"]:
        times.setdefault(res["command"], []).extend(res["times"])
        # Processor time (user + system): steadier than wall time on a shared machine.
        cpu.setdefault(res["command"], []).append(res["user"] + res["system"])
print(json.dumps({"results": [{"command": c, "times": t, "cpu": cpu[c]} for c, t in times.items()]}))
PY

python3 - "$WORK/sweep.json" "$NFILES" "$NBYTES" <<'PY'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
files, size = int(sys.argv[2]), int(sys.argv[3])
med = {r["command"]: statistics.median(r["times"]) for r in data["results"]}
cpu = {r["command"]: statistics.median(r["cpu"]) for r in data["results"]}
print(f"\ntree: {files:,} files, {size / 1e6:,.0f} MB; medians of {len(data['results'][0]['times'])} rounds\n")
print("| command | median s | files/s | MB/s | its time / takedown --no-archives's | its time / takedown's | processor s | its processor time / takedown --no-archives's |")
print("|---|---|---|---|---|---|---|---|")
for name, t in med.items():
    mode = "compiled" if "compiled" in name else "sources"
    same = med[f"takedown sweep --no-archives ({mode})"]
    whole = med[f"takedown sweep ({mode})"]
    c, c_same = cpu[name], cpu[f"takedown sweep --no-archives ({mode})"]
    print(f"| {name} | {t:.2f} | {files / t:,.0f} | {size / 1e6 / t:.1f} | {t / same:.2f} | {t / whole:.2f} | {c:.1f} | {c / c_same:.2f} |")
PY
