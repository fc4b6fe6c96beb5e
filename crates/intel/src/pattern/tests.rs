#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::{json, Value};

/// Examples from STIX 2.1 section 9 (and its patterning examples), as written there.
const SPEC_EXAMPLES: &[&str] = &[
    r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    r"[email-message:from_ref.value MATCHES '.+\\@example\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']",
    r"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:mime_type = 'application/x-pdf']",
    r"[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] AND [file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    r"[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\foo\\bar'] WITHIN 300 SECONDS",
    r"[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND [user-account:account_type = 'unix' AND user-account:user_id = '1009' AND user-account:account_login = 'Mary']",
    r"[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES '\\xd4\\xc3\\xb2\\xa1\\x02\\x00\\x04\\x00']",
    r"[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\Windows\\System32']",
    r"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    r"[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    r"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
    r"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    r"[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
    r"[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    r"[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    r"[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']",
    r"[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = t'2014-01-13T07:03:17Z']",
    r"[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = 'Conference Info']",
    r"[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    r"[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] FOLLOWEDBY [process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    r"[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    r"[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    r"[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    r"([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY [domain-name:value = 'example.com']) WITHIN 600 SECONDS",
    r"[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'",
    r"[domain-name:value = 'example.com'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    r"[file:name LIKE 'update%.exe' AND file:size IN (1024, 2048, 4096)]",
    r"[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    r"[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\Run' AND EXISTS windows-registry-key:values]",
    r"[file:name NOT LIKE '%.txt' AND file:size NOT IN (0, 1) AND file:size >= 10 AND file:size <= 99999 AND file:size < 100000 AND file:size != 5]",
    r"[ipv6-addr:value ISSUPERSET '2001:db8::1'] OR ([process:pid = 4] AND [process:name != 'System'])",
];

fn obs() -> Vec<Value> {
    vec![
        json!({"type": "file", "name": "invoice.scr", "size": 2048,
               "hashes": {"SHA-256": "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F", "MD5": "cead3f77f6cda6ec00f57d76c9a6879f"},
               "created": "2014-01-13T07:03:17.000Z", "magic_number_hex": "FFD8", "mime_type": "image/bmp",
               "extensions": {"windows-pebinary-ext": {"sections": [{"entropy": 3.5}, {"entropy": 7.9}]}}}),
        json!({"type": "file", "name": "notes.txt", "size": 10}),
        json!({"type": "ipv4-addr", "value": "198.51.100.7"}),
        json!({"type": "ipv6-addr", "value": "2001:db8:dead:beef::1"}),
        json!({"type": "domain-name", "value": "example.com", "resolves_to_refs": ["ipv4-addr--1"]}),
        json!({"type": "process", "pid": 4, "name": "System", "command_line": "C:\\x>-add GlobalSign.cer -c -s -r localMachine Root",
               "extensions": {"windows-service-ext": {"service_name": "evilsvc"}}}),
        json!({"type": "artifact", "payload_bin": "dGhpcyBpcyBhIHRlc3Q=", "mime_type": "application/octet-stream"}),
        json!({"type": "user-account", "account_login": "Peter", "user_id": "1007", "is_privileged": true}),
        json!({"type": "windows-registry-key", "key": "HKEY_LOCAL_MACHINE\\Software\\Run", "values": [{"name": "x"}]}),
    ]
}

fn p(s: &str) -> Pattern {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> PatternError {
    parse(s).expect_err(s)
}

#[test]
fn spec_examples_parse_and_round_trip() {
    assert!(SPEC_EXAMPLES.len() >= 15);
    for text in SPEC_EXAMPLES {
        let parsed = p(text);
        let printed = parsed.to_string();
        assert_eq!(p(&printed), parsed, "{text}\n  printed as {printed}");
        assert_eq!(p(&printed).to_string(), printed, "printing is not stable for {text}");
    }
}

#[test]
fn canonical_form() {
    let cases = [
        ("[file:name = 'a']", "[file:name = 'a']"),
        ("  [ file : 'name' == 'a' ]  ", "[file:name = 'a']"),
        ("[file:size <> 5]", "[file:size != 5]"),
        ("([a:b = 1] OR [a:b = 2]) OR [a:b = 3]", "[a:b = 1] OR [a:b = 2] OR [a:b = 3]"),
        ("([a:b = 1] OR [a:b = 2]) AND [a:b = 3]", "([a:b = 1] OR [a:b = 2]) AND [a:b = 3]"),
        ("[a:b = 1] OR [a:b = 2] AND [a:b = 3]", "[a:b = 1] OR [a:b = 2] AND [a:b = 3]"),
        (
            "[a:b = 1] FOLLOWEDBY ([a:b = 2] FOLLOWEDBY [a:b = 3])",
            "[a:b = 1] FOLLOWEDBY [a:b = 2] FOLLOWEDBY [a:b = 3]",
        ),
        ("(([a:b = 1]))", "[a:b = 1]"),
        ("[((a:b = 1) AND a:c = 2) OR a:d = 3]", "[a:b = 1 AND a:c = 2 OR a:d = 3]"),
        ("[a:b = 1 AND (a:c = 2 OR a:d = 3)]", "[a:b = 1 AND (a:c = 2 OR a:d = 3)]"),
        ("([a:b = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES", "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES"),
        ("([a:b = 1] AND [a:c = 2]) WITHIN 1.5 SECONDS", "([a:b = 1] AND [a:c = 2]) WITHIN 1.5 SECONDS"),
        ("[a:b = 1] WITHIN 600.0 SECONDS", "[a:b = 1] WITHIN 600 SECONDS"),
        ("[a:'x y'.'SHA-256'[0][*].z = 'its']", "[a:'x y'.'SHA-256'[0][*].z = 'its']"),
        (r"[a:b = 'it\'s \\ here']", r"[a:b = 'it\'s \\ here']"),
        ("[a:'AND' = +5 AND a:c = -.5 AND a:d = 2.0 AND a:e = 1e]", ""),
        ("[a:b = b'QQ=='] /* c */ // d", "[a:b = b'QQ==']"),
        ("[a:b = h'FFd8' AND a:c = true AND a:d = false]", "[a:b = h'ffd8' AND a:c = true AND a:d = false]"),
        ("[a:b[-1] = 1]", "[a:b[-1] = 1]"),
    ];
    for (input, want) in cases {
        match parse(input) {
            Ok(parsed) => {
                assert_eq!(parsed.to_string(), want, "{input}");
                assert_eq!(p(&parsed.to_string()), parsed);
            }
            Err(e) => assert!(want.is_empty(), "{input}: {e}"),
        }
    }
    // STIX 2.0 forms: hyphens in bare property names, START and STOP with plain strings.
    let old = p("[file:hashes.SHA-256 = 'ab'] START '2016-01-01T00:00:00Z' STOP '2016-02-01T00:00:00Z'");
    assert_eq!(
        old.to_string(),
        "[file:hashes.'SHA-256' = 'ab'] START t'2016-01-01T00:00:00Z' STOP t'2016-02-01T00:00:00Z'"
    );
    assert_eq!(p(&old.to_string()), old);
    // '' inside a string is not an escape: that case is two adjacent strings, an error.
    assert!(parse("[a:b = 'it''s']").is_err());
    let quoted = p(r"[a:'AND' = +5 AND a:c = -.5 AND a:d = 2.0]");
    assert_eq!(quoted.to_string(), "[a:'AND' = 5 AND a:c = -0.5 AND a:d = 2.0]");
}

#[test]
fn error_missing_bracket() {
    let e = err("[file:name = 'a'");
    assert_eq!(e.offset, 0x10);
    assert_eq!(e.to_string(), "at byte 16: expected ']' to close the observation expression, found end of pattern");
}

#[test]
fn error_bad_operator() {
    let e = err("[file:name ~ 'a']");
    assert_eq!(e.offset, 0x0b);
    assert!(e.message.starts_with("expected a comparison operator"), "{e}");
    assert!(e.message.ends_with("found '~'"), "{e}");
    assert_eq!(err("[file:name === 'a']").offset, 13);
    assert_eq!(err("[file:name =! 'a']").offset, 12);
}

#[test]
fn error_unterminated_string() {
    let e = err("[file:name = 'abc]");
    assert_eq!((e.offset, e.message.starts_with("unterminated string")), (0x0d, true), "{e}");
}

#[test]
fn error_bad_timestamp() {
    let e = err("[file:created = t'2022-101-27T00:00:00Z']");
    assert_eq!(e.offset, 0x10);
    assert!(e.message.contains("found t'2022-101-27T00:00:00Z'"), "{e}");
    assert_eq!(err("[file:created = t'2022-02-30T00:00:00Z']").offset, 16);
    assert_eq!(err("[file:created = t'2022-02-01T24:00:00Z']").offset, 16);
    assert_eq!(err("[file:created = t'2022-02-01T00:00:00+01:00']").offset, 16);
    assert_eq!(err("[file:created = t'2022-02-01T00:00:00Z").offset, 16);
}

#[test]
fn error_bad_hex_and_base64() {
    let e = err("[file:magic_number_hex = h'ffd8zz']");
    assert_eq!(e.offset, 0x1f);
    assert_eq!(e.message, "expected a hex digit in h'' constant, found 'z'");
    assert_eq!(err("[file:magic_number_hex = h'abc']").offset, 0x19);
    assert_eq!(err("[a:b = b'abc']").offset, 7);
    assert_eq!(err("[a:b = b'ab=c']").offset, 7);
}

#[test]
fn error_empty_pattern() {
    assert_eq!(
        err("").to_string(),
        "at byte 0: expected '[' or '(' to start an observation expression, found end of pattern"
    );
    assert_eq!(err("   ").offset, 3);
    assert_eq!(err("[]").offset, 1);
}

#[test]
fn error_other_cases_give_exact_offsets() {
    let e = err(r"[file:name = 'C:\Windows']");
    assert_eq!(e.offset, 0x10);
    assert!(e.message.contains(r"found '\W'"), "{e}");
    assert_eq!(err("[file:name = 'a'] and [file:name = 'b']").offset, 18);
    assert_eq!(err("[file:name = 'a'] [file:name = 'b']").offset, 18);
    assert_eq!(err("[file:name MATCHES '(']").offset, 19);
    assert!(err("[file:name MATCHES '(?=x)']").message.contains("regular expression"));
    assert_eq!(err("[ipv4-addr:value ISSUBSET '10.0.0.0/33']").offset, 26);
    assert_eq!(err("[ipv4-addr:value ISSUBSET 5]").offset, 26);
    assert_eq!(err("[file:size > true]").offset, 13);
    assert_eq!(err("[file:hashes.-256 = 'x']").offset, 13);
    assert_eq!(err("[file:size = 007]").offset, 13);
    assert_eq!(err("[file:size = 99999999999999999999]").offset, 13);
    assert_eq!(err("[file:size IN (1, 2]").offset, 19);
    assert_eq!(err("[file:size IN 1]").offset, 14);
    assert_eq!(err("[a:b = 1] WITHIN -5 SECONDS").offset, 17);
    assert_eq!(err("[a:b = 1] WITHIN 5 MINUTES").offset, 19);
    assert_eq!(err("[a:b = 1] REPEATS 1.5 TIMES").offset, 18);
    assert_eq!(err("[a:b = 1] START 'yesterday' STOP t'2016-01-01T00:00:00Z'").offset, 16);
    assert_eq!(err("[a:b = 1] START t'2016-01-01T00:00:00Z' STOP 5").offset, 45);
    assert_eq!(err("[a:b = 1] /* open").offset, 10);
    assert_eq!(err("[AND:b = 1]").offset, 1);
    assert_eq!(err("[a:IN = 1]").offset, 3);
    assert_eq!(err("[a b = 1]").offset, 3);
    assert_eq!(err("[a:b NOT EXISTS]").offset, 9);
    assert_eq!(err("[a:b[x] = 1]").offset, 5);
    assert_eq!(err("[a:b = 1]]").offset, 9);
    assert_eq!(err("[a:b = 1] OR").offset, 12);
}

#[test]
fn depth_bombs_are_errors_not_stack_overflows() {
    let parens = "(".repeat(10_000);
    let e = err(&parens);
    assert_eq!(e.offset, MAX_DEPTH);
    assert!(e.message.contains("levels of nested"), "{e}");
    assert_eq!(err(&"[".repeat(10_000)).offset, 1);
    assert_eq!(err(&format!("[{}", "(".repeat(10_000))).offset, MAX_DEPTH);
    assert_eq!(err(&format!("{}[a:b = 1]{}", "(".repeat(10_000), ")".repeat(10_000))).offset, MAX_DEPTH);
    // Exactly at the limit is fine: 63 parentheses and the bracket make 64 levels.
    let deep = format!("{}[a:b = 1]{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
    assert_eq!(p(&deep), p("[a:b = 1]"));
    assert_eq!(err(&format!("({deep})")).offset, MAX_DEPTH);
    // Long flat inputs are fine: no recursion per operand, qualifier or path step.
    let wide = vec!["[a:b = 1]"; 5_000].join(" OR ");
    assert!(p(&wide).matches(&[json!({"type": "a", "b": 1})]));
    let long_path = format!("[a:b{} = 1]", ".c".repeat(50_000));
    assert!(!p(&long_path).matches(&[json!({"type": "a", "b": {"c": {"c": 1}}})]));
    let qualifiers = format!("[a:b = 1]{}", " WITHIN 1 SECONDS".repeat(10_000));
    assert!(p(&qualifiers).matches(&[json!({"type": "a", "b": 1})]));
}

#[test]
fn limits() {
    let long = format!("[a:b = '{}']", "x".repeat(MAX_PATTERN_LEN));
    assert_eq!(err(&long).offset, MAX_PATTERN_LEN);
    let list = format!("[a:b IN ({})]", vec!["1"; MAX_LIST_LEN + 1].join(","));
    assert!(err(&list).message.contains("IN list"));
    let types: Vec<String> = (0..=MAX_TYPES_PER_OBSERVATION).map(|i| format!("t{i}:x = 1")).collect();
    assert!(err(&format!("[{}]", types.join(" OR "))).message.contains("object types"));
}

#[test]
fn simple_gives_kind_and_canonical_value() {
    use IndicatorKind as K;
    let sha256 = "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F";
    let lower = sha256.to_ascii_lowercase();
    let quoted = format!("[file:hashes.'SHA-256' = '{sha256}']");
    let bare = format!("[file:hashes.SHA256 = '{sha256}']");
    let quoted_bare = format!("[file:hashes.'SHA256' = '{sha256}']");
    let lower_case = format!("[file:hashes.'sha-256' = '{sha256}']");
    let bare_hyphen = format!("[file:hashes.sha-256 = '{sha256}']");
    let cases: &[(&str, Option<(K, &str)>)] = &[
        (&quoted, Some((K::Sha256, &lower))),
        (&bare, Some((K::Sha256, &lower))),
        (&quoted_bare, Some((K::Sha256, &lower))),
        (&lower_case, Some((K::Sha256, &lower))),
        (&bare_hyphen, Some((K::Sha256, &lower))),
        ("[file:hashes.MD5 = 'CEAD3F77F6CDA6EC00F57D76C9A6879F']", Some((K::Md5, "cead3f77f6cda6ec00f57d76c9a6879f"))),
        (
            "[file:hashes.'md5' = 'cead3f77f6cda6ec00f57d76c9a6879f']",
            Some((K::Md5, "cead3f77f6cda6ec00f57d76c9a6879f")),
        ),
        (
            "[file:hashes.'SHA-1' = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709']",
            Some((K::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
        ),
        (
            "[file:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
            Some((K::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
        ),
        ("[file:name = 'Invoice.SCR']", Some((K::FileName, "Invoice.SCR"))),
        ("[domain-name:value = 'Evil.Example.COM.']", Some((K::Domain, "evil.example.com"))),
        ("[ipv4-addr:value = '198.51.100.7']", Some((K::Ipv4, "198.51.100.7"))),
        ("[ipv6-addr:value = '2001:DB8::1']", Some((K::Ipv6, "2001:db8::1"))),
        ("[url:value = 'http://example.com/Foo']", Some((K::Url, "http://example.com/Foo"))),
        ("[user-account:account_login = 'peter']", Some((K::Account, "peter"))),
        ("[user-account:user_id = '1007']", Some((K::Account, "1007"))),
        (
            "[mutex:name = 'Global\\\\MsWinZonesCacheCounterMutexA']",
            Some((K::Mutex, "Global\\MsWinZonesCacheCounterMutexA")),
        ),
        ("[windows-registry-key:key = 'HKLM\\\\Run']", Some((K::RegistryKey, "HKLM\\Run"))),
        ("[process:extensions.'windows-service-ext'.service_name = 'mssecsvc2.0']", Some((K::Service, "mssecsvc2.0"))),
        // Not simple:
        ("[file:hashes.MD5 = 'not-hex']", None),
        ("[file:hashes.MD5 = 'cead3f77']", None),
        ("[file:hashes.'SHA-512' = 'cead3f77f6cda6ec00f57d76c9a6879f']", None),
        ("[file:name = 'a' OR file:name = 'b']", None),
        ("[file:name = 'a' AND file:size = 3]", None),
        ("[file:name = 'a'] AND [file:name = 'b']", None),
        ("[file:name = 'a'] WITHIN 5 SECONDS", None),
        ("[file:name != 'a']", None),
        ("[file:name NOT = 'a']", None),
        ("[file:name LIKE 'a%']", None),
        ("[file:name = 5]", None),
        ("[file:name = '']", None),
        ("[file:parent_directory_ref.path = 'C:']", None),
        ("[domain-name:value = '.']", None),
        ("[process:name = 'x']", None),
    ];
    for (pattern, want) in cases {
        let want = want.map(|(k, v)| (k, v.to_string()));
        assert_eq!(p(pattern).simple(), want, "{pattern}");
    }
}

#[test]
fn object_types_and_comparisons() {
    let pat = p(SPEC_EXAMPLES[23]);
    let types: Vec<String> = pat.object_types().into_iter().collect();
    assert_eq!(types, ["domain-name", "ipv4-addr", "ipv6-addr"]);
    let listed: Vec<String> =
        pat.comparisons().iter().map(|c| format!("{} {} {:?}", c.path, c.operator(), c.test)).collect();
    assert_eq!(listed.len(), 4);
    assert!(listed[0].starts_with("ipv4-addr:value = Compare(Eq, String(\"198.51.100.1/32\"))"), "{listed:?}");
    let exists = p("[EXISTS windows-registry-key:values]");
    assert_eq!(exists.comparisons()[0].operator(), "EXISTS");
}

/// Checks each pattern against the fixed observation from `obs()`.
fn check(cases: &[(&str, bool)]) {
    let observation = obs();
    for (pattern, want) in cases {
        assert_eq!(p(pattern).matches(&observation), *want, "{pattern}");
    }
}

/// `=`, with hashes compared as case-insensitive hex.
#[test]
fn matches_equal_and_hashes() {
    check(&[
        ("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", true),
        ("[file:hashes.SHA256 = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']", true),
        ("[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c']", false),
        ("[file:name = 'invoice.scr']", true),
        ("[file:name = 'INVOICE.SCR']", false),
        ("[file:size = 2048]", true),
        ("[file:size = 2048.0]", true),
        ("[file:size = '2048']", false),
        ("[user-account:is_privileged = true]", true),
        ("[user-account:is_privileged = false]", false),
    ]);
}

/// `!=` and `NOT`: a missing property never matches.
#[test]
fn matches_not_equal_and_not() {
    check(&[
        ("[file:name != 'invoice.scr']", true), // notes.txt
        ("[file:name != 'x' AND file:size = 2048]", true),
        ("[file:name != 'invoice.scr' AND file:size = 2048]", false),
        ("[file:name NOT = 'invoice.scr' AND file:size = 10]", true),
        ("[file:missing != 'x']", false),
        ("[file:missing NOT = 'x']", false),
    ]);
}

/// `<`, `<=`, `>`, `>=` on numbers, strings, timestamps and list elements.
#[test]
fn matches_ordering() {
    check(&[
        ("[file:size > 2000]", true),
        ("[file:size > 5000]", false),
        ("[file:size < 11 AND file:name = 'notes.txt']", true),
        ("[file:size <= 10 AND file:name = 'invoice.scr']", false),
        ("[file:size >= 2048 AND file:size <= 2048]", true),
        ("[file:size NOT > 100]", true),
        ("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", true),
        ("[file:extensions.'windows-pebinary-ext'.sections[0].entropy > 7.0]", false),
        ("[file:extensions.'windows-pebinary-ext'.sections[1].entropy > 7.0]", true),
        ("[file:extensions.'windows-pebinary-ext'.sections[-1].entropy > 7.0]", false),
        ("[file:created = t'2014-01-13T07:03:17Z']", true),
        ("[file:created > t'2014-01-13T07:03:16.999Z']", true),
        ("[file:created > t'2014-01-13T07:03:17.001Z']", false),
        ("[file:name > 'a' AND file:name < 'j']", true),
    ]);
}

#[test]
fn matches_in() {
    check(&[
        ("[file:size IN (1, 2048, 3)]", true),
        ("[file:size IN (1, 2, 3)]", false),
        ("[file:name IN ('a', 'notes.txt')]", true),
        ("[file:size NOT IN (10, 2048)]", false),
        ("[file:size NOT IN (1, 2)]", true),
        ("[file:size IN ()]", false),
    ]);
}

#[test]
fn matches_like() {
    check(&[
        ("[file:name LIKE '%.scr']", true),
        ("[file:name LIKE 'inv_ice.%']", true),
        ("[file:name LIKE 'inv%ice%scr']", true),
        ("[file:name LIKE '%.exe']", false),
        ("[file:name LIKE 'invoice']", false),
        ("[file:name LIKE '%%%']", true),
        ("[file:name NOT LIKE '%.scr' AND file:size = 2048]", false),
    ]);
}

#[test]
fn matches_regex() {
    check(&[
        (r"[file:name MATCHES '^inv.*\\.scr$']", true),
        ("[file:name MATCHES 'voice']", true),
        ("[file:name MATCHES '^voice']", false),
        ("[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$']", true),
        ("[file:name NOT MATCHES 'voice' AND file:size = 2048]", false),
    ]);
}

/// CIDR containment, IPv4 and IPv6 kept apart.
#[test]
fn matches_issubset_issuperset() {
    check(&[
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", true),
        ("[ipv4-addr:value ISSUBSET '198.51.101.0/24']", false),
        ("[ipv4-addr:value ISSUBSET '0.0.0.0/0']", true),
        ("[ipv4-addr:value ISSUBSET '198.51.100.7']", true),
        ("[ipv4-addr:value ISSUPERSET '198.51.100.7/32']", true),
        ("[ipv4-addr:value ISSUPERSET '198.51.100.0/24']", false),
        ("[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", true),
        ("[ipv6-addr:value ISSUBSET '2001:db8:dead:bef0::/64']", false),
        ("[ipv6-addr:value ISSUBSET '::/0']", true),
        ("[ipv4-addr:value ISSUBSET '::/0']", false),
        ("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", true),
    ]);
}

#[test]
fn matches_exists() {
    check(&[
        ("[EXISTS windows-registry-key:values]", true),
        ("[EXISTS file:hashes.MD5]", true),
        ("[EXISTS file:hashes.'SHA-512']", false),
    ]);
}

/// `b''` and `h''` constants compare as bytes.
#[test]
fn matches_binary_and_hex() {
    check(&[
        ("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']", true),
        ("[artifact:payload_bin = h'7468697320697320612074657374']", true),
        ("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3U=']", false),
        ("[file:magic_number_hex = h'ffd8']", true),
        ("[file:magic_number_hex = h'ffd9']", false),
    ]);
}

/// AND within one type needs one object; different types may use different objects.
#[test]
fn matches_and_binds_one_object_per_type() {
    check(&[
        ("[file:name = 'invoice.scr' AND file:size = 10]", false),
        ("[file:name = 'notes.txt' AND file:size = 10]", true),
        ("[file:name = 'invoice.scr' AND ipv4-addr:value = '198.51.100.7']", true),
        ("[file:name = 'invoice.scr' AND (file:size = 10 OR process:pid = 4)]", true),
        ("[file:name = 'invoice.scr' AND (file:size = 10 OR process:pid = 5)]", false),
        ("[(file:name = 'notes.txt' OR ipv4-addr:value = 'x') AND (file:size = 2048 OR ipv4-addr:value = 'y')]", false),
        ("[(file:name = 'notes.txt' OR process:pid = 4) AND (file:size = 2048 OR process:name = 'System')]", true),
        ("[file:name = 'x' OR nosuch:thing = 1]", false),
    ]);
}

#[test]
fn matches_refs_are_not_followed() {
    check(&[
        ("[domain-name:resolves_to_refs[*].value = '198.51.100.7']", false),
        ("[domain-name:resolves_to_refs[*] = 'ipv4-addr--1']", true),
    ]);
}

#[test]
fn matches_observation_operators_ignoring_qualifiers() {
    check(&[
        ("[file:name = 'invoice.scr'] AND [ipv4-addr:value = '198.51.100.7']", true),
        ("[file:name = 'invoice.scr'] AND [ipv4-addr:value = '10.0.0.1']", false),
        ("[file:name = 'x'] OR [ipv4-addr:value = '198.51.100.7']", true),
        ("[file:name = 'invoice.scr'] FOLLOWEDBY [domain-name:value = 'example.com'] WITHIN 5 SECONDS", true),
        ("[file:name = 'invoice.scr'] REPEATS 5 TIMES", true),
        ("[file:name = 'invoice.scr'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", true),
        ("([file:name = 'x'] OR [file:name = 'notes.txt']) AND [process:pid = 4]", true),
    ]);
}

#[test]
fn matches_odd_observations() {
    // Hash algorithms also match loosely the other way round.
    let loose = [json!({"type": "file", "hashes": {"sha256": "AB"}})];
    assert!(p("[file:hashes.'SHA-256' = 'ab']").matches(&loose));
    assert!(!p("[file:name = 'a']").matches(&[]));
    assert!(!p("[file:name = 'a']").matches(&[json!("not an object"), json!({"name": "a"}), json!({"type": 5})]));
}

#[test]
fn matching_budget_caps_coupled_types() {
    // Ten types, each shared by two AND-ed parts, over ten objects per type: 10^10
    // bindings without the budget. It must end quickly, reporting no match.
    let mut parts = Vec::new();
    for i in 0..10 {
        parts.push(format!("(t{i}:a = 1 OR t{}:b = 1)", (i + 1) % 10));
    }
    parts.push("t0:never = 1".into());
    let pattern = p(&format!("[{}]", parts.join(" AND ")));
    let observation: Vec<Value> =
        (0..10).flat_map(|t| (0..10).map(move |_| json!({"type": format!("t{t}"), "a": 0}))).collect();
    let started = std::time::Instant::now();
    assert!(!pattern.matches(&observation));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn base64_round_trips() {
    for len in 0..40u8 {
        let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37).wrapping_add(200)).collect();
        let text = lexer::encode_base64(&bytes);
        assert_eq!(lexer::decode_base64(&text), Some(bytes));
    }
    assert_eq!(lexer::encode_base64(b"this is a test"), "dGhpcyBpcyBhIHRlc3Q=");
    for bad in ["a", "ab", "abc", "a===", "ab=c", "ab==cd==", "ab!c"] {
        assert_eq!(lexer::decode_base64(bad), None, "{bad}");
    }
}

#[test]
fn timestamps() {
    let leap = p("[a:b = t'2016-12-31T23:59:60Z']");
    assert_eq!(leap.to_string(), "[a:b = t'2016-12-31T23:59:60Z']");
    let frac = p("[a:b = t'2016-01-20T12:31:12.123456789123Z']");
    assert_eq!(p(&frac.to_string()), frac);
    assert!(frac.matches(&[json!({"type": "a", "b": "2016-01-20T13:31:12.123456789+01:00"})]));
    assert!(p("[a:b = t'2016-02-29T00:00:00Z']").matches(&[json!({"type": "a", "b": "2016-02-29T00:00:00Z"})]));
    assert!(parse("[a:b = t'2015-02-29T00:00:00Z']").is_err());
    assert!(parse("[a:b = t'2016-01-20t12:31:12Z']").is_err());
    assert!(parse("[a:b = t'2016-01-20T12:31:12.Z']").is_err());
}

/// A tiny xorshift generator: deterministic, so a failure replays exactly.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const PIECES: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "'",
    "\\",
    ":",
    ".",
    ",",
    "*",
    "=",
    "!=",
    "<",
    ">=",
    "%",
    "_",
    "-",
    "+",
    "0",
    "7",
    ".5",
    " AND ",
    " OR ",
    " NOT ",
    " IN ",
    " LIKE ",
    " MATCHES ",
    " ISSUBSET ",
    " ISSUPERSET ",
    " EXISTS ",
    " FOLLOWEDBY ",
    " WITHIN 5 SECONDS",
    " REPEATS 2 TIMES",
    " START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
    "t'",
    "h'ff'",
    "b'QQ=='",
    "[*]",
    "[0]",
    "file:name",
    "'a%'",
    "/*",
    "*/",
    "//",
    "é",
    "\u{2003}",
    "true",
    "(1,2)",
];

fn mutate(rng: &mut XorShift, seed: &str) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let len = bytes.len();
        match rng.below(7) {
            0 if len > 0 => bytes[rng.below(len)] = rng.next() as u8,
            1 if len > 0 => bytes[rng.below(len)] ^= 1 << rng.below(8),
            2 => bytes.truncate(rng.below(len + 1)),
            3 if len > 0 => {
                let start = rng.below(len);
                let end = start + rng.below(len - start + 1);
                let copy = bytes[start..end].to_vec();
                let at = rng.below(len + 1);
                bytes.splice(at..at, copy);
            }
            4 if len > 0 => {
                let start = rng.below(len);
                let end = start + rng.below((len - start).min(8) + 1);
                bytes.drain(start..end);
            }
            _ => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                let at = rng.below(len + 1);
                bytes.splice(at..at, piece.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_inputs_never_panic_and_round_trip() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let observation = obs();
    let (mut parsed, mut matched) = (0, 0);
    for i in 0..20_000 {
        let seed = SPEC_EXAMPLES[i % SPEC_EXAMPLES.len()];
        let input = if i % 50 == 0 {
            // Now and then, pure noise from the pieces.
            (0..rng.below(30)).map(|_| PIECES[rng.below(PIECES.len())]).collect()
        } else {
            mutate(&mut rng, seed)
        };
        match parse(&input) {
            Ok(pattern) => {
                parsed += 1;
                matched += usize::from(pattern.matches(&observation));
                let printed = pattern.to_string();
                let again = parse(&printed).unwrap_or_else(|e| panic!("{input:?} printed as {printed:?}: {e}"));
                assert_eq!(again, pattern, "{input:?} printed as {printed:?}");
            }
            Err(e) => assert!(e.offset <= input.len(), "{input:?}: {e}"),
        }
    }
    // The mutations must leave enough valid patterns to exercise the matcher too.
    assert!(parsed > 2_000, "only {parsed} of 20000 mutated inputs parsed");
    assert!(matched > 100, "only {matched} parsed inputs matched");
}

#[test]
fn hundred_thousand_deep_patterns_are_errors_naming_the_place() {
    // On a test thread (2 MiB of stack, less than the main thread's).
    let n = 100_000;
    for deep in [
        "(".repeat(n),
        "[".repeat(n),
        format!("{}[a:b = 1]{}", "(".repeat(n), ")".repeat(n)),
        format!("[{}a:b = 1{}]", "(".repeat(n), ")".repeat(n)),
        format!("[a:b = 1]{}", " AND ([a:b = 1]".repeat(n)),
    ] {
        let e = err(&deep);
        assert!(e.offset <= deep.len(), "{e}");
        assert!(["nested", "expected", "over the limit"].iter().any(|w| e.message.contains(w)), "{e}");
    }
    let e = err(&format!("{}[a:b = 1]{}", "(".repeat(n), ")".repeat(n)));
    assert_eq!(e.offset, MAX_DEPTH);
    assert!(e.message.contains(&format!("at most {MAX_DEPTH} levels")), "{e}");
}
