step "the default sweep of a clean /usr/share finds nothing"
"$BIN" --db "$WORK/sweep.db" sweep --threads 2 /usr/share >"$WORK/sweep.out" || { cat "$WORK/sweep.out"; exit 1; }
tail -n 2 "$WORK/sweep.out"
