//! WannaCry's own traces on a file system, recognised by name and header rather
//! than by rules: files it encrypted (`.WNCRY`, and `.WNCRYT` while it works), its
//! ransom notes and decryptor, and — what no scanner reports — the files whose
//! originals are gone, which is the data the organisation lost.

use std::path::Path;

/// The header WannaCry writes at the start of every file it encrypts.
pub const ENCRYPTED_MAGIC: &[u8] = b"WANACRY!";

/// Names WannaCry gives its notes and decryptor, lower-case.
const NOTE_NAMES: [&str; 6] = [
    "@please_read_me@.txt",
    "@wanadecryptor@.exe",
    "@wanadecryptor@.exe.lnk",
    "@wanadecryptor@.bmp",
    "!please read me!.txt",
    "!wannadecryptor!.exe",
];

/// One artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artefact {
    /// `wannacry-encrypted-file`, `wannacry-partial-file`, `wannacry-ransom-note`,
    /// `data-loss`.
    pub name: &'static str,
    pub what: String,
    /// For data loss: the original's path.
    pub original: Option<String>,
}

/// Artefacts of the file at `path` whose first bytes are `head`. `exists` answers
/// whether a path exists (the file system, or a set in tests).
pub fn check(path: &Path, head: &[u8], exists: &dyn Fn(&Path) -> bool) -> Vec<Artefact> {
    let mut out = Vec::new();
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return out;
    };
    let lower = name.to_lowercase();
    let magic = head.starts_with(ENCRYPTED_MAGIC);
    if let Some(stem) = strip_suffix_ci(name, ".wncry") {
        let what = if magic {
            "a file encrypted by WannaCry (.WNCRY, WANACRY! header)".to_string()
        } else {
            "a file named as WannaCry names what it encrypted (.WNCRY)".to_string()
        };
        out.push(Artefact { name: "wannacry-encrypted-file", what, original: None });
        let original = path.with_file_name(stem);
        if !stem.is_empty() && !exists(&original) {
            out.push(Artefact {
                name: "data-loss",
                what: format!("{} was encrypted by WannaCry and the original is gone", original.display()),
                original: Some(original.display().to_string()),
            });
        }
    } else if strip_suffix_ci(name, ".wncryt").is_some() {
        out.push(Artefact {
            name: "wannacry-partial-file",
            what: "a WannaCry temporary file (.WNCRYT), written while it encrypts".into(),
            original: None,
        });
    } else if magic {
        out.push(Artefact {
            name: "wannacry-encrypted-file",
            what: "a file encrypted by WannaCry (WANACRY! header), renamed".into(),
            original: None,
        });
    }
    if NOTE_NAMES.contains(&lower.as_str()) {
        out.push(Artefact { name: "wannacry-ransom-note", what: format!("WannaCry's {name}"), original: None });
    }
    out
}

fn strip_suffix_ci<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = name.len().checked_sub(suffix.len())?;
    (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(suffix)).then(|| &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Artefact]) -> Vec<&str> {
        found.iter().map(|a| a.name).collect()
    }

    #[test]
    fn an_encrypted_file_without_its_original_is_data_loss() {
        let gone = |_: &Path| false;
        let found = check(Path::new("/home/ana/report.docx.WNCRY"), b"WANACRY!\x00\x01", &gone);
        assert_eq!(names(&found), ["wannacry-encrypted-file", "data-loss"]);
        assert_eq!(found[1].original.as_deref(), Some("/home/ana/report.docx"));
    }

    #[test]
    fn an_encrypted_file_whose_original_is_there_is_not_loss() {
        let there = |p: &Path| p == Path::new("/d/a.txt");
        assert_eq!(names(&check(Path::new("/d/a.txt.wncry"), b"WANACRY!", &there)), ["wannacry-encrypted-file"]);
    }

    #[test]
    fn notes_partial_files_and_renamed_ciphertext() {
        let gone = |_: &Path| false;
        assert_eq!(names(&check(Path::new("/d/@Please_Read_Me@.txt"), b"", &gone)), ["wannacry-ransom-note"]);
        assert_eq!(names(&check(Path::new("/d/x.WNCRYT"), b"", &gone)), ["wannacry-partial-file"]);
        assert_eq!(names(&check(Path::new("/d/blob"), b"WANACRY!", &gone)), ["wannacry-encrypted-file"]);
        assert!(check(Path::new("/d/ordinary.txt"), b"hello", &gone).is_empty());
        // A bare ".WNCRY" has no original to lose.
        assert_eq!(names(&check(Path::new("/d/.WNCRY"), b"", &gone)), ["wannacry-encrypted-file"]);
    }
}
