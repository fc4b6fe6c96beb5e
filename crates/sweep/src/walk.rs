//! The sweep itself: a parallel walk of the roots (ripgrep's walker, with its
//! ignore-file handling off: a sweep must see every file), each worker thread
//! reading and checking files with its own scanner. A file that cannot be read is
//! counted, never fatal.

use crate::archive::Stop;
use crate::error::SweepError;
use crate::hit::Hit;
use crate::ruleset::Ruleset;
use crate::scan::{FileScanner, Seen};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use takedown_hive::{HiveError, WalkReport};

/// Files larger than this are checked by name only, unless `--max-filesize` says
/// otherwise: the size Loki and THOR use, past which malware is rare.
pub const DEFAULT_MAX_FILESIZE: u64 = 64 << 20;

/// A file that takes longer than this to check is named in the summary: one such
/// file can hold up a whole sweep, and it is usually a rule worth looking at.
pub const SLOW_FILE: std::time::Duration = std::time::Duration::from_secs(2);

/// Problems kept word for word in a summary; beyond this they are only counted.
pub const MAX_NOTICES: usize = 100;

/// File systems a sweep never enters: kernel views that are not files, and network
/// mounts, whose files belong to (and are swept on) another machine.
const SKIPPED_FS: [&str; 27] = [
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "mqueue",
    "hugetlbfs",
    "configfs",
    "fusectl",
    "binfmt_misc",
    "autofs",
    "efivarfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "fuse.sshfs",
    "ceph",
    "glusterfs",
    "9p",
];

/// How to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub roots: Vec<PathBuf>,
    pub threads: usize,
    pub excludes: Vec<String>,
    pub max_filesize: u64,
    pub one_file_system: bool,
    pub follow_symlinks: bool,
    pub scan_archives: bool,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            roots: vec![PathBuf::from("/")],
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            excludes: Vec::new(),
            max_filesize: DEFAULT_MAX_FILESIZE,
            one_file_system: false,
            follow_symlinks: false,
            scan_archives: true,
        }
    }
}

/// Running counts, readable from another thread for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub hits: AtomicU64,
}

/// What a sweep did, for the end of a report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub files_per_second: f64,
    pub mb_per_second: f64,
    pub findings: u64,
    /// Entries that could not be read, all causes together.
    pub errors: u64,
    pub permission_denied: u64,
    /// Gone between being listed and being read.
    pub vanished: u64,
    pub unreadable: u64,
    /// Larger than the size limit: checked by name and path only.
    pub too_large: u64,
    pub archives: u64,
    pub archive_members: u64,
    /// Archives not followed to the end: zip bombs, too many members, damage.
    pub archives_stopped: u64,
    /// Registry hives read.
    pub hives: u64,
    /// Hives of which a part, or all, could not be read (each named in a notice).
    pub hives_damaged: u64,
    /// Mount points passed over (kernel and network file systems).
    pub skipped_mounts: Vec<String>,
    /// The first [`MAX_NOTICES`] problems, sorted.
    pub notices: Vec<String>,
}

#[derive(Default)]
struct Counters {
    files: AtomicU64,
    bytes: AtomicU64,
    denied: AtomicU64,
    vanished: AtomicU64,
    unreadable: AtomicU64,
    too_large: AtomicU64,
    archives: AtomicU64,
    members: AtomicU64,
    stopped: AtomicU64,
    hives: AtomicU64,
    hives_damaged: AtomicU64,
}

/// Sweeps the roots; returns the hits, sorted, and the summary.
pub fn sweep(ruleset: &Ruleset, opts: &SweepOptions, progress: &Progress) -> Result<(Vec<Hit>, Summary), SweepError> {
    let started = Instant::now();
    for root in &opts.roots {
        std::fs::symlink_metadata(root).map_err(|source| SweepError::Root { path: root.clone(), source })?;
    }
    let excludes = exclude_set(&opts.excludes)?;
    let skipped: BTreeSet<PathBuf> = skipped_mounts();
    let mut builder = WalkBuilder::new(&opts.roots[0]);
    for root in &opts.roots[1..] {
        builder.add(root);
    }
    let skip_for_filter = skipped.clone();
    let excludes_deep = excludes.clone();
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(opts.follow_symlinks)
        .same_file_system(opts.one_file_system)
        .threads(opts.threads.max(1))
        .filter_entry(move |entry| {
            let path = entry.path();
            if entry.depth() > 0 && skip_for_filter.contains(path) {
                return false;
            }
            !excluded(&excludes, path)
        });

    let counters = Counters::default();
    let hits = Mutex::new(Vec::new());
    let notices = Mutex::new(Vec::new());
    let notice = |text: String| {
        if let Ok(mut n) = notices.lock() {
            if n.len() < MAX_NOTICES {
                n.push(text);
            }
        }
    };
    let threads = opts.threads.max(1);
    let seen = Seen::default();
    // yara-x scanners stay on the thread that made them, so the walker's threads
    // only list files, and `threads` scanner threads, each with its own scanner,
    // read and check them. Paths travel in batches: listing is much faster than
    // checking, so the walkers soon wait on a full channel, and one wait per file
    // cost a measurable share of the sweep in futex and sched_yield calls. The
    // channel is bounded: listing never runs far ahead.
    let (paths_tx, paths_rx) = crossbeam_channel::bounded::<Vec<PathBuf>>(64);
    // Directories too deep to open by path, taken after the walk (see `deep`).
    let too_deep = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let paths = paths_rx.clone();
            let (counters, hits, notice, seen) = (&counters, &hits, &notice, &seen);
            scope.spawn(move || {
                let mut scanner = FileScanner::new(ruleset, seen, opts.max_filesize, opts.scan_archives);
                let mut buf = Vec::new();
                for path in paths.iter().flatten() {
                    let found = check_file(&mut scanner, &path, &path, opts, &mut buf, counters, progress, notice);
                    if !found.is_empty() {
                        progress.hits.fetch_add(found.len() as u64, Ordering::Relaxed);
                        if let Ok(mut all) = hits.lock() {
                            all.extend(found);
                        }
                    }
                }
            });
        }
        drop(paths_rx);
        builder.build_parallel().run(|| {
            let mut batch = Batch::new(paths_tx.clone());
            let (counters, notice, too_deep) = (&counters, &notice, &too_deep);
            Box::new(move |entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        if let Some(dir) = crate::deep::too_long(&err) {
                            if let Ok(mut d) = too_deep.lock() {
                                d.push(dir);
                                return WalkState::Continue;
                            }
                        }
                        count_error(counters, err.io_error().map(std::io::Error::kind));
                        notice(err.to_string());
                        return WalkState::Continue;
                    }
                };
                // Only regular files: reading a FIFO or a device would block or
                // never end.
                if entry.file_type().is_some_and(|t| t.is_file()) && !batch.push(entry.into_path()) {
                    return WalkState::Quit;
                }
                WalkState::Continue
            })
        });
        drop(paths_tx);
        let too_deep = too_deep.into_inner().unwrap_or_else(|p| p.into_inner());
        if !too_deep.is_empty() {
            let found = sweep_too_deep(ruleset, &seen, &too_deep, &excludes_deep, opts, &counters, progress, &notice);
            progress.hits.fetch_add(found.len() as u64, Ordering::Relaxed);
            if let Ok(mut all) = hits.lock() {
                all.extend(found);
            }
        }
    });

    let mut hits = hits.into_inner().unwrap_or_else(|p| p.into_inner());
    hits.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut notices = notices.into_inner().unwrap_or_else(|p| p.into_inner());
    notices.sort();
    let seconds = started.elapsed().as_secs_f64();
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let (files, bytes) = (get(&counters.files), get(&counters.bytes));
    let errors = get(&counters.denied) + get(&counters.vanished) + get(&counters.unreadable);
    let summary = Summary {
        files,
        bytes,
        seconds,
        files_per_second: if seconds > 0.0 { files as f64 / seconds } else { 0.0 },
        mb_per_second: if seconds > 0.0 { bytes as f64 / 1e6 / seconds } else { 0.0 },
        findings: hits.len() as u64,
        errors,
        permission_denied: get(&counters.denied),
        vanished: get(&counters.vanished),
        unreadable: get(&counters.unreadable),
        too_large: get(&counters.too_large),
        archives: get(&counters.archives),
        archive_members: get(&counters.members),
        archives_stopped: get(&counters.stopped),
        hives: get(&counters.hives),
        hives_damaged: get(&counters.hives_damaged),
        skipped_mounts: skipped
            .iter()
            .filter(|m| opts.roots.iter().any(|r| m.starts_with(r)))
            .map(|m| m.display().to_string())
            .collect(),
        notices,
    };
    Ok((hits, summary))
}

/// Paths listed by one walker thread, sent to the scanners [`Batch::SIZE`] at a time;
/// what is left is sent when the walker thread is done with it (dropped).
struct Batch {
    paths: Vec<PathBuf>,
    to: crossbeam_channel::Sender<Vec<PathBuf>>,
}

impl Batch {
    /// Small enough that the two scanners finish a sweep together, large enough that
    /// the channel is rarely touched.
    const SIZE: usize = 64;

    fn new(to: crossbeam_channel::Sender<Vec<PathBuf>>) -> Batch {
        Batch { paths: Vec::with_capacity(Self::SIZE), to }
    }

    /// Adds a path; false when the scanners have gone.
    fn push(&mut self, path: PathBuf) -> bool {
        self.paths.push(path);
        self.paths.len() < Self::SIZE || self.flush()
    }

    fn flush(&mut self) -> bool {
        let full = std::mem::replace(&mut self.paths, Vec::with_capacity(Self::SIZE));
        full.is_empty() || self.to.send(full).is_ok()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Runs the checks of one file so that a panic in them (a bug in a parser, ours or a
/// library's, met on a hostile file: a zip reader, a PE parser in a YARA module)
/// costs that file and not the sweep. Without this the other scanner thread would
/// finish the tree and the sweep would then die with every finding unreported.
fn guarded<T>(path: &Path, check: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).map_err(|payload| {
        let why = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
            (Some(s), _) => s.to_string(),
            (_, Some(s)) => s.clone(),
            _ => "no message".to_string(),
        };
        format!("{}: not fully checked: an internal error stopped the checks ({why}); please report it", path.display())
    })
}

/// Checks the files below directories the walker could not enter because their
/// paths are too long, on this thread (they are rare): each is opened through its
/// open parent (see [`crate::deep`]) and reported under its whole path.
#[allow(clippy::too_many_arguments)]
fn sweep_too_deep(
    ruleset: &Ruleset,
    seen: &Seen,
    dirs: &[PathBuf],
    excludes: &GlobSet,
    opts: &SweepOptions,
    counters: &Counters,
    progress: &Progress,
    notice: &(dyn Fn(String) + Sync),
) -> Vec<Hit> {
    let mut scanner = FileScanner::new(ruleset, seen, opts.max_filesize, opts.scan_archives);
    let mut buf = Vec::new();
    let mut found = Vec::new();
    for dir in dirs {
        crate::deep::walk(dir, &|p| excluded(excludes, p), &mut |entry| match entry {
            crate::deep::Entry::File { open, path } => {
                found.extend(check_file(&mut scanner, open, path, opts, &mut buf, counters, progress, notice))
            }
            crate::deep::Entry::Error { path, error } => {
                count_error(counters, Some(error.kind()));
                notice(format!("{}: {error}", path.display()));
            }
        });
    }
    found
}

/// Reads and checks one file; problems are counted and noted, never fatal. It is
/// read at `open` and checked as the file at `path` (the same path, but for files
/// too deep to open by their whole path). A panic in the checks counts the file
/// unreadable, and the scanner, which it may have left half-way, is renewed.
#[allow(clippy::too_many_arguments)]
fn check_file(
    scanner: &mut FileScanner<'_>,
    open: &Path,
    path: &Path,
    opts: &SweepOptions,
    buf: &mut Vec<u8>,
    counters: &Counters,
    progress: &Progress,
    notice: &(dyn Fn(String) + Sync),
) -> Vec<Hit> {
    match guarded(path, || read_and_check(scanner, open, path, opts, buf, counters, progress, notice)) {
        Ok(hits) => hits,
        Err(why) => {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            notice(why);
            *scanner = scanner.renewed();
            Vec::new()
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn read_and_check(
    scanner: &mut FileScanner<'_>,
    open: &Path,
    path: &Path,
    opts: &SweepOptions,
    buf: &mut Vec<u8>,
    counters: &Counters,
    progress: &Progress,
    notice: &(dyn Fn(String) + Sync),
) -> Vec<Hit> {
    match read_file(open, opts.max_filesize, opts.follow_symlinks, buf) {
        Ok(Read_::Whole(meta)) => {
            counters.files.fetch_add(1, Ordering::Relaxed);
            counters.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            progress.files.fetch_add(1, Ordering::Relaxed);
            progress.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            let started = Instant::now();
            let report = scanner.scan(path, buf, meta.uid());
            let took = started.elapsed();
            if took > SLOW_FILE {
                notice(format!(
                    "{}: {:.1} s to check {} bytes (slow rules, or a large archive)",
                    path.display(),
                    took.as_secs_f64(),
                    buf.len()
                ));
            }
            if let Some(a) = &report.archive {
                counters.archives.fetch_add(1, Ordering::Relaxed);
                counters.members.fetch_add(a.members, Ordering::Relaxed);
                if let Some(stop) = &a.stop {
                    counters.stopped.fetch_add(1, Ordering::Relaxed);
                    notice(format!("{}: archive not followed to the end: {}", path.display(), describe(stop)));
                }
            }
            if let Some(read) = &report.hive {
                count_hive(path, read, counters, notice);
            }
            if let Some(e) = report.error {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                notice(e);
            }
            report.hits
        }
        Ok(Read_::TooLarge(meta)) => {
            counters.files.fetch_add(1, Ordering::Relaxed);
            counters.too_large.fetch_add(1, Ordering::Relaxed);
            progress.files.fetch_add(1, Ordering::Relaxed);
            scanner.scan_name(path, buf, meta.uid())
        }
        Ok(Read_::LargeHive(meta)) => {
            counters.files.fetch_add(1, Ordering::Relaxed);
            counters.too_large.fetch_add(1, Ordering::Relaxed);
            counters.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            progress.files.fetch_add(1, Ordering::Relaxed);
            progress.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            let mut hits = scanner.scan_name(path, &buf[..HEAD.min(buf.len())], meta.uid());
            let read = scanner.scan_hive(path, buf, &mut hits);
            count_hive(path, &read, counters, notice);
            hits
        }
        Err(e) => {
            count_error(counters, Some(e.kind()));
            notice(format!("{}: {e}", path.display()));
            Vec::new()
        }
    }
}

/// Counts a hive read, and names one that could not be read whole.
fn count_hive(
    path: &Path,
    read: &Result<WalkReport, HiveError>,
    counters: &Counters,
    notice: &(dyn Fn(String) + Sync),
) {
    counters.hives.fetch_add(1, Ordering::Relaxed);
    match read {
        Ok(walked) if walked.problem_count == 0 => {}
        Ok(walked) => {
            counters.hives_damaged.fetch_add(1, Ordering::Relaxed);
            let first = walked.problems.first().map(ToString::to_string).unwrap_or_default();
            notice(format!(
                "{}: registry hive read in part: {} parts could not be read (the first: {first})",
                path.display(),
                walked.problem_count
            ));
        }
        Err(e) => {
            counters.hives_damaged.fetch_add(1, Ordering::Relaxed);
            notice(format!("{}: registry hive not read: {e}", path.display()));
        }
    }
}

fn describe(stop: &Stop) -> String {
    match stop {
        Stop::Bomb { expanded } => format!("a possible zip bomb (stopped after expanding {expanded} bytes)"),
        Stop::TooManyMembers => format!("more than {} members", crate::archive::MAX_MEMBERS),
        Stop::Damaged(why) => format!("damaged: {why}"),
    }
}

fn count_error(counters: &Counters, kind: Option<std::io::ErrorKind>) {
    let c = match kind {
        Some(std::io::ErrorKind::PermissionDenied) => &counters.denied,
        Some(std::io::ErrorKind::NotFound) => &counters.vanished,
        _ => &counters.unreadable,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

#[allow(non_camel_case_types)]
enum Read_ {
    Whole(std::fs::Metadata),
    /// Too large: `buf` holds only the first bytes, for the header checks.
    TooLarge(std::fs::Metadata),
    /// Too large, but a registry hive of at most [`MAX_HIVE_BYTES`]: `buf` holds it
    /// whole, for the registry checks only.
    LargeHive(std::fs::Metadata),
}

/// The largest hive read past `--max-filesize`: a SOFTWARE hive is commonly 50 to
/// 200 MB, more than the default limit, and is where Run keys live.
pub const MAX_HIVE_BYTES: u64 = 1 << 30;

/// Bytes kept of a file too large to read, for the header checks.
const HEAD: usize = 64;

/// Reads the file into `buf`, once; a file over `max` yields its first bytes only.
fn read_file(path: &Path, max: u64, follow: bool, buf: &mut Vec<u8>) -> std::io::Result<Read_> {
    use std::os::unix::fs::OpenOptionsExt;
    buf.clear();
    // The walker listed a regular file, but it may have been replaced since (by
    // something that knows a sweep is running): by a FIFO, whose open would wait for
    // a writer forever and hang the sweep, or by a link to a device. Non-blocking,
    // not through a link unless links are followed, and only a regular file is read.
    let flags = if follow { libc::O_NONBLOCK } else { libc::O_NONBLOCK | libc::O_NOFOLLOW };
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("it is no longer a regular file (replaced while the sweep ran?)"));
    }
    if meta.len() > max {
        (&mut file).take(HEAD as u64).read_to_end(buf)?;
        if takedown_hive::is_hive(buf) && meta.len() <= MAX_HIVE_BYTES {
            buf.reserve(usize::try_from(meta.len()).unwrap_or(0));
            file.take(MAX_HIVE_BYTES - buf.len() as u64).read_to_end(buf)?;
            return Ok(Read_::LargeHive(meta));
        }
        return Ok(Read_::TooLarge(meta));
    }
    // The bytes the file held when it was opened: reading exactly that many spares
    // the read that finds the end. A file that says it is empty may still have
    // content (some pseudo-files do); it is read to its end, one byte past the limit
    // telling that it is too large.
    let limit = match meta.len() {
        0 => max + 1,
        len => {
            buf.reserve(usize::try_from(len).unwrap_or(0));
            len
        }
    };
    (&mut file).take(limit).read_to_end(buf)?;
    if buf.len() as u64 > max {
        buf.truncate(HEAD);
        return Ok(Read_::TooLarge(meta));
    }
    Ok(Read_::Whole(meta))
}

fn exclude_set(globs: &[String]) -> Result<GlobSet, SweepError> {
    let mut set = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| SweepError::BadExclude { glob: g.clone(), message: e.to_string() })?;
        set.add(glob);
    }
    set.build().map_err(|e| SweepError::BadExclude { glob: globs.join(" "), message: e.to_string() })
}

/// A glob excludes a path when it matches the whole path or, like ripgrep's
/// `--glob`, just the file name (`*.iso`, `node_modules`).
fn excluded(set: &GlobSet, path: &Path) -> bool {
    !set.is_empty() && (set.is_match(path) || path.file_name().is_some_and(|n| set.is_match(n)))
}

/// Mount points of the file systems in [`SKIPPED_FS`], from `/proc/self/mountinfo`.
pub fn skipped_mounts() -> BTreeSet<PathBuf> {
    let mut out: BTreeSet<PathBuf> = ["/proc", "/sys", "/dev"].into_iter().map(PathBuf::from).collect();
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return out;
    };
    for line in text.lines() {
        // id parent major:minor root mount-point options [optional...] - fstype source superopts
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else { continue };
        let (Some(mount), Some(fstype)) = (fields.get(4), fields.get(dash + 1)) else { continue };
        if SKIPPED_FS.contains(fstype) {
            out.insert(PathBuf::from(unescape_mount(mount)));
        }
    }
    out
}

/// mountinfo writes space, tab, newline and backslash as three-digit octal escapes.
fn unescape_mount(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let (b'\\', Some(d)) = (bytes[i], octal) {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_file_replaced_by_a_fifo_or_a_link_is_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("was-a-file");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (f, l) = (fifo.clone(), link.clone());
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let fifo = read_file(&f, 1 << 20, false, &mut buf).map(|_| ());
            let link = read_file(&l, 1 << 20, false, &mut buf).map(|_| ());
            let followed = read_file(&l, 1 << 20, true, &mut buf).map(|_| ());
            let _ = tx.send((fifo, link, followed));
        });
        let (fifo, link, followed) = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("no answer: blocked");
        assert!(fifo.unwrap_err().to_string().contains("no longer a regular file"));
        assert!(link.is_err(), "a link is not followed");
        assert!(followed.unwrap_err().to_string().contains("no longer a regular file"));
    }

    #[test]
    fn a_panic_in_the_checks_costs_the_file_not_the_sweep() {
        let path = Path::new("/t/hostile.zip");
        assert_eq!(guarded(path, || 7), Ok(7));
        let why = guarded(path, || -> u32 { panic!("index out of bounds") }).expect_err("a panic");
        assert!(why.starts_with("/t/hostile.zip: not fully checked"), "{why}");
        assert!(why.contains("(index out of bounds)"), "{why}");
        let n = 3;
        let why = guarded(path, || -> u32 { panic!("member {n} is damaged") }).expect_err("a panic");
        assert!(why.contains("(member 3 is damaged)"), "{why}");
    }

    #[test]
    fn mount_points_unescape() {
        assert_eq!(unescape_mount(r"/mnt/my\040share"), "/mnt/my share");
        assert_eq!(unescape_mount("/plain"), "/plain");
        assert_eq!(unescape_mount(r"/odd\04"), r"/odd\04");
    }

    #[test]
    fn excludes_match_paths_and_names() -> Result<(), SweepError> {
        let set = exclude_set(&["*.iso".into(), "/var/cache/**".into()])?;
        assert!(excluded(&set, Path::new("/home/a/disk.iso")));
        assert!(excluded(&set, Path::new("/var/cache/apt/x.deb")));
        assert!(!excluded(&set, Path::new("/var/lib/x")));
        assert!(matches!(exclude_set(&["a[".into()]), Err(SweepError::BadExclude { .. })));
        Ok(())
    }
}
