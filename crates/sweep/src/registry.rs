//! Registry hives met in a sweep (a mounted Windows volume, an image's folder tree):
//! every key checked against the intel's registry-key and service indicators, and
//! every autostart location whose command names a file the intel knows. That last
//! check is what finds WannaCry's encryptor service and `Run` value, whose names are
//! random but whose commands start `tasksche.exe`.

use crate::ruleset::{Ruleset, Source};
use takedown_hive::{Hive, HiveError, Key, Value, ValueType, WalkReport};

/// Which part of the registry a hive file holds, as Windows mounts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveKind {
    /// `HKEY_LOCAL_MACHINE\SYSTEM`
    System,
    /// `HKEY_LOCAL_MACHINE\SOFTWARE`
    Software,
    /// A user's `NTUSER.DAT`: `HKEY_CURRENT_USER`.
    User,
    /// A user's `UsrClass.dat`: `HKEY_CURRENT_USER\Software\Classes`.
    UserClasses,
    /// Any other machine hive (`SAM`, `SECURITY`, `DEFAULT`, ...), by its name.
    Machine(String),
}

impl HiveKind {
    /// From the name Windows last saved the hive under (kept in the file, so a
    /// copied or renamed hive is still known), else from the file's name.
    pub fn of(embedded: &str, file_name: &str) -> HiveKind {
        let base = |s: &str| s.rsplit(['\\', '/']).next().unwrap_or("").to_ascii_uppercase();
        let name = match base(embedded) {
            b if !b.is_empty() => b,
            _ => base(file_name),
        };
        match name.as_str() {
            "SYSTEM" => HiveKind::System,
            "SOFTWARE" => HiveKind::Software,
            "NTUSER.DAT" => HiveKind::User,
            "USRCLASS.DAT" => HiveKind::UserClasses,
            _ => HiveKind::Machine(name),
        }
    }

    /// Where the hive's root sits in the registry.
    pub fn root(&self) -> String {
        match self {
            HiveKind::System => r"HKEY_LOCAL_MACHINE\SYSTEM".into(),
            HiveKind::Software => r"HKEY_LOCAL_MACHINE\SOFTWARE".into(),
            HiveKind::User => "HKEY_CURRENT_USER".into(),
            HiveKind::UserClasses => r"HKEY_CURRENT_USER\Software\Classes".into(),
            HiveKind::Machine(name) => format!(r"HKEY_LOCAL_MACHINE\{name}"),
        }
    }
}

/// One registry entry that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMatch {
    /// The key's full path (`HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\...`).
    pub key: String,
    /// The value, when a value matched.
    pub value: Option<String>,
    /// The value's data as text (for a service key, its `ImagePath`).
    pub data: Option<String>,
    /// What matched: the indicator's key or service name, or the file name the
    /// command names.
    pub matched: String,
    pub source: Source,
}

/// An autostart location: which hive, a key path in it (normalised, see
/// [`normalise`]; `*` is any one key) and the values whose data is a command, or
/// `None` for every value.
struct Autostart {
    hive: &'static str,
    key: &'static str,
    values: Option<&'static [&'static str]>,
}

const AUTOSTART: &[Autostart] = &[
    Autostart { hive: "SYSTEM", key: r"CURRENTCONTROLSET\SERVICES\*", values: Some(&["ImagePath"]) },
    Autostart { hive: "SOFTWARE", key: r"MICROSOFT\WINDOWS\CURRENTVERSION\RUN", values: None },
    Autostart { hive: "SOFTWARE", key: r"MICROSOFT\WINDOWS\CURRENTVERSION\RUNONCE", values: None },
    Autostart { hive: "SOFTWARE", key: r"MICROSOFT\WINDOWS\CURRENTVERSION\RUNSERVICES", values: None },
    Autostart { hive: "SOFTWARE", key: r"MICROSOFT\WINDOWS\CURRENTVERSION\RUNSERVICESONCE", values: None },
    Autostart {
        hive: "SOFTWARE",
        key: r"MICROSOFT\WINDOWS NT\CURRENTVERSION\WINLOGON",
        values: Some(&["Shell", "Userinit"]),
    },
    // A scheduled task's command, in the binary `Actions` value (Windows 8 and later).
    Autostart {
        hive: "SOFTWARE",
        key: r"MICROSOFT\WINDOWS NT\CURRENTVERSION\SCHEDULE\TASKCACHE\TASKS\*",
        values: Some(&["Actions"]),
    },
    Autostart { hive: "USER", key: r"SOFTWARE\MICROSOFT\WINDOWS\CURRENTVERSION\RUN", values: None },
    Autostart { hive: "USER", key: r"SOFTWARE\MICROSOFT\WINDOWS\CURRENTVERSION\RUNONCE", values: None },
    Autostart { hive: "USER", key: r"SOFTWARE\MICROSOFT\WINDOWS NT\CURRENTVERSION\WINLOGON", values: Some(&["Shell"]) },
];

/// A key path as indicators and autostart locations are compared: upper case,
/// `ControlSet001` (any number) as `CurrentControlSet`, and a 32-bit program's view
/// under `SOFTWARE\Wow6432Node` as the key it redirects (WannaCry is a 32-bit
/// program: on 64-bit Windows its `HKLM\Software\WanaCrypt0r` is stored there).
pub fn normalise(path: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('\\').filter(|p| !p.is_empty()) {
        let upper = part.to_uppercase();
        let is_control_set =
            upper.len() == 13 && upper.starts_with("CONTROLSET") && upper[10..].bytes().all(|b| b.is_ascii_digit());
        if is_control_set {
            out.push("CURRENTCONTROLSET".into());
        } else if upper == "WOW6432NODE" && out.last().is_some_and(|p| p == "SOFTWARE") {
            continue;
        } else {
            out.push(upper);
        }
    }
    let joined = out.join("\\");
    // The short forms of the root keys.
    for (short, long) in
        [("HKLM\\", "HKEY_LOCAL_MACHINE\\"), ("HKCU\\", "HKEY_CURRENT_USER\\"), ("HKU\\", "HKEY_USERS\\")]
    {
        if let Some(rest) = joined.strip_prefix(short) {
            return format!("{long}{rest}");
        }
    }
    joined
}

/// Checks the hive in `data` (the whole file, named `file_name`). The report says
/// what of the hive could not be read; a hive that cannot be read at all is an error.
pub fn check(ruleset: &Ruleset, file_name: &str, data: &[u8]) -> Result<(Vec<RegistryMatch>, WalkReport), HiveError> {
    let hive = Hive::parse(data)?;
    let kind = HiveKind::of(hive.embedded_name(), file_name);
    let root = kind.root();
    let kind_name = match kind {
        HiveKind::System => "SYSTEM",
        HiveKind::Software => "SOFTWARE",
        HiveKind::User => "USER",
        _ => "",
    };
    let normal_root = normalise(&root);
    let mut found = Vec::new();
    let report = hive.walk(&mut |path, key| {
        let full = if path.is_empty() { root.clone() } else { format!("{root}\\{path}") };
        let normal = normalise(&full);
        // Normalised as a whole, so that the hive's own root counts (SOFTWARE's
        // `Wow6432Node` is a view of SOFTWARE itself).
        let relative = normal.strip_prefix(normal_root.as_str()).unwrap_or("").trim_start_matches('\\');
        for source in ruleset.registry_key_sources(&normal) {
            found.push(RegistryMatch {
                key: full.clone(),
                value: None,
                data: None,
                matched: source.name.clone(),
                source: source.clone(),
            });
        }
        if kind == HiveKind::System {
            if let Some(service) = service_name(relative) {
                for source in ruleset.service_sources(&service.to_lowercase()) {
                    found.push(RegistryMatch {
                        key: full.clone(),
                        value: None,
                        data: key.value("ImagePath").ok().flatten().and_then(|v| v.text().ok()),
                        matched: key.name(),
                        source: source.clone(),
                    });
                }
            }
        }
        for place in AUTOSTART {
            if place.hive == kind_name && location_matches(place.key, relative) {
                autostart(ruleset, key, &full, place.values, &mut found);
            }
        }
    })?;
    found.sort_by(|a, b| (&a.key, &a.value, &a.matched).cmp(&(&b.key, &b.value, &b.matched)));
    found.dedup_by(|a, b| (&a.key, &a.value, &a.source.indicator) == (&b.key, &b.value, &b.source.indicator));
    Ok((found, report))
}

/// `CURRENTCONTROLSET\SERVICES\NAME` gives the service's name.
fn service_name(relative: &str) -> Option<&str> {
    let mut parts = relative.split('\\');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("CURRENTCONTROLSET"), Some("SERVICES"), Some(name), None) => Some(name),
        _ => None,
    }
}

fn location_matches(location: &str, relative: &str) -> bool {
    let mut want = location.split('\\');
    let mut have = relative.split('\\');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some("*"), Some(_)) => {}
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

/// The values of an autostart key whose command names a file the intel knows.
fn autostart(ruleset: &Ruleset, key: &Key<'_>, full: &str, names: Option<&[&str]>, found: &mut Vec<RegistryMatch>) {
    let Ok(values) = key.values() else { return };
    for value in values {
        let name = value.name();
        if names.is_some_and(|n| !n.iter().any(|w| w.eq_ignore_ascii_case(&name))) {
            continue;
        }
        let Some(command) = command_text(&value) else { continue };
        for token in command_tokens(&command) {
            let file = token.rsplit(['\\', '/']).next().unwrap_or(token);
            let by_name = ruleset.name_sources(&file.to_lowercase()).map(|s| (file.to_string(), s));
            let by_path = ruleset.path_matches(token).into_iter().map(|(p, s)| (p.to_string(), s));
            for (matched, source) in by_name.chain(by_path).collect::<Vec<_>>() {
                found.push(RegistryMatch {
                    key: full.to_string(),
                    value: Some(name.clone()),
                    data: Some(command.clone()),
                    matched,
                    source: source.clone(),
                });
            }
        }
    }
}

/// A value's command: string data as it is, and from binary data (a task's
/// `Actions`) its UTF-16 strings, joined by spaces.
fn command_text(value: &Value<'_>) -> Option<String> {
    match value.value_type() {
        ValueType::String | ValueType::ExpandString | ValueType::MultiString => value.text().ok(),
        ValueType::Binary | ValueType::None => {
            let data = value.data().ok()?;
            Some(utf16_strings(&data).join(" "))
        }
        _ => None,
    }
}

/// Runs of at least four printable UTF-16LE characters.
fn utf16_strings(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for unit in data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])) {
        match char::from_u32(u32::from(unit)).filter(|c| !c.is_control()) {
            Some(c) => run.push(c),
            None => {
                if run.chars().count() >= 4 {
                    out.push(std::mem::take(&mut run));
                } else {
                    run.clear();
                }
            }
        }
    }
    if run.chars().count() >= 4 {
        out.push(run);
    }
    out
}

/// The words of a command line that may name a file: quoted parts whole, the rest
/// split at spaces (`cmd.exe /c "C:\x\tasksche.exe"` gives `cmd.exe`, `/c` and the
/// quoted path).
fn command_tokens(command: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, part) in command.split('"').enumerate() {
        if i % 2 == 1 {
            if !part.is_empty() {
                out.push(part);
            }
        } else {
            out.extend(part.split_whitespace().map(|w| w.trim_matches(',')));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_compared_as_windows_resolves_them() {
        assert_eq!(normalise(r"HKLM\Software\Wow6432Node\WanaCrypt0r"), r"HKEY_LOCAL_MACHINE\SOFTWARE\WANACRYPT0R");
        assert_eq!(
            normalise(r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\mssecsvc2.0"),
            r"HKEY_LOCAL_MACHINE\SYSTEM\CURRENTCONTROLSET\SERVICES\MSSECSVC2.0"
        );
        assert_eq!(normalise(r"ControlSet1\x"), r"CONTROLSET1\X");
        // In a SOFTWARE hive, the 32-bit view's Run key is the Run key.
        let full = normalise(r"HKEY_LOCAL_MACHINE\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run");
        let relative = full.strip_prefix(&normalise(&HiveKind::Software.root())).unwrap().trim_start_matches('\\');
        assert!(location_matches(r"MICROSOFT\WINDOWS\CURRENTVERSION\RUN", relative));
    }

    #[test]
    fn commands_are_split_as_a_shell_would() {
        assert_eq!(
            command_tokens(r#"cmd.exe /c "C:\ProgramData\ab cd\tasksche.exe""#),
            ["cmd.exe", "/c", r"C:\ProgramData\ab cd\tasksche.exe"]
        );
        assert_eq!(
            command_tokens(r"C:\WINDOWS\mssecsvc.exe -m security"),
            [r"C:\WINDOWS\mssecsvc.exe", "-m", "security"]
        );
    }

    #[test]
    fn hive_kinds_come_from_the_name_windows_saved() {
        assert_eq!(HiveKind::of(r"\SystemRoot\System32\Config\SOFTWARE", "copy.bin"), HiveKind::Software);
        assert_eq!(HiveKind::of(r"\??\C:\Users\a\ntuser.dat", "x"), HiveKind::User);
        assert_eq!(HiveKind::of("", "NTUSER.DAT"), HiveKind::User);
        assert_eq!(HiveKind::of("", "SAM"), HiveKind::Machine("SAM".into()));
    }

    #[test]
    fn locations_take_one_key_for_a_star() {
        assert!(location_matches(r"A\*", r"A\B"));
        assert!(!location_matches(r"A\*", r"A\B\C"));
        assert!(!location_matches(r"A\*", "A"));
    }
}
