//! Every key of a hive, once, without recursion: the tree is walked with a stack of
//! its own, each key node is entered once however many lists name it, and depth is
//! bounded, so no hive can loop the reader or overflow its stack.

use crate::error::HiveError;
use crate::hive::Hive;
use crate::key::Key;
use std::collections::HashSet;

/// Windows refuses to create keys nested deeper than 512 levels.
pub const MAX_DEPTH: usize = 512;

/// Problems kept word for word; the rest are only counted.
const KEPT_PROBLEMS: usize = 10;

/// What the walk read and what it had to leave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkReport {
    /// Keys visited.
    pub keys: u64,
    /// Parts of the hive that could not be read (the keys below a damaged list, a
    /// loop, a key too deep): the first few, word for word...
    pub problems: Vec<HiveError>,
    /// ... and how many there were in all.
    pub problem_count: u64,
}

impl WalkReport {
    fn problem(&mut self, e: HiveError) {
        self.problem_count += 1;
        if self.problems.len() < KEPT_PROBLEMS {
            self.problems.push(e);
        }
    }
}

impl<'a> Hive<'a> {
    /// Calls `visit` with every key's path below the root (names joined by `\`; the
    /// root itself has the empty path) and the key, parents before children, each
    /// level in the hive's order. A part that cannot be read is counted in the report
    /// and the walk goes on with the rest.
    pub fn walk(&self, visit: &mut dyn FnMut(&str, &Key<'_>)) -> Result<WalkReport, HiveError> {
        let root = self.root()?;
        let mut report = WalkReport::default();
        let mut entered = HashSet::new();
        entered.insert(root.cell());
        // The path is kept as one string cut back and extended as the walk goes
        // (`ends[d]`: its length at depth d): a path is never copied per key, so
        // a deep, wide hive costs no more memory than its names.
        let mut path = String::new();
        let mut ends: Vec<usize> = vec![0];
        let mut stack = vec![(0usize, String::new(), root)];
        while let Some((depth, name, key)) = stack.pop() {
            if depth > 0 {
                ends.truncate(depth);
                path.truncate(ends[depth - 1]);
                if depth > 1 {
                    path.push('\\');
                }
                path.push_str(&name);
                ends.push(path.len());
            }
            report.keys += 1;
            visit(&path, &key);
            let subkeys = match key.subkeys() {
                Ok(s) => s,
                Err(e) => {
                    report.problem(e);
                    continue;
                }
            };
            if !subkeys.is_empty() && depth + 1 > MAX_DEPTH {
                report.problem(HiveError::TooDeep { offset: key.file_offset(), limit: MAX_DEPTH });
                continue;
            }
            // Pushed in reverse, so that they come off the stack in the hive's order.
            for sub in subkeys.into_iter().rev() {
                if !entered.insert(sub.cell()) {
                    report.problem(HiveError::Loop { offset: sub.file_offset() });
                    continue;
                }
                stack.push((depth + 1, sub.name(), sub));
            }
        }
        Ok(report)
    }
}
