//! The built-in intel pack: ZINC / Lazarus Group and WannaCry, written from public
//! facts (file hashes and names, kill-switch domains, mutex, service, registry key,
//! the MS17-010 updates) with YARA rules of our own, so that takedown knows the group
//! on an empty database.

use crate::ids::stable_id;
use crate::ioc::stix_quote;
use crate::stix::IntelObject;
use serde_json::{json, Value};
use takedown_model::Tlp;

/// The pack's date: every object's `created` and `modified`. Bump it when the pack
/// changes so that stores take the new versions.
pub const PACK_STAMP: &str = "2026-11-28T00:00:00.000Z";

/// The source name objects of the pack are stored under.
pub const PACK_SOURCE: &str = "takedown built-in pack";

/// The pack's own YARA rules.
pub const WANNACRY_YARA: &str = include_str!("builtin/wannacry.yar");

/// The id of the pack's identity: the marker of whether a store holds this pack.
pub fn identity_id() -> String {
    stable_id("identity", "takedown-builtin-pack")
}

pub fn lazarus_id() -> String {
    stable_id("intrusion-set", "lazarus-group")
}

pub fn wannacry_id() -> String {
    stable_id("malware", "wannacry")
}

/// An indicator of the pack: what it is, its STIX pattern (or YARA), confidence.
struct Ioc {
    key: &'static str,
    name: String,
    description: &'static str,
    pattern: String,
    pattern_type: &'static str,
    confidence: u8,
    extra: Value,
}

const KILL_SWITCH_DOMAINS: [&str; 4] = [
    "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "iuqssfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf.com",
];

fn indicators() -> Vec<Ioc> {
    let mut out = vec![
        Ioc {
            key: "sha256-tasksche",
            name: "WannaCry encryptor (tasksche.exe)".into(),
            description: "SHA-256 of the WannaCry encryptor dropped as C:\\Windows\\tasksche.exe.",
            pattern: "[file:hashes.'SHA-256' = 'ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa']"
                .into(),
            pattern_type: "stix",
            confidence: 95,
            extra: json!({}),
        },
        Ioc {
            key: "sha256-mssecsvc",
            name: "WannaCry worm (mssecsvc.exe)".into(),
            description: "SHA-256 of the WannaCry worm component, which spreads over SMBv1 with EternalBlue.",
            pattern: "[file:hashes.'SHA-256' = '24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c']"
                .into(),
            pattern_type: "stix",
            confidence: 95,
            extra: json!({}),
        },
        Ioc {
            key: "path-windows-dropped",
            name: "WannaCry files in C:\\Windows".into(),
            description: "The worm and encryptor are written straight into the Windows directory.",
            pattern: r"(?i)(^|[\\/])Windows[\\/](mssecsvc\.exe|tasksche\.exe|qeriuwjhrf)$".into(),
            pattern_type: "pcre",
            confidence: 90,
            extra: json!({ "x_takedown_applies_to": "file-path" }),
        },
        Ioc {
            key: "mutex",
            name: "WannaCry mutex".into(),
            description: "The mutex WannaCry creates so that one copy runs at a time.",
            pattern: format!("[mutex:name = {}]", stix_quote(r"Global\MsWinZonesCacheCounterMutexA")),
            pattern_type: "stix",
            confidence: 90,
            extra: json!({}),
        },
        Ioc {
            key: "service",
            name: "WannaCry service mssecsvc2.0".into(),
            description:
                "The worm installs itself as the service mssecsvc2.0, \"Microsoft Security Center (2.0) Service\".",
            pattern: "[process:extensions.'windows-service-ext'.service_name = 'mssecsvc2.0']".into(),
            pattern_type: "stix",
            confidence: 90,
            extra: json!({}),
        },
        Ioc {
            key: "registry",
            name: "WannaCry registry key".into(),
            description: "The encryptor records its working directory in HKLM\\SOFTWARE\\WanaCrypt0r, value wd.",
            pattern: format!("[windows-registry-key:key = {}]", stix_quote(r"HKEY_LOCAL_MACHINE\SOFTWARE\WanaCrypt0r")),
            pattern_type: "stix",
            confidence: 90,
            extra: json!({}),
        },
        Ioc {
            key: "registry-user",
            name: "WannaCry registry key (user)".into(),
            description: "The encryptor also records its working directory in HKCU\\Software\\WanaCrypt0r, value wd.",
            pattern: format!("[windows-registry-key:key = {}]", stix_quote(r"HKEY_CURRENT_USER\Software\WanaCrypt0r")),
            pattern_type: "stix",
            confidence: 90,
            extra: json!({}),
        },
        Ioc {
            key: "yara",
            name: "takedown WannaCry rules".into(),
            description: "YARA rules for WannaCry binaries, encrypted files and ransom notes.",
            pattern: WANNACRY_YARA.into(),
            pattern_type: "yara",
            confidence: 90,
            extra: json!({ "x_takedown_rules": [
                "takedown_WannaCry_Encrypted_File", "takedown_WannaCry_Encryptor",
                "takedown_WannaCry_Ransom_Note", "takedown_WannaCry_Worm"
            ]}),
        },
    ];
    for (name, confidence, what) in [
        ("tasksche.exe", 70, "the encryptor's name"),
        ("mssecsvc.exe", 80, "the worm's name"),
        ("qeriuwjhrf", 80, "the encryptor's earlier name, renamed to tasksche.exe"),
        ("taskdl.exe", 60, "the helper that deletes temporary files"),
        ("taskse.exe", 60, "the helper that starts the decryptor in other sessions"),
        ("@WanaDecryptor@.exe", 95, "the ransom window"),
        ("@Please_Read_Me@.txt", 95, "the ransom note"),
    ] {
        out.push(Ioc {
            key: name,
            name: format!("WannaCry file {name}"),
            description: what,
            pattern: format!("[file:name = {}]", stix_quote(name)),
            pattern_type: "stix",
            confidence,
            extra: json!({}),
        });
    }
    for (ext, what) in [
        (".WNCRY", "a file WannaCry encrypted"),
        (".WNCRYT", "a temporary file of WannaCry's encryption"),
        (".wnry", "a WannaCry component (c.wnry, t.wnry, msg\\*.wnry, ...)"),
    ] {
        out.push(Ioc {
            key: ext,
            name: format!("WannaCry artefact *{ext}"),
            description: what,
            pattern: format!("[file:name LIKE {}]", stix_quote(&format!("%{ext}"))),
            pattern_type: "stix",
            confidence: 90,
            extra: json!({}),
        });
    }
    for domain in KILL_SWITCH_DOMAINS {
        out.push(Ioc {
            key: domain,
            name: format!("WannaCry kill switch {domain}"),
            description: "WannaCry's kill switch: the worm stops spreading when this name resolves. \
                          Sinkhole it so that it resolves; never block it, which re-arms the worm.",
            pattern: format!("[domain-name:value = {}]", stix_quote(domain)),
            pattern_type: "stix",
            confidence: 95,
            extra: json!({ "x_takedown_kill_switch": true }),
        });
    }
    out
}

fn common(type_: &str, key: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), json!(type_));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert("id".into(), json!(stable_id(type_, key)));
    m.insert("created".into(), json!(PACK_STAMP));
    m.insert("modified".into(), json!(PACK_STAMP));
    m.insert("created_by_ref".into(), json!(identity_id()));
    m.insert("object_marking_refs".into(), json!([Tlp::Clear.marking_id()]));
    m
}

fn object(type_: &str, key: &str, fields: Value) -> Value {
    let mut m = common(type_, key);
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

fn relationship(source: &str, kind: &str, target: &str, fields: Value) -> Value {
    let key = format!("{source} {kind} {target}");
    let mut m = common("relationship", &key);
    m.insert("relationship_type".into(), json!(kind));
    m.insert("source_ref".into(), json!(source));
    m.insert("target_ref".into(), json!(target));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

fn attack(id: &str) -> Value {
    // No URL: STIX asks for a hash beside any URL, and the ATT&CK id is what
    // matters for matching with ATT&CK's own objects.
    json!([{ "source_name": "mitre-attack", "external_id": id }])
}

/// The pack as STIX 2.1 JSON objects.
pub fn objects_json() -> Vec<Value> {
    let lazarus = lazarus_id();
    let wannacry = wannacry_id();
    let mut out = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": identity_id(),
            "created": PACK_STAMP, "modified": PACK_STAMP,
            "name": PACK_SOURCE, "identity_class": "system",
            "description": "Intel that ships with takedown, written from public reporting.",
            "object_marking_refs": [Tlp::Clear.marking_id()],
        }),
        crate::extension::definition(&identity_id(), PACK_STAMP),
        object(
            "intrusion-set",
            "lazarus-group",
            json!({
                "name": "Lazarus Group",
                "description": "A North Korean state-sponsored group, active since at least 2009, behind the 2014 \
                                Sony Pictures attack and the WannaCry outbreak of May 2017. Microsoft tracks it as \
                                ZINC (now Diamond Sleet); the US government as HIDDEN COBRA.",
                "aliases": ["Diamond Sleet", "Guardians of Peace", "HIDDEN COBRA", "Labyrinth Chollima", "NICKEL ACADEMY", "ZINC"],
                "primary_motivation": "organizational-gain",
                "external_references": attack("G0032"),
            }),
        ),
        object(
            "malware",
            "wannacry",
            json!({
                "name": "WannaCry",
                "description": "Ransomware with a worm that spread through EternalBlue (MS17-010) over SMBv1 in May 2017; \
                                it stops spreading when its kill-switch domain resolves.",
                "is_family": true,
                "malware_types": ["ransomware", "worm"],
                "aliases": ["WCry", "WanaCry", "WanaCrypt", "WanaCrypt0r", "WannaCrypt"],
                "external_references": attack("S0366"),
            }),
        ),
        object(
            "vulnerability",
            "cve-2017-0144",
            json!({
                "name": "CVE-2017-0144",
                "description": "EternalBlue: remote code execution in the SMBv1 server of Windows, fixed by MS17-010.",
                "external_references": [{ "source_name": "cve", "external_id": "CVE-2017-0144" }],
            }),
        ),
        object(
            "course-of-action",
            "ms17-010",
            json!({
                "name": "Install MS17-010",
                "description": "Install the March 2017 security update MS17-010 or a later cumulative update: \
                                KB4012598 (Vista, 2008), KB4012212 / KB4012215 (7, 2008 R2), KB4012214 / KB4012217 (2012), \
                                KB4012213 / KB4012216 (8.1, 2012 R2), KB4012606 (10 RTM), KB4013198 (10 1511), \
                                KB4013429 (10 1607, 2016).",
            }),
        ),
        object(
            "course-of-action",
            "smbv1-off",
            json!({
                "name": "Disable SMBv1",
                "description": "Turn off the SMBv1 server: Set-SmbServerConfiguration -EnableSMB1Protocol $false, \
                                or 'server min protocol = SMB2_02' in smb.conf.",
            }),
        ),
        relationship(
            &lazarus,
            "uses",
            &wannacry,
            json!({
                "description": "WannaCry was publicly attributed to North Korea and the Lazarus Group by the United States \
                                and the United Kingdom in December 2017.",
                "confidence": 85,
            }),
        ),
    ];
    let cve = stable_id("vulnerability", "cve-2017-0144");
    out.push(relationship(&wannacry, "exploits", &cve, json!({})));
    for coa in ["ms17-010", "smbv1-off"] {
        out.push(relationship(&stable_id("course-of-action", coa), "mitigates", &cve, json!({})));
    }
    for (technique, name) in [
        ("T1210", "Exploitation of Remote Services"),
        ("T1486", "Data Encrypted for Impact"),
        ("T1543.003", "Create or Modify System Process: Windows Service"),
        ("T1490", "Inhibit System Recovery"),
    ] {
        let id = stable_id("attack-pattern", technique);
        out.push(object(
            "attack-pattern",
            technique,
            json!({ "name": name, "external_references": attack(technique) }),
        ));
        out.push(relationship(&wannacry, "uses", &id, json!({})));
    }
    for ioc in indicators() {
        let id = stable_id("indicator", &format!("builtin:{}", ioc.key));
        let mut m = common("indicator", &format!("builtin:{}", ioc.key));
        m.insert("name".into(), json!(ioc.name));
        m.insert("description".into(), json!(ioc.description));
        m.insert("indicator_types".into(), json!(["malicious-activity"]));
        m.insert("pattern".into(), json!(ioc.pattern));
        m.insert("pattern_type".into(), json!(ioc.pattern_type));
        m.insert("valid_from".into(), json!("2017-05-12T00:00:00.000Z"));
        m.insert("confidence".into(), json!(ioc.confidence));
        if let Value::Object(extra) = ioc.extra {
            m.extend(extra);
        }
        crate::extension::declare(&mut m);
        out.push(Value::Object(m));
        out.push(relationship(&id, "indicates", &wannacry, json!({})));
    }
    out
}

/// The pack as objects ready to store. The pack is written by us and checked by its
/// tests, so an object that fails validation is a bug in this file: it is left out
/// and logged rather than taking the whole tool down.
pub fn objects() -> Vec<IntelObject> {
    objects_json()
        .into_iter()
        .filter_map(|v| match IntelObject::from_value(v, None, PACK_SOURCE) {
            Ok(o) => Some(o),
            Err(problems) => {
                tracing::error!(?problems, "invalid object in the built-in pack");
                None
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_object_is_valid() {
        let raw = objects_json();
        for v in &raw {
            if let Err(p) = IntelObject::from_value(v.clone(), None, PACK_SOURCE) {
                panic!("{}: {p:?}", v["id"]);
            }
        }
        assert_eq!(objects().len(), raw.len());
    }

    #[test]
    fn rules_compile_and_are_listed() {
        let rules = crate::yara::check(std::path::Path::new("wannacry.yar"), WANNACRY_YARA).unwrap();
        let listed: Vec<String> = indicators()
            .into_iter()
            .find(|i| i.pattern_type == "yara")
            .map(|i| {
                i.extra["x_takedown_rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap();
        assert_eq!(rules, listed);
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = objects().into_iter().map(|o| o.id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
