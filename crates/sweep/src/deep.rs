//! Directories nested deeper than the system's limit on a path (`PATH_MAX`, 4,096
//! bytes on Linux). The walker opens everything by its whole path, so it cannot
//! enter them, and a file put there would go unchecked — a place to hide from
//! scanners that walk by path, as `yara -r` and `yr` do too.
//!
//! They are reached step by step through `/proc/self/fd`: each directory is opened
//! relative to its open parent (`/proc/self/fd/N/name`), so that no path handed to
//! the kernel is long, and files are read the same way. Reports keep the whole path.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Levels followed below a directory that was too deep to open by path. Each level
/// holds two descriptors while it is read (the directory and its listing), and a
/// process usually may open 1,024.
pub const MAX_LEVELS: usize = 256;

/// Whole components are joined into steps of at most this many bytes.
const STEP: usize = 2048;

/// The directory the walker could not enter because its path is too long, if that
/// is what `err` says.
pub(crate) fn too_long(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, err } if is_too_long(err) => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => too_long(err),
        _ => None,
    }
}

fn is_too_long(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Io(e) => e.raw_os_error() == Some(libc::ENAMETOOLONG),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithPath { err, .. } => is_too_long(err),
        _ => false,
    }
}

/// The path by which an entry of the open directory `dir` can be opened.
fn through(dir: &File, name: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

fn open_dir(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW).open(path)
}

/// Opens the directory `rel` below `base`, or `rel` itself without a base.
fn open_under(base: Option<&File>, rel: &Path) -> io::Result<File> {
    match base {
        Some(b) => open_dir(&through(b, rel)),
        None => open_dir(rel),
    }
}

/// Opens a directory whatever the length of its path, a few components at a time.
fn open_long(dir: &Path) -> io::Result<File> {
    let mut base: Option<File> = None;
    let mut step = PathBuf::new();
    for part in dir.components() {
        if !step.as_os_str().is_empty() && step.as_os_str().len() + part.as_os_str().len() + 1 > STEP {
            base = Some(open_under(base.as_ref(), &step)?);
            step = PathBuf::new();
        }
        step.push(part);
    }
    open_under(base.as_ref(), &step)
}

/// What [`walk`] meets below a deep directory.
pub(crate) enum Entry<'a> {
    /// A regular file: `open` is a short path to open it by, `path` its whole path.
    File { open: &'a Path, path: &'a Path },
    /// A directory that cannot be listed or entered, and why.
    Error { path: &'a Path, error: io::Error },
}

/// Visits every regular file below `dir`, which is too deep to open by path, and
/// each problem met. Symbolic links, devices and FIFOs are passed over, as the walker
/// passes them over; `skip` says which paths the sweep's excludes leave out.
pub(crate) fn walk(dir: &Path, skip: &dyn Fn(&Path) -> bool, visit: &mut dyn FnMut(Entry<'_>)) {
    match open_long(dir) {
        Ok(d) => walk_open(d, dir, 0, skip, visit),
        Err(error) => visit(Entry::Error { path: dir, error }),
    }
}

fn walk_open(dir: File, path: &Path, level: usize, skip: &dyn Fn(&Path) -> bool, visit: &mut dyn FnMut(Entry<'_>)) {
    let here = through(&dir, Path::new(""));
    let entries = match std::fs::read_dir(&here) {
        Ok(e) => e,
        Err(error) => return visit(Entry::Error { path, error }),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(error) => {
                visit(Entry::Error { path, error });
                continue;
            }
        };
        let name = PathBuf::from(entry.file_name());
        let child = path.join(&name);
        if skip(&child) {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                if level + 1 >= MAX_LEVELS {
                    let error = io::Error::other(format!("more than {MAX_LEVELS} levels below the path limit"));
                    visit(Entry::Error { path: &child, error });
                    continue;
                }
                match open_dir(&through(&dir, &name)) {
                    Ok(d) => walk_open(d, &child, level + 1, skip, visit),
                    Err(error) => visit(Entry::Error { path: &child, error }),
                }
            }
            Ok(t) if t.is_file() => visit(Entry::File { open: &through(&dir, &name), path: &child }),
            Ok(_) => {}
            Err(error) => visit(Entry::Error { path: &child, error }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A tree whose deepest folder's path is over 5,000 bytes long, under `root`.
    fn deep_tree(root: &Path) -> PathBuf {
        let mut dir = root.to_path_buf();
        let name = "d".repeat(200);
        // Made relative to an open folder, for the same reason the sweep needs to.
        let mut open = open_dir(root).unwrap();
        for _ in 0..25 {
            std::fs::create_dir(through(&open, Path::new(&name))).unwrap();
            open = open_dir(&through(&open, Path::new(&name))).unwrap();
            dir.push(&name);
        }
        std::fs::write(through(&open, Path::new("@Please_Read_Me@.txt")), b"Ooops").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", through(&open, Path::new("link"))).unwrap();
        dir
    }

    #[test]
    fn files_below_the_path_limit_are_reached() {
        let tmp = tempfile::tempdir().unwrap();
        let deepest = deep_tree(tmp.path());
        assert!(deepest.as_os_str().len() > 5000);
        assert_eq!(std::fs::read_dir(&deepest).unwrap_err().raw_os_error(), Some(libc::ENAMETOOLONG));
        // From a folder a few levels up, already too long to open by path.
        let start: PathBuf = deepest.components().take(deepest.components().count() - 3).collect();
        assert!(std::fs::read_dir(&start).is_err());
        let mut files = Vec::new();
        let mut errors = Vec::new();
        walk(&start, &|_| false, &mut |e| match e {
            Entry::File { open, path } => files.push((path.to_path_buf(), std::fs::read(open).unwrap())),
            Entry::Error { path, error } => errors.push(format!("{}: {error}", path.display())),
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(files, [(deepest.join("@Please_Read_Me@.txt"), b"Ooops".to_vec())]);
        // Excludes apply.
        let mut seen = 0;
        walk(&start, &|p| p.ends_with("@Please_Read_Me@.txt"), &mut |_| seen += 1);
        assert_eq!(seen, 0);
    }
}
