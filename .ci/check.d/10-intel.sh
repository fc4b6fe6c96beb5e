step "STIX 2.1 exports pass the OASIS validator"
"$BIN" --db "$WORK/pack.db" intel export --format stix21 -o "$WORK/pack.json"
"$BIN" --db "$WORK/attack.db" intel import "$SHARED/corpus/stix/mitre-attack-enterprise-v18.1-stix20.json.gz" >/dev/null
"$BIN" --db "$WORK/attack.db" intel export --format stix21 -o "$WORK/attack.json"
# A campaign's export: the group's slice of ATT&CK and the pack, as one grouping.
"$BIN" --db "$WORK/attack.db" campaign create ci-wannacry --actor ZINC --tlp amber >/dev/null
"$BIN" --db "$WORK/attack.db" intel export --format stix21 --campaign ci-wannacry -o "$WORK/campaign.json"
# The three validations run side by side (the validator uses one core; ATT&CK's takes
# the longest). Checks suppressed for the ATT&CK exports only, because ATT&CK's own
# content trips them (see docs/intel.md, "Validation"): they are listed in
# .ci/attack-validator-disabled.
ATTACK_DISABLED=$(cat "$ROOT/.ci/attack-validator-disabled")
"$VALIDATOR" --version 2.1 --strict --no-cache "$WORK/pack.json" >"$WORK/valid-pack.out" 2>&1 &
VALID_PACK=$!
"$VALIDATOR" --version 2.1 --strict --no-cache --disable "$ATTACK_DISABLED" "$WORK/attack.json" >"$WORK/valid-attack.out" 2>&1 &
VALID_ATTACK=$!
"$VALIDATOR" --version 2.1 --strict --no-cache --disable "$ATTACK_DISABLED" "$WORK/campaign.json" >"$WORK/valid-campaign.out" 2>&1 &
VALID_CAMPAIGN=$!
for v in pack:$VALID_PACK attack:$VALID_ATTACK campaign:$VALID_CAMPAIGN; do
    if wait "${v#*:}"; then
        tail -n 5 "$WORK/valid-${v%%:*}.out"
    else
        cat "$WORK/valid-${v%%:*}.out"
        echo "the ${v%%:*} export failed the OASIS validator" >&2
        exit 1
    fi
done

step "audit trail of the CI store verifies"
"$BIN" --db "$WORK/attack.db" audit verify

# Intel readers under libFuzzer, 30 s each, from small seeds made here: real
# signature-base rules and IOC lines (copied into the scratch directory), a STIX
# pattern set and objects taken from the ICS bundle.
INTEL_FUZZ="$WORK/intel-fuzz"
mkdir -p "$INTEL_FUZZ"/{yara,ioc,stix-object,stix-pattern,intel-file}
for f in apt_lazarus_dec17.yar crime_wannacry.yar gen_hunting_susp_rar.yar; do
    [ -f "$SHARED/corpus/signature-base/yara/$f" ] && cp "$SHARED/corpus/signature-base/yara/$f" "$INTEL_FUZZ/yara/"
done
printf 'rule r { strings: $a = { 4D ( 5A | 90 ) [2-4] } condition: $a and (uint16(0) == 0x5a4d) }\n' >"$INTEL_FUZZ/yara/hex.yar"
for f in hash-iocs filename-iocs c2-iocs; do
    head -n 40 "$SHARED/corpus/signature-base/iocs/$f.txt" >"$INTEL_FUZZ/ioc/$f.txt"
    cp "$INTEL_FUZZ/ioc/$f.txt" "$INTEL_FUZZ/intel-file/"
done
printf '%s' "[file:hashes.'SHA-256' = 'ab12' OR file:name LIKE '%%.scr'] WITHIN 5 SECONDS" >"$INTEL_FUZZ/stix-pattern/a"
printf '%s' "([ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [domain-name:value MATCHES '^x']) FOLLOWEDBY [a:b IN (1, 2)]" \
    >"$INTEL_FUZZ/stix-pattern/b"
python3 - "$SHARED/corpus/stix/mitre-attack-lazarus-wannacry-stix20.json" "$INTEL_FUZZ" <<'PY'
import json, sys
bundle = json.load(open(sys.argv[1]))
seen = set()
for obj in bundle["objects"]:
    if obj["type"] in seen:
        continue
    seen.add(obj["type"])
    with open(f"{sys.argv[2]}/stix-object/{obj['type']}.json", "w") as f:
        json.dump(obj, f)
small = dict(bundle, objects=bundle["objects"][:5])
with open(f"{sys.argv[2]}/intel-file/bundle.json", "w") as f:
    json.dump(small, f)
PY
# The targets are built without yara-x (the intel crate's `yara` feature off: see
# fuzz/fuzz_targets/yara_source.rs), and run two at a time, one a core.
for pair in "yara_source:yara ioc_file:ioc" "stix_object:stix-object stix_pattern:stix-pattern" "intel_file:intel-file"; do
    names=
    for target in $pair; do names+="${target%%:*} "; done
    step "intel: fuzz targets ${names}run 30 s each under libFuzzer without a crash"
    pids=()
    for target in $pair; do
        fuzz_for 30 "$ROOT/fuzz" "${target%%:*}" "$INTEL_FUZZ/${target#*:}" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
done
