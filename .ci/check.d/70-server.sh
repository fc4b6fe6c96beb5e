step "server: TAXII 2.1 with taxii2-client, objects checked by stix2-validator"
SRV_DB="$WORK/server.db"
"$BIN" --db "$SRV_DB" org add msft >/dev/null
"$BIN" --db "$SRV_DB" org add partner >/dev/null
"$BIN" --db "$SRV_DB" intel import --org msft --tlp green \
    "$SHARED/corpus/stix/mitre-attack-ics-v18.1-stix21.json.gz" >/dev/null
SRV_TOKEN=$("$BIN" --db "$SRV_DB" token create --org msft --role analyst)
SRV_PARTNER=$("$BIN" --db "$SRV_DB" token create --org partner --role viewer)
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
"$SERVER_VENV/bin/schemathesis" run "http://127.0.0.1:$SRV_PORT/api/v1/openapi.json" \
    --url "http://127.0.0.1:$SRV_PORT" -H "Authorization: Bearer $SRV_TOKEN" --max-examples 25 --workers 1 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
kill -TERM "$SRV_PID"; wait "$SRV_PID" || true
