#!/usr/bin/env bash
# What each finds on every shared capture: takedown's verdicts (hosts and roles) beside
# Suricata 7's alerts with the MS17-010 rules and with all of ET Open, each with and
# without stream.midstream, and beside truth.json. Prints two Markdown tables (the
# docs/net.md's) and writes every alert to $WORK/alerts.md.
#
#   bench/net-compare.sh
#
# Needs ../shared beside the repository and root (it installs Suricata through
# bench/net-peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=$(cd "$ROOT/.." && pwd)/shared
PCAPS=$SHARED/corpus/pcaps
RULES=$SHARED/corpus/suricata
WORK=${BENCH_DIR:-/tmp/takedown-bench-net}/compare
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[ -d "$PCAPS" ] || { echo "needs $PCAPS" >&2; exit 2; }

bench/net-peers.sh >/dev/null
cargo build --release --quiet -p takedown-cli --bin takedown
TD=$CARGO_TARGET_DIR/release/takedown
mkdir -p "$WORK"
ET=$WORK/et-open.rules
[ -f "$ET" ] || zcat "$RULES/et-open-enabled.rules.gz" >"$ET"

# Every output but eve.json (which the alerts are read from) off.
OUT="--set outputs.0.fast.enabled=no --set outputs.7.stats.enabled=no"
for pcap in "$PCAPS"/*.pcap; do
    name=$(basename "$pcap" .pcap)
    "$TD" --db "$WORK/takedown.db" --output-format json net "$pcap" >"$WORK/$name.takedown.json" || [ $? -eq 1 ]
    for mid in false true; do
        log=$WORK/$name.ms17010.midstream-$mid
        rm -rf "$log"
        mkdir -p "$log"
        suricata --runmode single -r "$pcap" -S "$RULES/ms17010.rules" -l "$log" --set stream.midstream=$mid $OUT \
            >"$log/suricata.out" 2>&1 || { cat "$log/suricata.out" >&2; exit 1; }
    done
done

# ET Open takes long to load (24,827 rules): one Suricata per midstream setting, in
# unix-socket mode, loads them once and reads each capture as a run of its own (flows
# do not carry over from one file to the next).
for mid in false true; do
    sock=$WORK/suricata-$mid.socket
    rm -f "$sock"
    suricata --unix-socket="$sock" --runmode single -S "$ET" -l "$WORK" --set stream.midstream=$mid $OUT \
        >"$WORK/suricata-et-$mid.out" 2>&1 &
    pid=$!
    until suricatasc -c version "$sock" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/suricata-et-$mid.out" >&2; exit 1; }
        sleep 2
    done
    for pcap in "$PCAPS"/*.pcap; do
        log=$WORK/$(basename "$pcap" .pcap).et.midstream-$mid
        rm -rf "$log"
        mkdir -p "$log"
        suricatasc -c "pcap-file $pcap $log" "$sock" >/dev/null
    done
    until suricatasc -c pcap-file-number "$sock" | grep -q '"message": 0' &&
        suricatasc -c pcap-current "$sock" | grep -q '"message": "None"'; do
        sleep 1
    done
    suricatasc -c shutdown "$sock" >/dev/null || true
    wait "$pid" || true
    echo "done: ET Open, midstream $mid" >&2
done

python3 - "$WORK" "$PCAPS" <<'PY'
import json, os, sys
from collections import Counter
work, pcaps = sys.argv[1], sys.argv[2]
truth = json.load(open(os.path.join(pcaps, "truth.json")))
ROLE_KEYS = [("attackers", "attacker"), ("exploited", "exploited"), ("implanted", "implanted"),
             ("vulnerable", "vulnerable")]
ORDER = ["attacker", "exploited", "implanted", "vulnerable", "patched"]

def by_role(pairs):
    """{role: [ip...]} -> 'attacker: a, b; exploited: c'"""
    out = []
    for role in ORDER:
        ips = sorted(pairs.get(role, []), key=lambda ip: tuple(int(x) for x in ip.split(".")) if "." in ip else ip)
        if ips:
            out.append(f"{role} {', '.join(ips)}")
    return "; ".join(out) or "nothing"

def alerts(name, rules, mid):
    path = os.path.join(work, f"{name}.{rules}.midstream-{mid}", "eve.json")
    found = []
    if os.path.exists(path):
        for line in open(path):
            e = json.loads(line)
            if e.get("event_type") == "alert":
                found.append(e)
    return found

def cell(found):
    if not found:
        return "**no alert**"
    sigs = {e["alert"]["signature_id"] for e in found}
    hosts = {e["src_ip"] for e in found} | {e["dest_ip"] for e in found}
    def n(k, word):
        return f"{k} {word}" + ("" if k == 1 else "s")
    return f"{n(len(found), 'alert')}, {n(len(sigs), 'signature')}, {n(len(hosts), 'host')}"

names = sorted(f[:-5] for f in os.listdir(pcaps) if f.endswith(".pcap"))
print("| capture | truth.json | takedown net | Suricata, MS17-010 rules | same, midstream | Suricata, ET Open | same, midstream |")
print("|---|---|---|---|---|---|---|")
detail = []
for name in names:
    t = truth.get(name + ".pcap", {})
    expected = {role: t.get(key, []) for key, role in ROLE_KEYS}
    doc = json.load(open(os.path.join(work, f"{name}.takedown.json")))
    got = {}
    for h in doc["hosts"]:
        for r in h["roles"]:
            if r != "clean":
                got.setdefault(r, []).append(h["ip"])
    cols = [cell(alerts(name, r, m)) for r in ("ms17010", "et") for m in ("false", "true")]
    print(f"| `{name}.pcap` | {by_role(expected)} | {by_role(got)} | " + " | ".join(cols) + " |")
    for rules in ("ms17010", "et"):
        for mid in ("false", "true"):
            c = Counter((e["alert"]["signature_id"], e["alert"]["signature"]) for e in alerts(name, rules, mid))
            for (sid, msg), n in sorted(c.items()):
                detail.append(f"| `{name}.pcap` | {rules} | {mid} | {sid} | {msg} | {n} |")

print()
print("| capture | rules | midstream | sid | signature | alerts |")
print("|---|---|---|---|---|---|")
print("\n".join(detail))
PY
