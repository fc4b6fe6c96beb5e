# Actions: the RPZ export loads in BIND's own checker, and `harden check` tells the
# two Samba servers of setup.d/60-act.sh apart by exit code and JSON.
step "act: RPZ export passes named-checkzone"
ACT_RPZ="$WORK/act/takedown.rpz"
"$BIN" --db "$WORK/act/check.db" block --format rpz --zone rpz.takedown -o "$ACT_RPZ" \
    --indicator evil.example --indicator 198.51.100.7 \
    --indicator www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com
named-checkzone rpz.takedown "$ACT_RPZ"
grep -q "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com IN A" "$ACT_RPZ"

step "act: harden check says SMB1 on (NT1, exit 1), then off (SMB2_02, exit 0)"
set +e
"$BIN" harden check --output-format json "$TAKEDOWN_SMB1_ON" >"$WORK/act/on.json"; ACT_ON=$?
"$BIN" harden check --output-format json "$TAKEDOWN_SMB1_OFF" >"$WORK/act/off.json"; ACT_OFF=$?
set -e
cat "$WORK/act/on.json" "$WORK/act/off.json"
[ "$ACT_ON" -eq 1 ] && grep -q '"smb1": true' "$WORK/act/on.json"
[ "$ACT_OFF" -eq 0 ] && grep -q '"smb1": false' "$WORK/act/off.json"
# Samba is not vulnerable to MS17-010: its answer to the probe must read as patched.
grep -q '"ms17_010": "patched"' "$WORK/act/on.json"
