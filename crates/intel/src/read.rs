//! Reading intel files: STIX bundles (plain or gzipped), IOC files and YARA rule
//! files, each turned into STIX 2.1 objects. Nothing here writes anywhere; a file is
//! either read whole or rejected whole.

use crate::bundle;
use crate::error::{IntelError, SizedKind};
use crate::ids::stable_id;
use crate::ioc::{self, IocFileKind};
use crate::stix::IntelObject;
use crate::{timestamp, yara};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Decompressed size beyond which a gzip is refused: the whole of ATT&CK Enterprise
/// is about 50 MB, so this leaves room for any real bundle while stopping a gzip bomb.
pub const MAX_DECOMPRESSED: u64 = 2 << 30;

/// Largest YARA rule file read: the largest real rule files are a few MB
/// (signature-base's largest is 1 MB, whole collections concatenated reach a few),
/// and yara-x takes about twenty times a file's size in memory to compile it.
pub const MAX_YARA_FILE: u64 = 16 << 20;

/// Largest IOC file read: signature-base's hash list is under 1 MB; feeds that
/// concatenate years of hashes stay within tens of MB.
pub const MAX_IOC_FILE: u64 = 64 << 20;

/// Largest STIX bundle read (on disk, and once decompressed): ATT&CK Enterprise, the
/// largest bundle in common use, is about 50 MB of JSON; this leaves room for five of
/// it while bounding the memory one file can take (the parsed objects take a few
/// times the text).
pub const MAX_STIX_FILE: u64 = 256 << 20;

/// How large a file of each kind may be. Sizes are checked from the file's metadata
/// before it is read, and again while reading (a pipe or a device has no size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub yara: u64,
    pub ioc: u64,
    pub stix: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { yara: MAX_YARA_FILE, ioc: MAX_IOC_FILE, stix: MAX_STIX_FILE }
    }
}

impl Limits {
    /// One limit for every kind (`--max-intel-size`).
    pub fn all(bytes: u64) -> Limits {
        Limits { yara: bytes, ioc: bytes, stix: bytes }
    }

    fn of(&self, kind: SizedKind) -> u64 {
        match kind {
            SizedKind::Yara => self.yara,
            SizedKind::Ioc => self.ioc,
            SizedKind::Stix => self.stix,
        }
    }
}

/// What kind of intel a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Stix,
    HashIocs,
    FilenameIocs,
    C2Iocs,
    Yara,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Stix => "stix",
            FileKind::HashIocs => "hash-iocs",
            FileKind::FilenameIocs => "filename-iocs",
            FileKind::C2Iocs => "c2-iocs",
            FileKind::Yara => "yara",
        }
    }

    fn sized(self) -> SizedKind {
        match self {
            FileKind::Stix => SizedKind::Stix,
            FileKind::HashIocs | FileKind::FilenameIocs | FileKind::C2Iocs => SizedKind::Ioc,
            FileKind::Yara => SizedKind::Yara,
        }
    }
}

/// One file, read.
#[derive(Debug, Clone)]
pub struct FileIntel {
    pub path: PathBuf,
    pub kind: FileKind,
    pub objects: Vec<IntelObject>,
    /// Lines skipped in IOC files, with their reasons (at most [`ioc::MAX_SKIPPED_KEPT`]).
    pub skipped: Vec<String>,
    /// How many lines were skipped in all.
    pub skipped_total: usize,
    /// For YARA files: the rules it holds.
    pub rules: Vec<String>,
}

/// Expands directories (recursively, in name order) into the files of kinds takedown
/// reads; files named directly are always taken. Returns the files, and the files in
/// directories that were passed over.
pub fn expand(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), IntelError> {
    let mut files = Vec::new();
    let mut passed_over = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files, &mut passed_over)?;
        } else {
            files.push(input.clone());
        }
    }
    Ok((files, passed_over))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, passed_over: &mut Vec<PathBuf>) -> Result<(), IntelError> {
    let read = |e| IntelError::Read { path: dir.to_path_buf(), source: e };
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(read)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(read)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, files, passed_over)?;
        } else if kind_from_name(&path).is_some() {
            files.push(path);
        } else {
            passed_over.push(path);
        }
    }
    Ok(())
}

/// The kind a file's name says it is, if it says.
pub fn kind_from_name(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    if stem.ends_with(".yar") || stem.ends_with(".yara") {
        return Some(FileKind::Yara);
    }
    if stem.ends_with(".json") || stem.ends_with(".stix") {
        return Some(FileKind::Stix);
    }
    if stem.ends_with(".txt") || stem.ends_with(".ioc") || stem.ends_with(".iocs") {
        return match IocFileKind::from_file_name(stem)? {
            IocFileKind::Hash => Some(FileKind::HashIocs),
            IocFileKind::Filename => Some(FileKind::FilenameIocs),
            IocFileKind::C2 => Some(FileKind::C2Iocs),
        };
    }
    None
}

/// What [`stream_files`] hands on, in file order.
#[derive(Debug)]
pub enum Streamed {
    /// Checked objects of the file being read.
    Objects(Vec<IntelObject>),
    /// A file read whole; its objects were handed on before.
    Done(FileDone),
    /// A file rejected; objects it handed on before must not be kept.
    Rejected(IntelError),
}

/// The report of a file read whole.
#[derive(Debug, Clone)]
pub struct FileDone {
    pub path: PathBuf,
    pub kind: FileKind,
    pub objects: usize,
    pub skipped: Vec<String>,
    pub skipped_total: usize,
    pub rules: Vec<String>,
}

/// Reads files in order and hands their objects to `emit` as they are checked:
/// STIX bundles named as such stream chunk by chunk; other files (rule sets, IOC
/// lists: many small files where YARA compilation dominates) are read on every core,
/// a run of them at a time. Every file is read even after one is rejected, so that
/// all rejections are reported; returns whether all files were read.
pub fn stream_files(files: &[PathBuf], limits: &Limits, emit: &mut (dyn FnMut(Streamed) + Send)) -> bool {
    let mut ok = true;
    let mut i = 0;
    while i < files.len() {
        let path = &files[i];
        if kind_from_name(path) == Some(FileKind::Stix) {
            i += 1;
            let source = source_name(path);
            let result = read_bytes(path, SizedKind::Stix, limits).and_then(|bytes| {
                bundle::stream(path, &bytes, &source, &mut |chunk| {
                    if ok {
                        emit(Streamed::Objects(chunk));
                    }
                })
            });
            match result {
                Ok(objects) => emit(Streamed::Done(FileDone {
                    path: path.clone(),
                    kind: FileKind::Stix,
                    objects,
                    skipped: Vec::new(),
                    skipped_total: 0,
                    rules: Vec::new(),
                })),
                Err(e) => {
                    ok = false;
                    emit(Streamed::Rejected(e));
                }
            }
            continue;
        }
        let run = files[i..].iter().take_while(|p| kind_from_name(p) != Some(FileKind::Stix)).count();
        let read: Vec<Result<FileIntel, IntelError>> =
            files[i..i + run].par_iter().map(|p| read_file(p, limits)).collect();
        i += run;
        for r in read {
            match r {
                Ok(f) => {
                    let done = FileDone {
                        path: f.path,
                        kind: f.kind,
                        objects: f.objects.len(),
                        skipped: f.skipped,
                        skipped_total: f.skipped_total,
                        rules: f.rules,
                    };
                    if ok {
                        emit(Streamed::Objects(f.objects));
                    }
                    emit(Streamed::Done(done));
                }
                Err(e) => {
                    ok = false;
                    emit(Streamed::Rejected(e));
                }
            }
        }
    }
    ok
}

fn source_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("input").to_string()
}

/// Reads one file of any kind, refusing one larger than `limits` allow.
pub fn read_file(path: &Path, limits: &Limits) -> Result<FileIntel, IntelError> {
    let named = kind_from_name(path);
    // A file of no named kind is read only if it is a STIX bundle.
    let bytes = read_bytes(path, named.map_or(SizedKind::Stix, FileKind::sized), limits)?;
    let kind = match named {
        Some(kind) => kind,
        // An unnamed kind is taken as STIX only if it looks like JSON.
        None if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => FileKind::Stix,
        None => {
            return Err(IntelError::UnknownKind {
                path: path.to_path_buf(),
                reason: "expected a STIX bundle (.json, .json.gz), a YARA file (.yar, .yara) or an IOC file \
                         (.txt whose name contains \"hash\", \"filename\" or \"c2\", as in signature-base)"
                    .into(),
            })
        }
    };
    let source = source_name(path);
    let mut out = FileIntel {
        path: path.to_path_buf(),
        kind,
        objects: Vec::new(),
        skipped: Vec::new(),
        skipped_total: 0,
        rules: Vec::new(),
    };
    match kind {
        FileKind::Stix => out.objects = bundle::parse(path, &bytes, &source)?,
        FileKind::HashIocs | FileKind::FilenameIocs | FileKind::C2Iocs => {
            let text = utf8(path, &bytes)?;
            let ioc_kind = match kind {
                FileKind::HashIocs => IocFileKind::Hash,
                FileKind::FilenameIocs => IocFileKind::Filename,
                _ => IocFileKind::C2,
            };
            let parsed = ioc::parse(text, ioc_kind, &source, &file_stamp(path));
            if parsed.objects.is_empty() {
                return Err(IntelError::Empty {
                    path: path.to_path_buf(),
                    reason: match parsed.skipped.first() {
                        Some(first) => {
                            format!("{} line(s) could not be read, the first: {first}", parsed.skipped_total)
                        }
                        None => "only comments and blank lines".into(),
                    },
                });
            }
            out.objects = parsed.objects;
            out.skipped = parsed.skipped;
            out.skipped_total = parsed.skipped_total;
        }
        FileKind::Yara => {
            let text = utf8(path, &bytes)?;
            out.rules = yara::check(path, text)?;
            // A file of comments only is valid YARA (collections leave such stubs
            // behind when rules move); it simply adds nothing.
            if out.rules.is_empty() {
                out.skipped.push("the file holds no rules (comments only)".into());
                out.skipped_total = 1;
            } else {
                out.objects.push(yara_indicator(path, &source, text, &out.rules)?);
            }
        }
    }
    Ok(out)
}

/// Reads a YARA rule file as [`read_file`] would, without compiling it: bounded by
/// `limits`, UTF-8, and no deeper than [`yara::MAX_NESTING`]. For callers that
/// compile rule files themselves (a sweep's `--rules`).
pub fn read_yara(path: &Path, limits: &Limits) -> Result<String, IntelError> {
    let bytes = read_bytes(path, SizedKind::Yara, limits)?;
    let text = utf8(path, &bytes)?;
    yara::check_nesting(path, text)?;
    Ok(text.to_string())
}

/// Reads a file whole, refusing it before reading when its metadata says it is over
/// the limit for `kind`, and while reading when it has no size to say (a pipe, a
/// device). A gzip is decompressed, and its content is held to the same limit.
fn read_bytes(path: &Path, kind: SizedKind, limits: &Limits) -> Result<Vec<u8>, IntelError> {
    let limit = limits.of(kind);
    let read_error = |source| IntelError::Read { path: path.to_path_buf(), source };
    let too_large =
        |size, decompressed| IntelError::FileTooLarge { path: path.to_path_buf(), kind, size, decompressed, limit };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(Some(meta.len()), false));
    }
    let mut raw = Vec::new();
    // The size can change between the check and the read; the read stops one byte
    // past the limit whatever the metadata said.
    file.take(limit.saturating_add(1)).read_to_end(&mut raw).map_err(read_error)?;
    if raw.len() as u64 > limit {
        return Err(too_large(None, false));
    }
    // Judge gzip by its magic number, not by its name.
    if raw.starts_with(&[0x1f, 0x8b]) {
        let ceiling = limit.min(MAX_DECOMPRESSED);
        let mut out = Vec::new();
        let mut decoder = flate2::read::MultiGzDecoder::new(raw.as_slice()).take(ceiling.saturating_add(1));
        decoder.read_to_end(&mut out).map_err(|source| IntelError::Gzip { path: path.to_path_buf(), source })?;
        if out.len() as u64 > MAX_DECOMPRESSED {
            return Err(IntelError::TooLarge { path: path.to_path_buf(), limit: MAX_DECOMPRESSED });
        }
        if out.len() as u64 > limit {
            return Err(too_large(None, true));
        }
        return Ok(out);
    }
    if path.extension().is_some_and(|e| e == "gz") {
        return Err(IntelError::Gzip {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file is named .gz but has no gzip header",
            ),
        });
    }
    Ok(raw)
}

fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, IntelError> {
    std::str::from_utf8(bytes).map_err(|e| IntelError::NotUtf8 { path: path.to_path_buf(), offset: e.valid_up_to() })
}

/// The file's modification time as a STIX timestamp: IOC files carry no dates of
/// their own, and using the file's keeps a re-import of an unchanged file unchanged.
fn file_stamp(path: &Path) -> String {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).map(chrono::DateTime::<chrono::Utc>::from);
    timestamp::millis(modified.unwrap_or_default())
}

/// A YARA file as one STIX 2.1 indicator (`pattern_type: yara`). Its id follows the
/// file's name, so importing a newer copy of the same file replaces the older.
fn yara_indicator(path: &Path, source: &str, text: &str, rules: &[String]) -> Result<IntelObject, IntelError> {
    let stamp = file_stamp(path);
    let obj = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": stable_id("indicator", &format!("yara-file:{source}")),
        "created": stamp,
        "modified": stamp,
        "name": source,
        "description": format!("YARA rule file {source}: {} rule(s)", rules.len()),
        "indicator_types": ["malicious-activity"],
        "pattern": text,
        "pattern_type": "yara",
        "valid_from": stamp,
        "x_takedown_rules": rules,
    });
    let mut obj = obj;
    if let Value::Object(m) = &mut obj {
        crate::extension::declare(m);
    }
    IntelObject::from_value(obj, None, source).map_err(|problems| IntelError::InvalidObjects {
        path: path.to_path_buf(),
        count: problems.len(),
        problems: problems.join("\n"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn truncated_json_names_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.json", b"{\"type\": \"bundle\", \"id\": \"bundle--");
        let e = read_file(&p, &Limits::default()).unwrap_err().to_string();
        assert!(e.contains("not valid JSON at line 1"), "{e}");
    }

    #[test]
    fn fake_gzip_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "t.json.gz", b"\x1f\x8bnot really");
        assert!(matches!(read_file(&p, &Limits::default()), Err(IntelError::Gzip { .. })));
        let q = write(dir.path(), "u.json.gz", b"{}");
        assert!(matches!(read_file(&q, &Limits::default()), Err(IntelError::Gzip { .. })));
    }

    #[test]
    fn gzip_bundles_read() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = br#"{"type":"bundle","id":"bundle--6e829ce5-d385-5ff1-9f98-d01f266b3b36","objects":[
            {"type":"malware","spec_version":"2.1","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
             "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","name":"WannaCry","is_family":true}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bundle).unwrap();
        let p = write(dir.path(), "b.json.gz", &gz.finish().unwrap());
        let f = read_file(&p, &Limits::default()).unwrap();
        assert_eq!(f.objects.len(), 1);
        assert_eq!(f.objects[0].name.as_deref(), Some("WannaCry"));
    }

    #[test]
    fn a_broken_object_in_the_middle_rejects_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = br#"{"type":"bundle","id":"bundle--6e829ce5-d385-5ff1-9f98-d01f266b3b36","objects":[
            {"type":"malware","spec_version":"2.1","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
             "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","name":"a","is_family":true},
            {"type":"malware","spec_version":"2.1","id":"malware--nope","created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z"},
            {"type":"malware","spec_version":"2.1","id":"malware--85ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
             "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","name":"c","is_family":true}]}"#;
        let p = write(dir.path(), "b.json", bundle);
        let e = read_file(&p, &Limits::default()).unwrap_err().to_string();
        assert!(e.contains("object 1 (malware--nope)"), "{e}");
    }

    #[test]
    fn unknown_kinds_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "keywords.txt", b"WCESERVICE\n");
        assert!(matches!(read_file(&p, &Limits::default()), Err(IntelError::UnknownKind { .. })));
    }
}
