step "capture analysis: the benign smbclient capture has no attacker, exploited or implanted host"
"$BIN" --db "$WORK/net.db" net "$TAKEDOWN_BENIGN_PCAP" >"$WORK/net-benign.out" || { cat "$WORK/net-benign.out"; exit 1; }
cat "$WORK/net-benign.out"
step "capture analysis: a file that is not a capture is an error (exit 2)"
echo "not a capture" >"$WORK/net-junk.pcap"
set +e
"$BIN" --db "$WORK/net.db" net "$WORK/net-junk.pcap" 2>"$WORK/net-junk.err"
code=$?
set -e
[ "$code" -eq 2 ] || { echo "exit $code"; cat "$WORK/net-junk.err"; exit 1; }
cat "$WORK/net-junk.err"
