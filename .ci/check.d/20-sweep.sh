step "the default sweep of a clean /usr/share finds nothing"
"$BIN" --db "$WORK/sweep.db" sweep --threads 2 /usr/share >"$WORK/sweep.out" || { cat "$WORK/sweep.out"; exit 1; }
tail -n 2 "$WORK/sweep.out"

step "host sweep: the zip walker's fuzz target runs 30 s under libFuzzer without a crash"
# Seeds: small archives made here (stored, deflated, one inside another, WannaCry
# names and header), so that the fuzzer starts from real zip structure.
mkdir -p "$WORK/sweep-fuzz-corpus"
python3 - "$WORK/sweep-fuzz-corpus" <<'PY'
import io, sys, zipfile
out = sys.argv[1]
def archive(members, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()
plain = archive([("a.txt", b"hello\n"), ("b.exe", b"MZ\x90\x00" + bytes(60))], zipfile.ZIP_STORED)
deflated = archive([("x/notes.txt.WNCRY", b"WANACRY!" + b"A" * 5000), ("@Please_Read_Me@.txt", b"pay")], zipfile.ZIP_DEFLATED)
nested = archive([("inner.zip", deflated), ("c.txt", b"c")], zipfile.ZIP_DEFLATED)
for name, data in [("plain.zip", plain), ("deflated.zip", deflated), ("nested.zip", nested)]:
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)
PY
fuzz_for 30 "$ROOT/crates/sweep/fuzz" archive "$WORK/sweep-fuzz-corpus"
