step "registry hives: the hive reader's fuzz target runs 30 s under libFuzzer without a crash"
# Seeds: the first 64 KiB of each real hive (the base block, the root and the first
# keys and values), so that the fuzzer starts from real cells and lists.
mkdir -p "$WORK/hive-fuzz-corpus"
for f in SYSTEM NTUSER.DAT; do
    head -c 65536 "$SHARED/corpus/hives/$f" >"$WORK/hive-fuzz-corpus/$f"
done
fuzz_for 30 "$ROOT/crates/hive/fuzz" hive "$WORK/hive-fuzz-corpus"
