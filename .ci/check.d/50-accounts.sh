# Accounts: the standard evaluation on the shared graphs (ego-Facebook and its copy as
# fake region, sybil-facebook as given), 3 repetitions at g = 1 000 and 10 000, and the
# contract forms of rank and exposure on the labelled graph. A minute or two.
GRAPHS="$SHARED/corpus/graphs"

step "accounts eval: triad above both baselines on ego-Facebook, and on sybil-facebook"
"$BIN" --output-format json accounts eval --edges "$GRAPHS/ego-facebook/facebook_combined.txt" \
    --attack-edges 1000,10000 --repetitions 3 --rng-seed 1000 \
    --labelled "$GRAPHS/sybil-facebook" >"$WORK/accounts-eval.json"
python3 - "$WORK/accounts-eval.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for s in v["settings"]:
    auc = {m["method"]: m["auc_mean"] for m in s["methods"]}
    print(f"g={s['attack_edges']}: " + ", ".join(f"{k} {x:.5f}" for k, x in sorted(auc.items())))
    assert auc["triad"] > max(auc["sybilscar"], auc["sybilrank"]), auc
lab = dict(v["labelled"])
print("sybil-facebook: " + ", ".join(f"{k} {x:.5f}" for k, x in sorted(lab.items())))
assert lab["triad"] > 0.95, lab
PY

step "accounts rank and exposure: the contract forms on sybil-facebook"
head -n 1 "$GRAPHS/sybil-facebook/train.txt" >"$WORK/accounts-real.txt"
sed -n 2p "$GRAPHS/sybil-facebook/train.txt" >"$WORK/accounts-fake.txt"
"$BIN" accounts rank --edges "$GRAPHS/sybil-facebook/graph.txt" --fake-seeds "$WORK/accounts-fake.txt" \
    --real-seeds "$WORK/accounts-real.txt" --scores "$WORK/accounts-scores.txt" --method triad --top 3
test "$(wc -l <"$WORK/accounts-scores.txt")" -eq 8078
# Every labelled fake as confirmed: the exposed are the real ends of the attack edges.
{ cat "$WORK/accounts-fake.txt"; sed -n 2p "$GRAPHS/sybil-facebook/test.txt"; } >"$WORK/accounts-all-fake.txt"
set +e
"$BIN" --output-format json accounts exposure --edges "$GRAPHS/sybil-facebook/graph.txt" \
    --fake "$WORK/accounts-all-fake.txt" >"$WORK/accounts-exposure.json"
code=$?
set -e
test "$code" -eq 1
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["exposed"] and v["exposed"][0]["fakes"]; print(len(v["exposed"]), "exposed")' "$WORK/accounts-exposure.json"

step "accounts exposure --scores: the same list ordered by strength from rank's scores"
set +e
"$BIN" --output-format json accounts exposure --edges "$GRAPHS/sybil-facebook/graph.txt" \
    --fake "$WORK/accounts-all-fake.txt" --scores "$WORK/accounts-scores.txt" >"$WORK/accounts-exposure-ranked.json"
code=$?
set -e
test "$code" -eq 1
python3 - "$WORK/accounts-exposure.json" "$WORK/accounts-exposure-ranked.json" <<'PY'
import json, sys
by_count, ranked = (json.load(open(p)) for p in sys.argv[1:3])
assert ranked["order"] == "strength", ranked["order"]
s = [e["strength"] for e in ranked["exposed"]]
assert s == sorted(s, reverse=True), "strongest first"
assert sorted(e["id"] for e in ranked["exposed"]) == sorted(e["id"] for e in by_count["exposed"]), "same people"
print(len(s), "exposed, strongest", ranked["exposed"][0]["id"], round(s[0], 3))
PY
