//! Zip archives, opened in memory and their members handed back one by one, within
//! limits that a hostile archive cannot talk its way past: the sizes a zip declares
//! are not trusted, every member is read through a counter.

use std::io::{Cursor, Read};

/// Archives inside archives are followed this deep (the file on disk is depth 0).
pub const MAX_DEPTH: usize = 3;
/// Members read from one archive, nested ones included.
pub const MAX_MEMBERS: usize = 10_000;
/// Bytes expanded from one archive on disk, nested ones included: generous for
/// real archives, and where a zip bomb (42.zip expands to petabytes) is stopped.
pub const MAX_EXPANDED: u64 = 512 << 20;

/// Whether `data` starts like a zip archive.
pub fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04")
}

/// Why an archive was not followed to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// More than [`MAX_EXPANDED`] bytes, or a member larger than the sweep's
    /// size limit: reported as a possible zip bomb.
    Bomb {
        expanded: u64,
    },
    TooManyMembers,
    /// Not readable as a zip (damaged, or only starts like one).
    Damaged(String),
}

/// What reading an archive came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    pub members: u64,
    pub expanded: u64,
    /// Members passed over: encrypted ones, and archives nested beyond [`MAX_DEPTH`].
    pub passed_over: u64,
    pub stop: Option<Stop>,
}

/// Budget shared by an archive and the archives inside it.
#[derive(Debug)]
struct Budget {
    member_limit: u64,
    report: ArchiveReport,
}

/// Reads every member of the zip in `data` (and of zips inside it, to
/// [`MAX_DEPTH`]) and calls `visit(member_path, bytes)` for each file member.
/// `member_limit` is the largest member to read (the sweep's `--max-filesize`).
pub fn walk(data: &[u8], member_limit: u64, visit: &mut dyn FnMut(&str, &[u8])) -> ArchiveReport {
    let mut budget = Budget { member_limit, report: ArchiveReport::default() };
    walk_at(data, 1, "", &mut budget, visit);
    budget.report
}

fn walk_at(data: &[u8], depth: usize, prefix: &str, budget: &mut Budget, visit: &mut dyn FnMut(&str, &[u8])) {
    let mut zip = match zip::ZipArchive::new(Cursor::new(data)) {
        Ok(z) => z,
        Err(e) => {
            if depth == 1 {
                budget.report.stop = Some(Stop::Damaged(e.to_string()));
            }
            return;
        }
    };
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        if budget.report.stop.is_some() {
            return;
        }
        if budget.report.members as usize >= MAX_MEMBERS {
            budget.report.stop = Some(Stop::TooManyMembers);
            return;
        }
        let mut member = match zip.by_index(i) {
            Ok(m) => m,
            // Encrypted or an unsupported method: nothing to read without the key.
            Err(_) => {
                budget.report.passed_over += 1;
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        budget.report.members += 1;
        // A name that is not valid text is still a member to check.
        let name = match member.name() {
            Ok(n) => format!("{prefix}{n}"),
            Err(_) => format!("{prefix}member-{i}"),
        };
        let left = MAX_EXPANDED.saturating_sub(budget.report.expanded);
        let cap = left.min(budget.member_limit);
        buf.clear();
        // One byte past the cap tells "exactly the cap" from "more".
        let read = (&mut member).take(cap + 1).read_to_end(&mut buf);
        budget.report.expanded += buf.len() as u64;
        if let Err(e) = read {
            budget.report.stop = Some(Stop::Damaged(format!("{name}: {e}")));
            return;
        }
        if buf.len() as u64 > cap {
            budget.report.stop = Some(Stop::Bomb { expanded: budget.report.expanded });
            return;
        }
        visit(&name, &buf);
        if is_zip(&buf) {
            if depth < MAX_DEPTH {
                let inner = std::mem::take(&mut buf);
                walk_at(&inner, depth + 1, &format!("{name}!"), budget, visit);
            } else {
                budget.report.passed_over += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated))
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn members_and_nested_members_are_visited() {
        let inner = zip_of(&[("evil.exe", b"MZ evil")]);
        let outer = zip_of(&[("readme.txt", b"hello"), ("inner.zip", &inner)]);
        let mut seen = Vec::new();
        let report = walk(&outer, 1 << 20, &mut |name, data| seen.push((name.to_string(), data.len())));
        assert_eq!(
            seen,
            [("readme.txt".into(), 5), ("inner.zip".into(), inner.len()), ("inner.zip!evil.exe".into(), 7)]
        );
        assert_eq!(report.members, 3);
        assert!(report.stop.is_none());
    }

    #[test]
    fn a_bomb_is_stopped_not_followed() {
        // 64 MiB of zeros deflate to a few tens of KiB; with a 1 MiB member limit
        // the reader stops after 1 MiB + 1 byte, whatever the header declares.
        let zeros = vec![0u8; 64 << 20];
        let bomb = zip_of(&[("zeros.bin", &zeros)]);
        assert!(bomb.len() < 1 << 20);
        let mut visited = 0;
        let report = walk(&bomb, 1 << 20, &mut |_, _| visited += 1);
        assert_eq!(visited, 0);
        assert_eq!(report.stop, Some(Stop::Bomb { expanded: (1 << 20) + 1 }));
    }

    #[test]
    fn garbage_that_starts_like_a_zip_is_damaged() {
        let report = walk(b"PK\x03\x04 not really", 1 << 20, &mut |_, _| {});
        assert!(matches!(report.stop, Some(Stop::Damaged(_))));
    }
}
