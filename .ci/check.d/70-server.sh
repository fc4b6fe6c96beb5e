step "server: TAXII 2.1 with taxii2-client, objects checked by stix2-validator"
SRV_DB="$WORK/server.db"
"$BIN" --db "$SRV_DB" org add msft >/dev/null
"$BIN" --db "$SRV_DB" org add partner >/dev/null
"$BIN" --db "$SRV_DB" intel import --org msft --tlp green \
    "$SHARED/corpus/stix/mitre-attack-ics-v18.1-stix21.json.gz" >/dev/null
SRV_TOKEN=$("$BIN" --db "$SRV_DB" token create --org msft --role analyst)
SRV_PARTNER=$("$BIN" --db "$SRV_DB" token create --org partner --role viewer)
# An approver, so that schemathesis reaches the action routes past 403.
SRV_APPROVER=$("$BIN" --db "$SRV_DB" token create --org msft --role approver --for carol)
SRV_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --db "$SRV_DB" serve --listen "127.0.0.1:$SRV_PORT" 2>"$WORK/serve.log" &
SRV_PID=$!
on_exit kill "$SRV_PID"
for _ in $(seq 100); do
    curl -sf -o /dev/null -H "Authorization: Bearer $SRV_TOKEN" "http://127.0.0.1:$SRV_PORT/taxii2/" && break
    sleep 0.1
done
"$SERVER_VENV/bin/python" "$ROOT/.ci/taxii_conformance.py" "http://127.0.0.1:$SRV_PORT" "$SRV_TOKEN" "$SRV_PARTNER"

step "server: schemathesis against /api/v1/openapi.json (no 5xx, responses match the schema)"
# From the scratch directory: schemathesis keeps its example database in the current one.
(
    cd "$WORK"
    "$SERVER_VENV/bin/schemathesis" run "http://127.0.0.1:$SRV_PORT/api/v1/openapi.json" \
        --url "http://127.0.0.1:$SRV_PORT" -H "Authorization: Bearer $SRV_APPROVER" --max-examples 25 --workers 1 \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
)
kill -TERM "$SRV_PID"; wait "$SRV_PID" || true

step "server: the dashboard in headless Chromium (log in, approve an action, audit trail, screenshot)"
# A campaign owned by msft with findings from a sweep, a capture and the account
# ranking; alice plans its actions, bob (an approver of msft) approves one in the
# browser: the quarantine is destructive, so the two-person rule lets only him.
UI_DB="$WORK/dashboard.db"
UI_TREE="$WORK/dashboard-tree"
mkdir -p "$UI_TREE"
printf 'WANACRY!....' >"$UI_TREE/report.pdf.WNCRY"
printf 'MZ' >"$UI_TREE/tasksche.exe"
"$BIN" --db "$UI_DB" org add msft >/dev/null
"$BIN" --db "$UI_DB" campaign create wannacry-lab --org msft --tlp amber \
    --description "WannaCry on the lab network" >/dev/null
ui_findings() { # a run that reports findings exits 1
    set +e
    "$BIN" --db "$UI_DB" --user alice "$@" >/dev/null
    local code=$?
    set -e
    test "$code" -le 1
}
ui_findings sweep --campaign wannacry-lab "$UI_TREE"
ui_findings net --campaign wannacry-lab "$SHARED/corpus/pcaps/wannacry.pcap"
UI_GRAPH="$SHARED/corpus/graphs/sybil-facebook"
head -n 1 "$UI_GRAPH/train.txt" >"$WORK/ui-real.txt"
sed -n 2p "$UI_GRAPH/train.txt" >"$WORK/ui-fake.txt"
ui_findings accounts rank --campaign wannacry-lab --edges "$UI_GRAPH/graph.txt" --fake-seeds "$WORK/ui-fake.txt" \
    --real-seeds "$WORK/ui-real.txt" --scores "$WORK/ui-scores.txt" --top 24
awk 'NR == 2 { for (i = 1; i <= 4; i++) print $i }' "$UI_GRAPH/train.txt" >"$WORK/ui-fake4.txt"
ui_findings accounts exposure --campaign wannacry-lab --edges "$UI_GRAPH/graph.txt" --fake "$WORK/ui-fake4.txt"
"$BIN" --db "$UI_DB" --user alice plan --campaign wannacry-lab >/dev/null
UI_TOKEN=$("$BIN" --db "$UI_DB" token create --org msft --role approver --for bob)
UI_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --db "$UI_DB" serve --listen "127.0.0.1:$UI_PORT" 2>"$WORK/serve-ui.log" &
UI_PID=$!
on_exit kill "$UI_PID"
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$UI_PORT/ui/login" && break
    sleep 0.1
done
mkdir -p "$ROOT/target/ci-artifacts"
"$SERVER_VENV/bin/python" "$ROOT/.ci/dashboard_browser.py" "http://127.0.0.1:$UI_PORT" "$UI_TOKEN" \
    wannacry-lab bob "$ROOT/target/ci-artifacts/dashboard.png"
kill -TERM "$UI_PID"; wait "$UI_PID" || true
