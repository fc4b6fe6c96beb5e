step "the default sweep of a clean /usr/share finds nothing"
"$BIN" --db "$WORK/sweep.db" sweep --threads 2 /usr/share >"$WORK/sweep.out" || { cat "$WORK/sweep.out"; exit 1; }
tail -n 2 "$WORK/sweep.out"

step "host sweep: the zip walker's fuzz target runs 60 s under libFuzzer without a crash"
# Built as the capture target is (40-net.sh): plain cargo on stable Rust with the
# coverage flags cargo-fuzz would pass, no sanitizer (the crate forbids unsafe code).
# Seeds: small archives made here (stored, deflated, one inside another, WannaCry
# names and header), so that the fuzzer starts from real zip structure.
SWEEP_FUZZ_TARGET=$(rustc -vV | sed -n 's/^host: //p')
(
    cd "$ROOT/crates/sweep/fuzz"
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
        cargo build --release --quiet --locked --target "$SWEEP_FUZZ_TARGET" --target-dir "$WORK/sweep-fuzz-target" --bin archive
)
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
# libFuzzer exits non-zero on a crash, a leak, a timeout or running out of memory.
"$WORK/sweep-fuzz-target/$SWEEP_FUZZ_TARGET/release/archive" -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$WORK/sweep-fuzz-" "$WORK/sweep-fuzz-corpus" 2>"$WORK/sweep-fuzz.log" ||
    { tail -40 "$WORK/sweep-fuzz.log"; ls "$WORK"/sweep-fuzz-*; exit 1; }
tail -2 "$WORK/sweep-fuzz.log"
