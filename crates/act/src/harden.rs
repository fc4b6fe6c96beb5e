//! Hardening against the worm: SMB1 off and MS17-010 patched. What to change on each
//! platform, and reading a Samba configuration for its lowest protocol.

use crate::ActError;
use serde::Serialize;
use std::path::Path;

/// What a Samba configuration says about SMB1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SambaSetting {
    pub file: String,
    /// `server min protocol` (or its older name `min protocol`) in `[global]`, as
    /// written; None when the file leaves it at Samba's default.
    pub server_min_protocol: Option<String>,
    pub smb1_allowed: bool,
    pub evidence: String,
}

/// Reads `server min protocol` from the `[global]` section of an smb.conf. Samba
/// 4.11 and later default to SMB2_02, so a file that does not set it refuses SMB1.
pub fn samba_min_protocol(path: &Path) -> Result<SambaSetting, ActError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ActError::Input(format!("cannot read the Samba configuration {}: {e}", path.display())))?;
    let mut in_global = false;
    let mut value = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_global = line.eq_ignore_ascii_case("[global]");
            continue;
        }
        let Some((key, v)) = line.split_once('=') else { continue };
        // Samba ignores case and spaces in parameter names.
        let key: String = key.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        if in_global && (key == "serverminprotocol" || key == "minprotocol") {
            value = Some(v.trim().to_string());
        }
    }
    let smb1_allowed = value.as_deref().is_some_and(|v| {
        let v = v.to_ascii_uppercase();
        matches!(v.as_str(), "NT1" | "LANMAN1" | "LANMAN2" | "CORE" | "COREPLUS")
    });
    let evidence = match &value {
        Some(v) if smb1_allowed => format!("server min protocol = {v}: SMB1 is allowed"),
        Some(v) => format!("server min protocol = {v}: SMB1 is refused"),
        None => "server min protocol not set: Samba 4.11 and later default to SMB2_02, SMB1 refused".into(),
    };
    Ok(SambaSetting { file: path.display().to_string(), server_min_protocol: value, smb1_allowed, evidence })
}

/// One way to apply the fix on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub platform: &'static str,
    pub how: &'static str,
}

/// The fixes recorded with a harden action, for every platform a host may run.
/// The update numbers are Microsoft's MS17-010 bulletin; later cumulative updates
/// supersede them.
pub fn fixes(smb1: bool, vulnerable: bool) -> Vec<Fix> {
    let mut out = Vec::new();
    if smb1 {
        out.extend([
            Fix {
                platform: "Windows 8.1 / Server 2012 R2 and later (PowerShell)",
                how: "Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force",
            },
            Fix {
                platform: "Windows 10 / Server 2016 and later (optional feature)",
                how: "Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol",
            },
            Fix {
                platform: "Windows 7 / Server 2008 R2 (registry)",
                how: "HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Parameters SMB1 (REG_DWORD) = 0, then restart",
            },
            Fix { platform: "Samba (smb.conf, [global])", how: "server min protocol = SMB2_02" },
        ]);
    }
    if vulnerable {
        out.extend([
            Fix { platform: "Windows Vista / Server 2008", how: "install KB4012598" },
            Fix {
                platform: "Windows 7 / Server 2008 R2",
                how: "install KB4012212 (security only) or KB4012215 (monthly rollup)",
            },
            Fix { platform: "Windows Server 2012", how: "install KB4012214 or KB4012217" },
            Fix { platform: "Windows 8.1 / Server 2012 R2", how: "install KB4012213 or KB4012216" },
            Fix { platform: "Windows 10 RTM (1507)", how: "install KB4012606" },
            Fix { platform: "Windows 10 1511", how: "install KB4013198" },
            Fix { platform: "Windows 10 1607 / Server 2016", how: "install KB4013429" },
        ]);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn conf(text: &str) -> SambaSetting {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("smb.conf");
        std::fs::write(&p, text).unwrap();
        samba_min_protocol(&p).unwrap()
    }

    #[test]
    fn reads_global_min_protocol() {
        assert!(conf("[global]\n  Server Min Protocol = NT1\n").smb1_allowed);
        assert!(!conf("[global]\nserver min protocol = SMB2_02\n").smb1_allowed);
        // Only [global] counts; a share cannot set it.
        assert!(!conf("[global]\n[share]\nserver min protocol = NT1\n").smb1_allowed);
        assert_eq!(conf("[global]\n# server min protocol = NT1\n").server_min_protocol, None);
    }

    #[test]
    fn fixes_name_the_updates() {
        let f = fixes(true, true);
        assert!(f.iter().any(|f| f.how.contains("KB4012212")));
        assert!(f.iter().any(|f| f.how.contains("EnableSMB1Protocol $false")));
        assert!(fixes(false, false).is_empty());
    }
}
