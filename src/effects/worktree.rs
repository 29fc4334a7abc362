//! Lists the files a snapshot holds: every regular file and symbolic link under the work tree
//! that git would not ignore (`.gitignore` files, the repository's `info/exclude`, the global
//! excludes file), tracked by the person's repository or not, with its `lstat`. Never enters a
//! `.git` folder nor an embedded repository (a folder holding its own `.git`), never follows a
//! link, and leaves out files over the size cap, naming them. Reads only.
//!
//! The walk is plain `read_dir`, each file's `lstat` taken relative to its open folder (no
//! path lookup from the root for each of thousands of files), the `lstat`s shared out among
//! the CPUs once the walk has found the files; the ignore rules are matched by the `ignore`
//! crate's gitignore matcher (the one ripgrep uses), deepest `.gitignore` first.

use super::stat_cache::FileStat;
use anyhow::{bail, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Instant;

/// One file of the work tree.
#[derive(Debug, Clone)]
pub struct Found {
    /// Relative to the work tree, `/`-separated.
    pub path: Vec<u8>,
    pub stat: FileStat,
}

/// The files, and those left out for their size (`path (N bytes)`).
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<Found>,
    pub skipped: Vec<String>,
}

/// How many entries the walk reads between two looks at the clock.
const CLOCK_EVERY: usize = 64;

/// Lists `work_tree` (see the module doc), giving up at `deadline`.
pub fn list(work_tree: &Path, size_cap: u64, deadline: Instant) -> Result<Listing> {
    let mut walk = Walk {
        deadline,
        seen: 0,
        rules: Vec::new(),
        outer: outer_rules(work_tree),
        files: Vec::new(),
    };
    walk.folder(work_tree, &[])?;
    let stats = stat_all(&walk.files, deadline)?;
    let mut listing = Listing::default();
    for ((_, path), stat) in walk.files.into_iter().zip(stats) {
        let Some(stat) = stat else {
            continue; // gone, or neither a file nor a link
        };
        if stat.mode != 0o120000 && stat.size > size_cap {
            let shown = String::from_utf8_lossy(&path);
            listing
                .skipped
                .push(format!("{shown} ({} bytes)", stat.size));
            continue;
        }
        listing.files.push(Found { path, stat });
    }
    listing.skipped.sort();
    Ok(listing)
}

/// Below this many files one thread takes every `lstat`.
const PARALLEL_STAT_FILES: usize = 512;

/// The `lstat` of each file (None: gone, or neither a file nor a link), in order. The calls
/// are most of a snapshot's time and each waits on the kernel alone, so they are shared out
/// among the CPUs.
fn stat_all(
    files: &[(std::fs::DirEntry, Vec<u8>)],
    deadline: Instant,
) -> Result<Vec<Option<FileStat>>> {
    let stat_part = |part: Vec<&(std::fs::DirEntry, Vec<u8>)>| -> Result<Vec<Option<FileStat>>> {
        let mut out = Vec::with_capacity(part.len());
        for (n, (entry, _)) in part.into_iter().enumerate() {
            if n.is_multiple_of(CLOCK_EVERY) && Instant::now() >= deadline {
                bail!("the snapshot ran out of time reading the files' status");
            }
            out.push(entry.metadata().ok().as_ref().and_then(FileStat::of));
        }
        Ok(out)
    };
    crate::parallel::in_order(files.iter().collect(), 4, PARALLEL_STAT_FILES, stat_part)
}

/// The rules below every `.gitignore`: the repository's `info/exclude`, then the person's
/// global excludes file; each rooted at the work tree.
fn outer_rules(work_tree: &Path) -> Vec<Gitignore> {
    let mut rules = Vec::new();
    let exclude = work_tree.join(".git/info/exclude");
    if exclude.is_file() {
        let mut builder = GitignoreBuilder::new(work_tree);
        builder.add(&exclude);
        rules.extend(builder.build().ok());
    }
    rules.push(GitignoreBuilder::new(work_tree).build_global().0);
    rules
}

struct Walk {
    deadline: Instant,
    seen: usize,
    /// The `.gitignore` rules of the folders from the root down to the current one.
    rules: Vec<Gitignore>,
    outer: Vec<Gitignore>,
    /// The files not ignored, with their paths, in walk order (their status is read after).
    files: Vec<(std::fs::DirEntry, Vec<u8>)>,
}

impl Walk {
    /// Lists the folder `abs` (`rel` from the work tree) and the folders under it.
    fn folder(&mut self, abs: &Path, rel: &[u8]) -> Result<()> {
        // A folder that cannot be read, or one gone since its parent was read: left out.
        let Ok(read) = std::fs::read_dir(abs) else {
            return Ok(());
        };
        let entries: Vec<std::fs::DirEntry> = read.flatten().collect();
        let named = |name: &str| entries.iter().any(|e| e.file_name() == name);
        if !rel.is_empty() && named(".git") {
            return Ok(()); // an embedded repository: git would not add its files either
        }
        let own_rules = named(".gitignore");
        if own_rules {
            let mut builder = GitignoreBuilder::new(abs);
            builder.add(abs.join(".gitignore"));
            self.rules
                .push(builder.build().unwrap_or_else(|_| Gitignore::empty()));
        }
        for entry in entries {
            self.seen += 1;
            if self.seen.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.deadline {
                bail!("the snapshot ran out of time listing the files");
            }
            self.entry(entry, rel)?;
        }
        if own_rules {
            self.rules.pop();
        }
        Ok(())
    }

    fn entry(&mut self, entry: std::fs::DirEntry, folder: &[u8]) -> Result<()> {
        let name = entry.file_name();
        if name == ".git" {
            return Ok(());
        }
        let Ok(kind) = entry.file_type() else {
            return Ok(());
        };
        let abs = entry.path();
        if self.ignored(&abs, kind.is_dir()) {
            return Ok(());
        }
        let mut path = folder.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(name.as_bytes());
        if kind.is_dir() {
            return self.folder(&abs, &path);
        }
        self.files.push((entry, path));
        Ok(())
    }

    /// What git decides for `abs`: the deepest `.gitignore` with a rule for it, else
    /// `info/exclude`, else the global file.
    fn ignored(&self, abs: &Path, is_dir: bool) -> bool {
        for rules in self.rules.iter().rev().chain(&self.outer) {
            match rules.matched(abs, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}
