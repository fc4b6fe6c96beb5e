//! Planted trees: files built to be found, for the demo, the tests and the
//! benchmarks. From a YARA rule file, one file per rule carrying the rule's own text
//! strings behind an MZ header; for the demo, a small host that WannaCry went through,
//! registry included.

use std::io::Write;
use std::path::{Path, PathBuf};
use takedown_hive::HiveBuilder;

/// The text strings of each rule in a YARA source, in the forms their modifiers ask
/// for (ASCII, UTF-16LE for `wide`). Hex strings, regular expressions and strings
/// with `xor` or `base64` are left out: a planted file only needs to be plausible.
pub fn rule_strings(source: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut out: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for line in source.lines() {
        let t = line.trim();
        let rule_line = t.strip_prefix("private ").unwrap_or(t);
        if let Some(rest) = rule_line.strip_prefix("rule ") {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push((name, Vec::new()));
            continue;
        }
        let Some(last) = out.last_mut() else { continue };
        let Some(eq) = t.find('=') else { continue };
        if !t.starts_with('$') {
            continue;
        }
        let value = t[eq + 1..].trim_start();
        let Some(body) = value.strip_prefix('"') else { continue };
        let Some((text, modifiers)) = split_string(body) else { continue };
        if modifiers.contains("xor") || modifiers.contains("base64") {
            continue;
        }
        let wide = modifiers.contains("wide");
        let ascii = modifiers.contains("ascii") || !wide;
        if ascii {
            last.1.push(text.clone());
        }
        if wide {
            last.1.push(text.iter().flat_map(|&b| [b, 0]).collect());
        }
    }
    out
}

/// Splits `text" modifiers` at the closing quote, unescaping the text.
fn split_string(body: &str) -> Option<(Vec<u8>, String)> {
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some((out, body[i + 1..].to_string())),
            b'\\' => {
                let next = *bytes.get(i + 1)?;
                match next {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'x' => {
                        let hex = body.get(i + 2..i + 4)?;
                        out.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    other => out.push(other),
                }
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// Writes one planted file per rule of `rules` (a YARA source) into `dir`:
/// `MZ`, padding, then each string between NUL bytes. Returns the files written.
pub fn plant_rules(dir: &Path, stem: &str, rules: &str) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (rule, strings) in rule_strings(rules) {
        if strings.is_empty() {
            continue;
        }
        let path = dir.join(format!("{stem}__{rule}.bin"));
        let mut f = std::fs::File::create(&path)?;
        let mut body = b"MZ\x90\x00".to_vec();
        body.resize(512, 0);
        for s in strings {
            body.extend_from_slice(&s);
            body.extend_from_slice(b"\x00\x00");
        }
        f.write_all(&body)?;
        written.push(path);
    }
    Ok(written)
}

/// A small host WannaCry went through: the worm and encryptor in `Windows`, a
/// user's documents encrypted (one original still there, the others lost), the
/// ransom notes, and a zip in the downloads holding the encryptor.
pub fn plant_demo_host(root: &Path) -> std::io::Result<()> {
    let windows = root.join("Windows");
    let docs = root.join("Users/ana/Documents");
    let downloads = root.join("Users/ana/Downloads");
    for d in [&windows, &docs, &downloads] {
        std::fs::create_dir_all(d)?;
    }
    let mut worm = b"MZ\x90\x00".to_vec();
    worm.resize(256, 0);
    worm.extend_from_slice(
        b"http://www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com\x00mssecsvc2.0\x00tasksche.exe\x00",
    );
    std::fs::write(windows.join("mssecsvc.exe"), &worm)?;
    let mut encryptor = b"MZ\x90\x00".to_vec();
    encryptor.resize(256, 0);
    encryptor
        .extend_from_slice(b"WanaCrypt0r\x00.WNCRY\x00@Please_Read_Me@.txt\x00c.wnry\x00t.wnry\x00attrib +h .\x00");
    std::fs::write(windows.join("tasksche.exe"), &encryptor)?;
    for (name, keep_original) in [("budget-2017.xlsx", false), ("thesis.docx", false), ("photo.jpg", true)] {
        let mut enc = b"WANACRY!".to_vec();
        enc.extend_from_slice(&[0x5a; 120]);
        std::fs::write(docs.join(format!("{name}.WNCRY")), &enc)?;
        if keep_original {
            std::fs::write(docs.join(name), b"\xff\xd8\xff\xe0 a photo")?;
        }
    }
    std::fs::write(
        docs.join("@Please_Read_Me@.txt"),
        "Q:  What's wrong with my computer?\nA:  Ooops, your files have been encrypted!\nRun @WanaDecryptor@ and send $300 worth of bitcoin.\n",
    )?;
    std::fs::write(docs.join("notes.txt"), "ordinary notes, nothing to see\n")?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("invoice/tasksche.exe", zip::write::SimpleFileOptions::default()).map_err(std::io::Error::other)?;
    zip.write_all(&encryptor)?;
    let zip = zip.finish().map_err(std::io::Error::other)?.into_inner();
    std::fs::write(downloads.join("invoice.zip"), zip)?;
    plant_demo_registry(root)
}

/// The host's registry as WannaCry leaves it: in SYSTEM the worm's service
/// `mssecsvc2.0` and the encryptor's service under a random name, whose command is
/// `tasksche.exe`; in ana's NTUSER.DAT a `Run` value under the same name and the
/// `WanaCrypt0r` key. Each hive also holds entries of a clean Windows beside them.
fn plant_demo_registry(root: &Path) -> std::io::Result<()> {
    const RANDOM: &str = "xqgbkfjpeizmw463";
    let config = root.join("Windows/System32/config");
    std::fs::create_dir_all(&config)?;
    let mut h = HiveBuilder::new(r"\SystemRoot\System32\Config\SYSTEM");
    let values = [
        h.string("ImagePath", r"C:\WINDOWS\mssecsvc.exe -m security"),
        h.string("DisplayName", "Microsoft Security Center (2.0) Service"),
        h.dword("Start", 2),
    ];
    let worm = h.key("mssecsvc2.0", &[], &values);
    let values = [h.string("ImagePath", r"System32\drivers\tcpip.sys"), h.dword("Start", 0)];
    let tcpip = h.key("Tcpip", &[], &values);
    let values =
        [h.string("ImagePath", &format!(r#"cmd.exe /c "C:\ProgramData\{RANDOM}\tasksche.exe""#)), h.dword("Start", 2)];
    let encryptor = h.key(RANDOM, &[], &values);
    let services = h.key("Services", &[worm, tcpip, encryptor], &[]);
    let control_set = h.key("ControlSet001", &[services], &[]);
    let current = [h.dword("Current", 1)];
    let select = h.key("Select", &[], &current);
    let system = h.key("ROOT", &[control_set, select], &[]);
    std::fs::write(config.join("SYSTEM"), h.finish(system))?;

    let ana = root.join("Users/ana");
    let mut h = HiveBuilder::new(r"\??\C:\Users\ana\ntuser.dat");
    let values = [
        h.string("OneDrive", r#""C:\Users\ana\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background"#),
        h.string(RANDOM, &format!(r#""C:\ProgramData\{RANDOM}\tasksche.exe""#)),
    ];
    let run = h.key("Run", &[], &values);
    let current_version = h.key("CurrentVersion", &[run], &[]);
    let windows = h.key("Windows", &[current_version], &[]);
    let microsoft = h.key("Microsoft", &[windows], &[]);
    let wd = [h.string("wd", &format!(r"C:\ProgramData\{RANDOM}"))];
    let wana = h.key("WanaCrypt0r", &[], &wd);
    let software = h.key("Software", &[microsoft, wana], &[]);
    let user = h.key("ROOT", &[software], &[]);
    std::fs::write(ana.join("NTUSER.DAT"), h.finish(user))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_per_rule_with_their_forms() {
        let src = r#"
rule one {
  strings:
    $a = "plain" ascii wide
    $b = "quote \" and \x41" fullword
    $h = { 4D 5A }
    $x = "hidden" xor
  condition: all of them
}
private rule two { strings: $c = "c" condition: $c }
"#;
        let found = rule_strings(src);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "one");
        assert_eq!(found[0].1, vec![b"plain".to_vec(), b"p\0l\0a\0i\0n\0".to_vec(), b"quote \" and A".to_vec()]);
        assert_eq!(found[1].0, "two");
    }
}
